"""`eventgen new NAME`: write a spec from flags, validate it, then generate its code.

The spec is built as data and dumped by PyYAML's safe dumper (which quotes
anything YAML could misread), then validated in memory by the normal loader
together with the project's other specs, so a bad flag combination writes
nothing. Generation is limited to the new spec; if it fails, the spec file is
taken back too, so the project is left as it was.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .apply.change import FileChange
from .config import Config, load_config
from .errors import Diagnostic, EventgenError, Exit
from .sink.write import project_lock, write_changes
from .spec.models import PATTERN_RULES, ROOM_PARAM_RE, SPEC_NAME_RE, event_snake


@dataclass(frozen=True)
class NewSpec:
    """What the flags of `eventgen new` (or its questions) ask for."""

    name: str
    room: str | None = None
    access: str | None = None
    join: str | None = None
    leave: str | None = None
    relay: str | None = None
    handle: str | None = None
    handler: str | None = None  # pkg.module:func, for the --handle event
    emit: str | None = None
    fields: tuple[str, ...] = ()  # NAME:TYPE for every event that carries data; EVENT=NAME:TYPE for one event
    helper: str | None = None
    emit_from: tuple[str, ...] = ()  # FILE:FUNCTION:AFTER (AFTER `return`: before the final return)
    args: tuple[str, ...] = ()  # FIELD=EXPRESSION, for every --emit-from call
    listener: str | None = None
    broadcast: bool = False
    description: str | None = None


@dataclass
class NewResult:
    spec_path: str
    lines: list[str] = field(default_factory=list)
    exit_code: int = Exit.OK
    made_folder: bool = False  # the specs folder did not exist: taking the spec back removes it too


def create_spec(root: Path, request: NewSpec, *, generate: bool = True) -> NewResult:
    config = load_config(root)
    _check_flags(request)
    rel = f"{config.specs}/{request.name}.yaml"
    text = spec_text(request, schema_beside=(config.root / config.specs / "event-spec.schema.json").is_file())
    with project_lock(config.root):
        for existing in (rel, rel[: -len(".yaml")] + ".yml"):
            if (config.root / existing).exists():
                raise EventgenError(
                    Diagnostic(
                        existing,
                        0,
                        0,
                        "already exists; `eventgen new` never overwrites a spec: edit it, or remove it first",
                    )
                )
        _validate(config, rel, text)
        made_folder = not (config.root / config.specs).exists()
        write_changes(config.root, [FileChange(rel, None, text.encode("utf-8"))])
        result = NewResult(rel, [f"{rel}: created"], made_folder=made_folder)
        if generate:
            _generate(config, request.name, result)
    return result


def spec_text(request: NewSpec, *, schema_beside: bool = False) -> str:
    doc: dict[str, Any] = {"name": request.name}
    if request.description:
        doc["description"] = request.description
    if request.room is not None:
        room: dict[str, Any] = {"pattern": request.room}
        if request.access is not None:
            room["access"] = request.access
        doc["rooms"] = {request.name: room}
    shared, scoped = split_fields(request.fields)
    # Room parameters are str unless a --field of the same name says otherwise.
    params = {p: shared.get(p, "str") for p in ROOM_PARAM_RE.findall(request.room or "")}

    def own(event: str) -> dict[str, str]:
        return scoped.get(event, {})

    events: list[dict[str, Any]] = []
    for action, event in (("join", request.join), ("leave", request.leave)):
        if event is not None:
            events.append(_event(event, "client_to_server", request, {**params, **own(event)}, action=action))
    if request.relay is not None:
        relayed = _event(
            request.relay, "client_to_server", request, {**params, **shared, **own(request.relay)}, action="relay"
        )
        if request.listener:
            relayed["listener"] = request.listener
        events.append(relayed)
    if request.handle is not None:
        handled = _event(
            request.handle, "client_to_server", request, {**shared, **own(request.handle)}, action="handle", room=False
        )
        handled["handler"] = request.handler
        events.append(handled)
    if request.emit is not None:
        emitted = _event(request.emit, "server_to_client", request, {**params, **shared, **own(request.emit)})
        if request.helper or request.emit_from:
            emit: dict[str, Any] = {"helper": request.helper or f"emit_{event_snake(request.emit)}"}
            if request.emit_from:
                emit["from"] = [_call_site(site, request.args) for site in request.emit_from]
            emitted["emit"] = emit
        if request.listener:
            emitted["listener"] = request.listener
        events.append(emitted)
    doc["events"] = events
    header = ["# yaml-language-server: $schema=event-spec.schema.json"] if schema_beside else []
    header.append("# Written by `eventgen new`. Edit it, then run `eventgen generate`.")
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return "\n".join(header) + "\n" + body


def split_fields(flags: tuple[str, ...]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """`NAME:TYPE` flags (every event that carries data) and `EVENT=NAME:TYPE` ones (that event only)."""
    shared: dict[str, str] = {}
    scoped: dict[str, dict[str, str]] = {}
    for flag in flags:
        event, _, field = flag.rpartition("=")
        name, type_ = _field(field if event else flag)
        (scoped.setdefault(event, {}) if event else shared)[name] = type_
    return shared, scoped


def _call_site(flag: str, args: tuple[str, ...]) -> dict[str, Any]:
    file, function, anchor = _site_parts(flag)
    site: dict[str, Any] = {"file": file, "function": function}
    if anchor == "return":
        site["before"] = "return"
    else:
        site["after"] = anchor
    if args:
        site["args"] = dict(_arg(a) for a in args)
    return site


def _site_parts(flag: str) -> tuple[str, str, str]:
    parts = flag.rsplit(":", 2)
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise EventgenError(
            Diagnostic(
                "",
                0,
                0,
                f"eventgen new: --emit-from {flag!r}: write FILE:FUNCTION:AFTER, e.g. "
                "backend/open_webui/routers/features.py:update_feature:Features.update_feature (AFTER `return`: before the final return)",
            )
        )
    file, function, anchor = (p.strip() for p in parts)
    return file, function, anchor


def _arg(flag: str) -> tuple[str, str]:
    name, sep, expr = flag.partition("=")
    if not sep or not name.strip() or not expr.strip():
        raise EventgenError(
            Diagnostic(
                "", 0, 0, f"eventgen new: --arg {flag!r}: write FIELD=EXPRESSION, e.g. --arg data=feature.model_dump()"
            )
        )
    return name.strip(), expr.strip()


class _Dumper(yaml.SafeDumper):
    """The house style of the README's specs: list items indented under their key, no anchors."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _event(
    name: str,
    direction: str,
    request: NewSpec,
    payload: dict[str, str],
    action: str | None = None,
    *,
    room: bool = True,
) -> dict[str, Any]:
    event: dict[str, Any] = {"name": name, "direction": direction}
    if action:
        event["action"] = action
    if request.room is not None and room:
        event["room"] = request.name
    elif request.broadcast and direction == "server_to_client":
        event["broadcast"] = True
    if payload:
        event["payload"] = payload
    return event


