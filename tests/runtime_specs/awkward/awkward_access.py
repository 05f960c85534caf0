"""Access callables for tests/runtime_specs/awkward/awkward.yaml: the room params arrive by keyword,
whatever their names, and the session user comes first, positionally."""

from typing import Any

# user id -> the grid cells (user, check) that user may enter. alice's cell and bob's cell
# would build the same unescaped name, grid:1:2:3.
GRANTS = {"alice": {("1:2", "3")}, "bob": {("1", "2:3")}}


def may_enter(session: dict[str, Any], user: str, check: str) -> bool:
    return (user, check) in GRANTS.get(session["id"], set())


async def open_spot(session: dict[str, Any], **params: str) -> bool:
    return params["sid"] == "open"
