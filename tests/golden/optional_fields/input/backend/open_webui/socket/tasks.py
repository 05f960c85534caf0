async def create_task(user, payload, sid):
    return payload.model_dump()
