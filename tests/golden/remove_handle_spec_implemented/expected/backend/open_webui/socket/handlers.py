"""Handlers for chat:echo and friends: yours to edit (stubs written once by eventgen)."""


async def echo(user: dict, payload, sid: str):
    """Handle `chat:echo` (events/chat.yaml).

    Written once by eventgen and yours to edit: eventgen never changes it again.
    `payload` is a validated `open_webui.socket.event_models.ChatEchoPayload`; the return value becomes the ack's `data`.
    """
    raise NotImplementedError("implement chat:echo in open_webui.socket.handlers.echo")


async def shout(user: dict, payload, sid: str):
    """Handle `chat:shout` (events/chat.yaml).

    Written once by eventgen and yours to edit: eventgen never changes it again.
    `payload` is a validated `open_webui.socket.event_models.ChatShoutPayload`; the return value becomes the ack's `data`.
    """
    return payload.text.upper()