def _field(flag: str) -> tuple[str, str]:
    name, sep, type_ = flag.partition(":")
    if not sep or not name.strip() or not type_.strip():
        raise EventgenError(
            Diagnostic("", 0, 0, f"--field {flag!r}: write NAME:TYPE, e.g. --field title:str or --field tags:list[str]")
        )
    return name.strip(), type_.strip()


def _check_flags(request: NewSpec) -> None:
    """What the spec cannot express, said in terms of the flags."""
    problems: list[str] = []
    if not re.match(SPEC_NAME_RE, request.name):
        problems.append(f"spec name {request.name!r} {PATTERN_RULES[SPEC_NAME_RE]}")
    if not (request.join or request.leave or request.relay or request.handle or request.emit):
        problems.append("nothing to write: give at least one of --join, --leave, --relay, --handle or --emit")
    if request.emit is None:
        for flag, value in (
            ("--helper", request.helper),
            ("--emit-from", request.emit_from),
            ("--arg", request.args),
            ("--broadcast", request.broadcast),
        ):
            if value:
                problems.append(f"{flag} describes the --emit event: add --emit EVENT")
    if request.args and not request.emit_from:
        problems.append("--arg describes the --emit-from calls: add --emit-from FILE:FUNCTION:AFTER")
    if request.listener and request.emit is None and request.relay is None:
        problems.append("--listener receives the --emit or --relay event: add one of them")
    params = set(ROOM_PARAM_RE.findall(request.room or ""))
    loose = [f for f in request.fields if "=" not in f and f.partition(":")[0].strip() not in params]
    if loose and not (request.emit or request.relay or request.handle):
        problems.append(
            "--field describes the events that carry data: add --emit, --relay or --handle (or write EVENT=NAME:TYPE)"
        )
    if request.handler and request.handle is None:
        problems.append("--handler names the function of the --handle event: add --handle EVENT")
    if request.handle and not request.handler:
        problems.append(
            "--handle needs --handler pkg.module:func, the function that handles it (eventgen writes a stub for it once)"
        )
    if request.room is None:
        for flag, value in (("--join", request.join), ("--leave", request.leave), ("--relay", request.relay)):
            if value:
                problems.append(f"{flag} needs the room it acts on: add --room PATTERN")
    if request.access is not None and request.room is None:
        problems.append("--access describes the room: add --room PATTERN")
    if request.broadcast and request.room is not None:
        problems.append("--broadcast sends to everyone: leave out --room, or --broadcast")
    events = [e for e in (request.join, request.leave, request.relay, request.handle, request.emit) if e]
    for flag in request.fields:
        event, sep, _field_text = flag.rpartition("=")
        if sep and event not in events:
            from .suggest import did_you_mean

            problems.append(
                f"--field {flag!r} names the event {event!r}, which this spec does not have{did_you_mean(event, events)}"
            )
    if problems:
        raise EventgenError([Diagnostic("", 0, 0, f"eventgen new: {p}") for p in problems])
    split_fields(request.fields)
    for site in request.emit_from:
        _site_parts(site)
    for arg in request.args:
        _arg(arg)


