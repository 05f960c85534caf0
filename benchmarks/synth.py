"""Synthesize a project with N specs: a copy of examples/openwebui-mini plus N specs and one router.

Each synthetic spec has what a typical feature has: a room, a join and a leave
event, and a server event with an emit helper that a router endpoint calls and
a Svelte listener. The endpoints live in one synthetic router file, one per spec.
"""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"
ROUTER = "backend/open_webui/routers/bench.py"
# Build and tool caches are not part of the app; the example's own generated code is kept.
_IGNORE = shutil.ignore_patterns("node_modules", ".svelte-kit", "__pycache__", "build", ".venv")

_SPEC = """\
name: {name}
description: Synthetic benchmark spec {i}.

rooms:
  {name}:
    pattern: "{name}:{{item_id}}"
    access: authenticated

events:
  - name: {name}:subscribe
    direction: client_to_server
    action: join
    room: {name}
    payload:
      item_id: {{type: str, min_length: 1, max_length: 128}}

  - name: {name}:unsubscribe
    direction: client_to_server
    action: leave
    room: {name}
    payload:
      item_id: str

  - name: {name}:updated
    description: Item {i} changed.
    direction: server_to_client
    room: {name}
    payload:
      item_id: str
      data: dict
    emit:
      helper: notify_{name}_updated
      from:
        - file: {router}
          function: update_{name}
          after: Features.update_feature
          args: {{item_id: item_id, data: feature.model_dump()}}
    listener: {component}
"""

_ROUTER_HEAD = '''\
"""Synthetic endpoints for the eventgen benchmark: one per synthetic spec."""

from fastapi import APIRouter, Depends

from open_webui.models.features import FeatureForm, Features
from open_webui.utils.auth import get_verified_user

router = APIRouter()
'''

_ENDPOINT = """

@router.put("/{name}/{{item_id}}")
async def update_{name}(item_id: str, form_data: FeatureForm, user=Depends(get_verified_user)):
    feature = Features.update_feature(item_id, form_data)
    return feature
"""


def spec_name(i: int) -> str:
    return f"bench_{i:04d}"


def component_name(i: int) -> str:
    return f"Bench{i:04d}Updates"


def synthesize(target: Path, count: int) -> Path:
    """Copy the example app to `target` and add `count` specs and their router endpoints."""
    shutil.copytree(EXAMPLE, target, ignore=_IGNORE)
    events = target / "events"
    router = [_ROUTER_HEAD]
    for i in range(1, count + 1):
        name = spec_name(i)
        (events / f"{name}.yaml").write_text(
            _SPEC.format(name=name, i=i, router=ROUTER, component=component_name(i)), encoding="utf-8"
        )
        router.append(_ENDPOINT.format(name=name))
    (target / ROUTER).write_text("".join(router), encoding="utf-8")
    return target
