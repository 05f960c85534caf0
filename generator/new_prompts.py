"""`eventgen new` in a terminal without event flags: ask for each part of the spec.

The answers fill the same `NewSpec` the flags fill, so both write the same YAML. Every
answer is checked as it is given (a name, a type, a file) and asked again when it is
wrong; the spec as a whole is then validated with the others, as with flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .config import Config, load_config
from .new import NewSpec
from .spec.models import (
    CALLABLE_RE,
    COMPONENT_RE,
    EVENT_NAME_RE,
    IDENT_RE,
    PATTERN_RULES,
    ROOM_PARAM_RE,
    SPEC_NAME_RE,
    event_snake,
    pascal,
)
from .spec.types import TypeSyntaxError, parse_type
from .suggest import closest_path


def _check(pattern: str, what: str) -> Callable[[str], str]:
    def convert(value: str) -> str:
        value = value.strip()
        if not re.match(pattern, value):
            raise click.BadParameter(f"{value!r} {PATTERN_RULES.get(pattern, what)}")
        return value

    return convert


def _optional(convert: Callable[[str], str]) -> Callable[[str], str]:
    """An answer that may be left empty ("-" also means none, when a default is offered)."""

    def inner(value: str) -> str:
        value = value.strip()
        return "" if value in ("", "-") else convert(value)

    return inner


def _access(value: str) -> str:
    value = value.strip()
    if value in ("authenticated", "self") or re.match(CALLABLE_RE, value):
        return value
    raise click.BadParameter("write authenticated, self or pkg.module:func")


def _room(value: str) -> str:
    value = value.strip()
    for param in ROOM_PARAM_RE.findall(value):
        if not re.match(IDENT_RE, param):
            raise click.BadParameter(f"room parameter {{{param}}} must be a Python identifier")
    if value.count("{") != value.count("}"):
        raise click.BadParameter("unbalanced '{' or '}'")
    return value


def _field(value: str) -> str:
    name, sep, type_ = value.strip().partition(":")
    if not sep or not re.match(IDENT_RE, name.strip()):
        raise click.BadParameter("write NAME:TYPE, e.g. title:str or tags:list[str]")
    try:
        parse_type(type_.strip())
    except TypeSyntaxError as exc:
        raise click.BadParameter(str(exc)) from None
    return f"{name.strip()}:{type_.strip()}"


def _refuse_early(config: Config, name: str) -> None:
    from .errors import Diagnostic, EventgenError

    if not re.match(SPEC_NAME_RE, name):
        raise EventgenError(Diagnostic("", 0, 0, f"eventgen new: spec name {name!r} {PATTERN_RULES[SPEC_NAME_RE]}"))
    for suffix in (".yaml", ".yml"):
        rel = f"{config.specs}/{name}{suffix}"
        if (config.root / rel).exists():
            raise EventgenError(
                Diagnostic(
                    rel, 0, 0, "already exists; `eventgen new` never overwrites a spec: edit it, or remove it first"
                )
            )


def _new_name(config: Config) -> Callable[[str], str]:
    from .errors import EventgenError

    def convert(value: str) -> str:
        value = value.strip()
        try:
            _refuse_early(config, value)
        except EventgenError as exc:
            raise click.BadParameter(exc.diagnostics[0].message.removeprefix("eventgen new: ")) from None
        return value

    return convert


def _ask(text: str, convert: Callable[[str], str], default: str = "") -> str:
    return str(click.prompt(text, default=default, show_default=bool(default), value_proc=convert))


def ask(root: Path, name: str | None, flags: dict[str, Any]) -> NewSpec:
    """Ask for what the flags did not say; flags given anyway (--room, --description...) are kept."""
    config = load_config(root)
    if name is not None:
        _refuse_early(config, name)  # before any question, not after the last
    click.echo("eventgen new: answer each question; Enter takes the [default], an empty answer or '-' skips the part.")
    if name is None:
        name = _ask("Spec name (snake_case, one feature)", _new_name(config))
    description = flags.get("description") or _ask("Description", _optional(str), "") or None
    room = flags.get("room")
    if room is None:
        room = _ask("Room pattern (empty: no room, broadcast only)", _optional(_room), f"{name}:{{{name}_id}}") or None
    access = flags.get("access")
    if (
        room is not None
        and access is None
        and not (room.startswith("user:{") and len(ROOM_PARAM_RE.findall(room)) == 1)
    ):
        access = _ask("Who may join (authenticated, self or pkg.module:func)", _access, "authenticated")
    event = _optional(_check(EVENT_NAME_RE, ""))
    join = leave = relay = None
    if room is not None:
        join = _ask("Join event (client joins the room)", event, f"{name}:join") or None
        leave = _ask("Leave event", event, f"{name}:leave" if join else "") or None
        relay = _ask("Relay event (client messages relayed to the room, e.g. typing)", event, "") or None
    handle = _ask("Handle event (client request your function answers)", event, "") or None
    handler = None
    if handle:
        module = config.socket_dotted.split(".")[0]
        handler = _ask(
            "Handler (pkg.module:func)", _check(CALLABLE_RE, ""), f"{module}.handlers.{name}:{event_snake(handle)}"
        )
    emit = _ask("Emit event (server tells clients)", event, f"{name}:updated") or None
    fields: list[str] = list(flags.get("fields") or ())
    for what, shown in ((relay, "relayed"), (handle, "handled"), (emit, "emitted")):
        if what:
            fields += _fields(what, shown, room, scoped=sum(bool(x) for x in (relay, handle, emit)) > 1)
    helper = None
    sites: list[str] = []
    args: list[str] = list(flags.get("args") or ())
    broadcast = False
    if emit:
        broadcast = room is None
        helper = _ask(
            "Emit helper (the async function routers await)", _check(IDENT_RE, ""), f"emit_{event_snake(emit)}"
        )
        while click.confirm(
            "Call it from a router endpoint?" if not sites else "Call it from another endpoint?", default=False
        ):
            sites.append(_site(config))
        if sites:
            args = _args(emit, room, fields)
    listener = None
    if emit or relay:
        listener = (
            _ask(
                "Listener component (Svelte, PascalCase; empty: none)",
                _optional(_check(COMPONENT_RE, "")),
                pascal(name) + "Updates" if join else "",
            )
            or None
        )
    return NewSpec(
        name=name,
        room=room,
        access=access,
        join=join,
        leave=leave,
        relay=relay,
        handle=handle,
        handler=handler,
        emit=emit,
        fields=tuple(fields),
        helper=helper,
        emit_from=tuple(sites),
        args=tuple(args),
        listener=listener,
        broadcast=broadcast,
        description=description,
    )


def _fields(event: str, shown: str, room: str | None, *, scoped: bool) -> list[str]:
    params = ROOM_PARAM_RE.findall(room or "")
    extra = f" besides the room's {', '.join(params)}" if params else ""
    click.echo(f"Payload fields of {event} ({shown}){extra}: NAME:TYPE, one per line, empty to finish.")
    out: list[str] = []
    while True:
        value = _ask("  field", _optional(_field), "")
        if not value:
            return out
        out.append(f"{event}={value}" if scoped else value)


def _args(emit: str, room: str | None, fields: list[str]) -> list[str]:
    """The value of each payload field in the calls (the same in every endpoint, as --arg)."""
    names = list(ROOM_PARAM_RE.findall(room or ""))
    for field in fields:
        event, _, spec = field.rpartition("=")
        name = spec.partition(":")[0]
        if event in ("", emit) and name not in names:
            names.append(name)
    click.echo("The value of each payload field in those calls: a Python expression evaluated in the endpoint.")
    out = []
    for name in names:
        value = _ask(f"  {name}", _expression(name), name)
        if value != name:
            out.append(f"{name}={value}")
    return out


def _expression(name: str) -> Callable[[str], str]:
    from .spec.expressions import argument_problem

    def convert(value: str) -> str:
        value = value.strip()
        problem = argument_problem(name, value)
        if problem:
            raise click.BadParameter(problem)
        return value

    return convert


def _site(config: Config) -> str:
    def existing(value: str) -> str:
        value = value.strip()
        if not value.endswith(".py"):
            raise click.BadParameter("a Python file, relative to the project root")
        if not (config.root / value).is_file():
            near = closest_path(config.root, value)
            raise click.BadParameter("file not found" + (f" (did you mean '{near}'?)" if near else ""))
        return value

    file = _ask("  Router file", existing, "")
    function = _ask("  Endpoint (async function)", _check(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$", ""))
    anchor = _ask(
        "  After the statement calling (dotted callee, or `return` for just before the final return)",
        _check(r"^[A-Za-z_][\w.]*$", ""),
    )
    return f"{file}:{function}:{anchor}"


def confirm(root: Path, request: NewSpec, *, generate: bool) -> bool:
    """Show the spec the answers make, and ask before writing it."""
    from .new import spec_text

    config = load_config(root)
    text = spec_text(request, schema_beside=(config.root / config.specs / "event-spec.schema.json").is_file())
    click.echo("")
    click.echo(text, nl=False)
    click.echo("")
    then = " and generate its code" if generate else ""
    return click.confirm(f"Write {config.specs}/{request.name}.yaml{then}?", default=True)