def _validate(config: Config, rel: str, text: str) -> None:
    """The normal loader and cross-spec rules, with the new spec in memory beside the others."""
    from .pipeline import spec_files
    from .spec.load import load_spec_file, load_spec_text
    from .spec.rules import check_specs

    loaded = []
    problems = []
    for file in spec_files(config):
        other, errors = load_spec_file(file, config.root)
        problems += errors
        if other is not None:
            loaded.append(other)
    new, errors = load_spec_text(text, rel)
    problems += errors
    # Last, so a name clash is reported at the newcomer, not at the spec already there.
    problems += check_specs(loaded + ([new] if new is not None else []))
    if problems:
        # The new file is not on disk: its lines and columns would point nowhere.
        shown = [Diagnostic(d.path, 0, 0, d.message) if d.path == rel else d for d in problems]
        shown.append(Diagnostic("", 0, 0, f"eventgen new: {rel} not written: the flags describe an invalid spec"))
        raise EventgenError(shown)


def _generate(config: Config, name: str, result: NewResult) -> None:
    """Generate the new spec's code; on any failure take the spec file back, then re-raise."""
    from .sink.mode import Sink
    from .sink.run import run

    spec_file = config.root / result.spec_path
    try:
        # create_spec holds the project lock already.
        report = run(config.root, Sink.WRITE, selected=(name,), locked=True).report
    except EventgenError as exc:
        _take_back(spec_file, result.made_folder)
        note = Diagnostic(
            "",
            0,
            0,
            f"eventgen new: {result.spec_path} not written: generation failed (--no-generate writes the spec alone)",
        )
        # The spec is taken back: its lines and columns would point nowhere.
        shown = [
            Diagnostic(d.path, 0, 0, d.message, d.hint) if d.path == result.spec_path else d for d in exc.diagnostics
        ]
        raise EventgenError([*shown, note], exit_code=exc.exit_code) from None
    except BaseException:
        _take_back(spec_file, result.made_folder)
        raise
    result.lines += report.lines()
    if report.exit_code != Exit.OK:
        _take_back(spec_file, result.made_folder)
        result.lines.append(f"{result.spec_path}: removed again: generation refused, nothing was written")
    result.lines.append(report.summary())
    result.exit_code = report.exit_code


def _take_back(spec_file: Path, made_folder: bool) -> None:
    """The project as it was: the spec gone, and the folder made for it if nothing else came into it."""
    with contextlib.suppress(FileNotFoundError):
        spec_file.unlink()
    if made_folder:
        with contextlib.suppress(OSError):
            spec_file.parent.rmdir()
