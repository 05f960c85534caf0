"""A router the sequenced-delivery tests copy into the app as open_webui/routers/notes.py:
each endpoint emits one event per number in the request, through the generated helper that
eventgen patches in after `Notes.record`."""

import time  # noqa: F401 - the emit calls eventgen patches in read time.time()

from fastapi import APIRouter, Depends
from open_webui.utils.auth import get_verified_user
from pydantic import BaseModel

router = APIRouter()


class Notes:
    """Stands in for the app's model layer (the anchor the emit call follows)."""

    @staticmethod
    def record(key: str, n: int) -> None:
        return None


class Bump(BaseModel):
    ns: list[int]


@router.post("/memo/{memo_id}/bump")
async def bump_memo(memo_id: str, form: Bump, user=Depends(get_verified_user)):
    for n in form.ns:
        Notes.record(memo_id, n)
    return {"ok": True, "count": len(form.ns)}


@router.post("/pad/{pad_id}/bump")
async def bump_pad(pad_id: str, form: Bump, user=Depends(get_verified_user)):
    for n in form.ns:
        Notes.record(pad_id, n)
    return {"ok": True, "count": len(form.ns)}


@router.post("/{note_id}/bump")
async def bump_note(note_id: str, form: Bump, user=Depends(get_verified_user)):
    for n in form.ns:
        Notes.record(note_id, n)
    return {"ok": True, "count": len(form.ns)}
