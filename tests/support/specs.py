"""The spec texts tests share (one copy each): events/*.yaml contents, and a builder for emit specs."""

from __future__ import annotations

# The feature spec of the small Open WebUI-shaped projects (support.project): rooms with an access
# callable, join/leave, and a server_to_client event emitted from a router's call site.

FEATURE_SPEC = """\
name: feature
description: Live updates for features.

rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: open_webui.socket.access:can_read_feature

events:
  - name: feature:subscribe
    description: Subscribe to a feature's live updates.
    direction: client_to_server
    action: join
    room: feature
    payload:
      feature_id: {type: str, min_length: 1, max_length: 128}

  - name: feature:unsubscribe
    direction: client_to_server
    action: leave
    room: feature
    payload:
      feature_id: str

  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
      data: dict
    emit:
      helper: notify_feature_update
      from:
        - file: backend/open_webui/routers/features.py
          function: update_feature
          after: Features.update_feature
          args: {feature_id: feature_id, data: feature.model_dump()}
    listener: FeatureUpdates
"""


# The same events without call sites (no router needed; no listener).
FEATURE_SPEC_NO_CALL_SITES = FEATURE_SPEC[: FEATURE_SPEC.index("      from:\n")]


# A small chat spec: every action (join, relay, handle) and a broadcast.

CHAT_SPEC = """\
name: chat
rooms:
  chat:
    pattern: "chat:{chat_id}"
    access: authenticated
events:
  - name: chat:join
    direction: client_to_server
    action: join
    room: chat
    payload:
      chat_id: str
  - name: chat:typing
    direction: client_to_server
    action: relay
    room: chat
    payload:
      chat_id: str
      typing: bool
    listener: ChatTyping
  - name: chat:ask
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:answer
    payload:
      question: {type: str, max_length: 2000, description: What the user asks.}
      tone: {type: str, enum: [plain, formal], default: plain}
  - name: chat:announce
    direction: server_to_client
    broadcast: true
    payload:
      text: str
      level: {type: int, ge: 0, le: 5, required: false}
"""


# The richer chat spec `eventgen review` tests diff against (two rooms, more payload types).

CHAT_REVIEW_SPEC = """\
name: chat
description: Chat rooms.

rooms:
  chat:
    pattern: "chat:{chat_id}"
    access: authenticated
  inbox:
    pattern: "user:{user_id}"

events:
  - name: chat:join
    direction: client_to_server
    action: join
    room: chat
    payload:
      chat_id: {type: str, max_length: 64}

  - name: chat:typing
    direction: client_to_server
    action: relay
    room: chat
    payload:
      chat_id: str
      typing: bool

  - name: chat:ask
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:answer
    payload:
      question: {type: str, max_length: 2000}
      tone: {type: str, enum: [plain, formal], default: plain}
      temperature: {type: float, ge: 0, le: 2, required: false}
      count: int

  - name: chat:vote
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:vote
    room: chat
    payload:
      chat_id: str
      choice: {type: str, enum: [up, down]}

  - name: chat:announce
    direction: server_to_client
    broadcast: true
    payload:
      text: str
      level: {type: int, ge: 0, le: 5, required: false}

  - name: chat:status
    description: What the assistant is doing.
    direction: server_to_client
    room: chat
    payload:
      chat_id: str
      state: {type: str, enum: [idle, busy]}
      note: str | None

  - name: inbox:message
    direction: server_to_client
    room: inbox
    payload:
      user_id: str
      body: str
"""


# A round trip through a user-written handler whose module does not exist yet (a stub is made).

PING_SPEC = """\
name: ping
description: A round trip through a user-written handler.

events:
  - name: ping
    direction: client_to_server
    action: handle
    handler: open_webui.handlers.ping:handle_ping
    payload:
      text: {type: str, max_length: 64}
"""


def emit_spec(sites: list[dict[str, str]], *, name: str = "feature", events: tuple[str, ...] = ("updated",)) -> str:
    """A spec whose server_to_client events are patched into router call sites.

    Each site: file, function, after (or before), and optionally args (a YAML flow mapping).
    """
    out = [
        f"name: {name}",
        "rooms:",
        "  feature:",
        '    pattern: "feature:{feature_id}"',
        "    access: authenticated",
        "events:",
    ]
    for event in events:
        out += [
            f"  - name: {name}:{event}",
            "    direction: server_to_client",
            "    room: feature",
            "    payload:",
            "      feature_id: str",
            "    emit:",
            f"      helper: emit_{name}_{event}",
            "      from:",
        ]
        for site in sites:
            out += [
                f"        - file: {site['file']}",
                f"          function: {site['function']}",
                f"          before: {site['before']}" if "before" in site else f"          after: {site['after']}",
            ]
            if "args" in site:
                out.append(f"          args: {site['args']}")
    return "\n".join(out) + "\n"
