"""SpecSet -> Plan: render every template into edits. Nothing is written, and only the
socket module is parsed (once, to learn the server's name)."""

from __future__ import annotations

from dataclasses import dataclass

from .code_rules import BUILTINS, check_code, socket_bindings
from .config import Config, inside_root
from .edits import CallArg, FileEdit, Plan, RegionEdit, SpecRef, StubEdit
from .errors import Diagnostic, EventgenError
from .render import py_str, py_value, render
from .sources import Sources
from .spec.load import LoadedSpec
from .spec.models import (
    DELIVERY_ALIAS,
    IDEMPOTENCY_KEY,
    PRESENCE_ALIAS,
    EventSpec,
    FieldSpec,
    RoomSpec,
    pascal,
    presence_event,
    room_func,
)
from .spec.rooms import pattern_parts

MODELS_ALIAS = "eventgen_models"
# Names a generated handler binds or reads in its body (socket_region.py.j2), besides the module's.
HANDLER_LOCALS = frozenset({"sid", "data", "extra", "user", "payload", "room", "message", "result", "exc", "refusal"})
DELIVERY_MODULE = DELIVERY_ALIAS  # beside the models module, generated when a room is sequenced
PRESENCE_MODULE = PRESENCE_ALIAS  # beside the models module, generated when a room has presence


@dataclass(frozen=True)
class _Import:
    module: str
    name: str
    alias: str = ""

    @property
    def local(self) -> str:
        return self.alias or self.name


def room_expr(pattern: str) -> str:
    """Python expression building the room name from its params (no f-string: no escaping traps).
    Each value is escaped (CONTRACT 6.1) inline, with builtins only: a param may have any name."""
    return " + ".join(
        f'str({text}).replace("%", "%25").replace(":", "%3A")' if param else py_str(text) for text, param in pattern_parts(pattern)
    )


def model_name(event: EventSpec) -> str:
    return pascal(event.name) + "Payload"


# Room params a spec leaves unbounded (CONTRACT 6.1): a client cannot make the server hold a huge name.
ROOM_PARAM_BOUNDS = {"min_length": 1, "max_length": 128}


def field_decl(name: str, field: FieldSpec, *, room_param: bool = False) -> str:
    """`name: annotation = Field(...)` for a payload model."""
    t = field.type_ref
    if room_param and t.kind == "str":
        field = field.model_copy(update={k: v for k, v in ROOM_PARAM_BOUNDS.items() if getattr(field, k) is None})
    annotation = t.python()
    if field.enum is not None:
        annotation = "Literal[" + ", ".join(py_value(v) for v in field.enum) + "]"
        if t.nullable:
            annotation += " | None"
    kwargs = []
    for key in ("min_length", "max_length", "ge", "le"):
        value = getattr(field, key)
        if value is not None:
            if key in ("ge", "le") and float(value).is_integer() and t.kind == "int":
                value = int(value)
            kwargs.append(f"{key}={value!r}")
    if field.description:
        kwargs.append(f"description={py_str(field.description)}")
    if "default" in field.model_fields_set:
        default = py_value(field.default)
    elif not field.is_required:
        default = "None"
    else:
        default = None
    if kwargs:
        args = ([default] if default is not None else []) + kwargs
        return f"{name}: {annotation} = Field({', '.join(args)})"
    if default is not None:
        return f"{name}: {annotation} = {default}"
    return f"{name}: {annotation}"


def _builtin_annotation(field: FieldSpec) -> str:
    """Signature annotations use builtins only: the socket module may lack typing imports."""
    return field.type_ref.python().replace("Any", "object")


def build_plan(specs: list[LoadedSpec], config: Config, sources: Sources, only: set[str] | None = None) -> Plan:
    """`only`: the specs a run is limited to. Shared code (imports, models) is then planned
    for those specs and for the ones already generated, never for a spec not generated yet:
    a router must not import a helper that the socket module does not define."""
    plan = Plan()
    problems: list[Diagnostic] = []
    plan.region_files.add(config.socket_module)
    from .frontend import delivery_ts_file, presence_ts_file

    delivery_file = delivery_module_file(config)
    plan.generated_files.update({config.models_module, config.types, delivery_file, delivery_ts_file(config), presence_module_file(config), presence_ts_file(config)})
    plan.generated_dirs.add(config.components)

    if only is not None:
        specs = [s for s in specs if s.spec.name in only or _generated(s, config, sources)]
    if not specs:
        return plan
    server = _server_name(config, sources)
    sources_label = ", ".join(s.path for s in specs)

    problems.extend(check_code(specs, config, sources, server))
    imports: dict[tuple[str, str], _Import] = {}
    # An imported callable must not rebind a name of the module, a builtin or a generated name (6.3).
    # Generated handlers' own locals too: `room = ...` then `allowed(room, ...)` would call the room name.
    used_locals: set[str] = {MODELS_ALIAS, DELIVERY_MODULE, PRESENCE_MODULE, *BUILTINS, *HANDLER_LOCALS, *socket_bindings(config, sources).lines}
    used_locals.update(f"on_{e.snake}" if e.direction == "client_to_server" else e.helper or "" for s in specs for e in s.spec.events)

    def import_callable(ref: str) -> str:
        module, _, name = ref.partition(":")
        key = (module, name)
        if key not in imports:
            alias = ""
            if name in used_locals:
                alias = base = f"{name}__{module.replace('.', '_')}"
                n = 1
                while alias in used_locals:
                    n += 1
                    alias = f"{base}_{n}"
            used_locals.add(alias or name)
            imports[key] = _Import(module, name, alias)
        return imports[key].local

    rooms_view: list[dict[str, str]] = []
    models_view: list[dict[str, object]] = []
    router_helpers: dict[str, set[str]] = {}
    typing_names = {"Any"}
    idempotency = renames = lazy_handlers = rate_limits = client_events = False
    pydantic_names = {"BaseModel", "ConfigDict", "ValidationError", "model_validator"}
    sequenced_rooms: list[str] = []
    presence_rooms: list[RoomSpec] = []

    for item in specs:
        spec = item.spec
        handlers: list[dict[str, str]] = []
        emitters: list[dict[str, str]] = []
        for key, room in spec.rooms.items():
            if room.sequenced:
                sequenced_rooms.append(room.pattern)
            if room.presence:
                presence_rooms.append(room)
            rooms_view.append(
                {
                    "func": room_func(spec.name, key),
                    "pattern": room.pattern,
                    "signature": ("*, " + ", ".join(f"{p}: object" for p in room.params)) if room.params else "",
                    "expr": room_expr(room.pattern),
                }
            )
        for i, event in enumerate(spec.events):
            room: RoomSpec | None = spec.rooms.get(event.room) if event.room else None
            rfunc = room_func(spec.name, event.room) if event.room else ""
            room_params = set(room.params) if room else set()
            fields = [field_decl(n, f, room_param=n in room_params) for n, f in event.payload.items()]
            sequenced = room is not None and room.sequenced
            if sequenced and event.action == "join":
                # CONTRACT 8: the join of a sequenced room takes an optional position to recover from.
                fields.append('since: SincePosition | None = Field(None, description="Recover every event after this position.")')
                pydantic_names.add("Field")
            if event.idempotent:
                # Sent by the generated emit function; excluded from model_dump(), so handlers see only their fields.
                fields.append(f"{IDEMPOTENCY_KEY}: str | None = Field(None, min_length=1, max_length=128, exclude=True)")
                idempotency = True
            renames = renames or bool(event.renamed_from and event.sunset)
            if any(f.enum is not None for f in event.payload.values()):
                typing_names.add("Literal")
            if any(" = Field(" in decl for decl in fields):
                pydantic_names.add("Field")  # imported only when used: an unused import fails ruff's F401
            direction = "client to server" if event.direction == "client_to_server" else "server to client"
            models_view.append(
                {
                    "name": model_name(event),
                    "base": "ClientPayload" if event.direction == "client_to_server" else "ServerPayload",
                    "doc": f"Payload of `{event.name}` ({direction}). {event.description or ''}".strip(),
                    "fields": fields,
                }
            )
            if event.direction == "client_to_server":
                client_events = True
                limit = event.rate_limit
                rate_limits = rate_limits or limit is not None
                view = {
                    "name": event.name,
                    "template": room.pattern if room else "",
                    "func": f"on_{event.snake}",
                    "doc": _handler_doc(event, room, item.path),
                    "model": model_name(event),
                    "action": event.action or "",
                    "room_func": rfunc,
                    "room_args": ", ".join(f"{p}=payload.{p}" for p in room.params) if room else "",
                    "room_params": "{" + ", ".join(f"{py_str(p)}: payload.{p}" for p in room.params) + "}" if room else "{}",
                    "access": "",
                    "access_call": "",
                    "self_param": "",
                    "handler_call": "",
                    "timeout": _seconds(event.timeout_s if event.timeout_s is not None else config.timeout_s),
                    # Validation runs either way; a join or leave of a room without params reads
                    # nothing from the result, and an unused `payload` is ruff's F841.
                    "payload_var": "payload" if (room and room.params) or event.action in ("relay", "handle") or (sequenced and event.action == "join") else "_",
                    "sequenced": sequenced and event.action == "join",
                    "presence": _presence_args(spec.name, event, room),
                    **_renames(event),
                    "idempotent": event.idempotent,
                    # A retry waits for a first call still running about as long as its client waits for an ack.
                    "wait_s": repr(event.effective_timeout_ms / 1000),
                    "max_bytes": event.max_bytes if event.max_bytes is not None else config.max_bytes,
                    "rate_limit": f"rate={limit.rate}, per_s={limit.per_s!r}, burst={limit.effective_burst}" if limit else "",
                }
                if event.action == "join" and room is not None:
                    access = room.effective_access
                    if access == "self":
                        view["access"] = "self"
                        view["self_param"] = room.params[0]
                    elif access != "authenticated":
                        view["access"] = "callable"
                        view["access_call"] = import_callable(access)
                        missing = _missing_callable(access, config, sources, room.params)
                        if missing:
                            key = next(k for k, r in spec.rooms.items() if r is room)
                            problems.append(item.at(("rooms", key, "access"), missing))
                if event.action == "handle" and event.handler:
                    # Imported on first call, not at the socket module's top: a handler module
                    # may then import the socket module (its emit helpers) while it loads.
                    view["handler_call"] = f"eventgen_models.handler({py_str(event.handler)})"
                    lazy_handlers = True
                    plan.stubs.append(_stub(item, i, event, config, problems))
                handlers.append(view)
            else:
                helper = event.helper or ""
                if server in event.payload:
                    # The helper's parameters are the payload fields: this one would shadow the server it emits with.
                    problems.append(
                        item.at(
                            ("events", i, "payload", server),
                            f"payload field '{server}' would hide the Socket.IO server `{server}` inside the emit helper {helper}(); choose another name",
                            key=True,
                        )
                    )
                required = [(n, f) for n, f in event.payload.items() if f.is_required]
                optional = [(n, f) for n, f in event.payload.items() if not f.is_required]
                signature = [f"{n}: {_builtin_annotation(f)}" for n, f in required]
                signature += [f"{n}: {_builtin_annotation(f)} = {py_value(f.default) if 'default' in f.model_fields_set else 'None'}" for n, f in optional]
                call_args = ", ".join(f"{n}={n}" for n in event.payload)
                target = f"room {room.pattern}" if room else "every connected client"
                emitters.append(
                    {
                        "helper": helper,
                        "name": event.name,
                        "template": room.pattern if room else "",
                        "signature": "*, " + ", ".join(signature) if signature else "",
                        "model": model_name(event),
                        "call_args": call_args,
                        "room_func": rfunc,
                        "room_args": ", ".join(f"{p}=payload.{p}" for p in room.params) if room else "",
                        "doc": f"Emit `{event.name}` to {target} ({item.path}). {event.description or ''}".strip()
                        + (" Sequenced: the message also carries `seq` and `epoch`." if sequenced else ""),
                        "sequenced": sequenced,
                        "history": f"size={room.kept.size}, ttl_s={room.kept.ttl_s}" if sequenced and room else "",
                        **_renames(event),
                    }
                )
                for j, site in enumerate(event.emit.from_ if event.emit else []):
                    loc = ("events", i, "emit", "from", j, "file")
                    if not inside_root(config.root, site.file):
                        problems.append(item.at(loc, f"file {site.file!r} is outside the project"))
                        continue
                    args = []
                    call_args = []
                    implicit_ref = _ref(item, loc[:-1] + (("args",) if site.args else ("function",)))
                    for name, f in event.payload.items():
                        if name in site.args:
                            args.append(f"{name}={site.args[name].strip()}")
                            call_args.append(CallArg(name, site.args[name].strip(), True, _ref(item, loc[:-1] + ("args", name))))
                        elif f.is_required:
                            args.append(f"{name}={name}")
                            call_args.append(CallArg(name, name, False, implicit_ref))
                    plan.regions.append(
                        RegionEdit(
                            file=site.file,
                            id=f"{spec.name}/{event.name}@{site.function}",
                            source=item.path,
                            body=render("python/router_call.py.j2", helper=helper, args=", ".join(args)).strip("\n"),
                            where="call",
                            function=site.function,
                            after=site.after or "",
                            before=site.before or "",
                            file_ref=_ref(item, loc),
                            function_ref=_ref(item, loc[:-1] + ("function",)),
                            args_ref=implicit_ref,
                            anchor_ref=_ref(item, loc[:-1] + (("after",) if site.after else ("before",))),
                            call_args=tuple(call_args),
                        )
                    )
                    if site.file != config.socket_module:  # the helper is defined right there
                        router_helpers.setdefault(site.file, set()).add(helper)
                    plan.region_files.add(site.file)
        if not emitters and not handlers:
            continue
        body = render(
            "python/socket_region.py.j2",
            server=server,
            session_pool=config.session_pool,
            handlers=handlers,
            emitters=emitters,
            telemetry=config.telemetry == "opentelemetry",
        ).strip("\n")
        plan.regions.append(
            RegionEdit(file=config.socket_module, id=spec.name, source=item.path, body=body, where="handlers", blank_before=2, server=server)
        )

    if sequenced_rooms:
        imports[("", DELIVERY_MODULE)] = _Import(delivery_module_dotted(config).rpartition(".")[0], DELIVERY_MODULE)
        plan.files.append(
            FileEdit(
                file=delivery_file,
                body=render("python/eventgen_delivery.py.j2", rooms=", ".join(sequenced_rooms), redis_url=config.redis_url),
                kind="python",
                source=sources_label,
            )
        )
        # The join model of a sequenced room refers to it; defined first, before every payload model.
        models_view.insert(
            0,
            {
                "name": "SincePosition",
                "base": "ClientPayload",
                "doc": "Where a client's copy of a sequenced room stands: the last `seq` it applied in `epoch`.",
                "fields": ["epoch: str = Field(min_length=1, max_length=64)", "seq: int = Field(ge=0)"],
            },
        )
    if presence_rooms:
        imports[("", PRESENCE_MODULE)] = _Import(presence_module_dotted(config).rpartition(".")[0], PRESENCE_MODULE)
        plan.files.append(
            FileEdit(
                file=presence_module_file(config),
                body=render(
                    "python/eventgen_presence.py.j2",
                    rooms=", ".join(r.pattern for r in presence_rooms),
                    redis_url=config.redis_url,
                    min_ttl_s=min(r.ttl_s for r in presence_rooms),
                ),
                kind="python",
                source=sources_label,
            )
        )
    plan.regions.insert(
        0,
        RegionEdit(
            file=config.socket_module,
            id="imports",
            # One label whatever the number of specs: adding or removing a spec must not
            # rewrite a region whose code did not change.
            source=f"{config.specs}/*.yaml",
            body=render(
                "python/socket_imports.py.j2",
                models_import_line=_import_as(config.models_dotted, MODELS_ALIAS),
                imports=sorted(imports.values(), key=lambda imp: (imp.module, imp.name)),
            ).strip("\n"),
            where="imports",
            blank_before=1,
        ),
    )
    for file, helpers in sorted(router_helpers.items()):
        plan.regions.append(
            RegionEdit(
                file=file,
                id="imports",
                source=f"{config.specs}/*.yaml",
                body=render("python/router_imports.py.j2", socket_import=config.socket_dotted, helpers=sorted(helpers)).strip("\n"),
                where="imports",
                blank_before=1,
            )
        )
    plan.files.append(
        FileEdit(
            file=config.models_module,
            body=render(
                "python/event_models.py.j2",
                sources=sources_label,
                rooms=rooms_view,
                models=models_view,
                typing_imports=", ".join(sorted(typing_names)),
                limits={
                    "timeout_s": _seconds(config.timeout_s),
                    "max_rooms": config.max_rooms_per_socket,
                    "max_inflight": config.max_inflight_per_socket,
                    "session_value": config.session_value,
                },
                idempotency=idempotency,
                renames=renames,
                rate_limits=rate_limits,
                telemetry=config.telemetry == "opentelemetry",
                client_events=client_events,
                handlers=lazy_handlers,
                pydantic_imports=", ".join(sorted(pydantic_names)),
            ),
            kind="python",
            source=sources_label,
        )
    )
    from .frontend import frontend_files

    plan.files.extend(frontend_files(specs, config, sources))
    if problems:
        raise EventgenError(problems)
    return plan


def _seconds(value: float) -> str:
    """A timeout as a Python literal: 10.0, 0.25."""
    return repr(float(value))


def _renames(event: EventSpec) -> dict[str, object]:
    """Old names (CONTRACT 10): served by the same handler, emitted beside the new name until the sunset."""
    aliases = list(event.renamed_from)
    return {
        "aliases": aliases,
        "aliases_tuple": "(" + ", ".join(py_str(a) for a in aliases) + ("," if len(aliases) == 1 else "") + ")",
        "sunset": event.sunset.isoformat() if event.sunset else "",
    }


def _presence_args(spec: str, event: EventSpec, room: RoomSpec | None) -> str:
    """The arguments a presence room's join passes to eventgen_presence.track() (CONTRACT 9); "" otherwise.
    Its leave needs none: "leave" marks it."""
    if room is None or not room.presence or event.action not in ("join", "leave") or event.room is None:
        return ""
    if event.action == "leave":
        return "leave"
    params = "{" + ", ".join(f"{py_str(p)}: payload.{p}" for p in room.params) + "}"
    return f"{py_str(presence_event(spec, event.room))}, {params}, {room.ttl_s}"


def presence_module_file(config: Config) -> str:
    """The presence runtime: a module beside the models module."""
    parent = config.models_module.rpartition("/")[0]
    return f"{parent}/{PRESENCE_MODULE}.py" if parent else f"{PRESENCE_MODULE}.py"


def presence_module_dotted(config: Config) -> str:
    package = config.models_dotted.rpartition(".")[0]
    return f"{package}.{PRESENCE_MODULE}" if package else PRESENCE_MODULE


def delivery_module_file(config: Config) -> str:
    """The sequenced-delivery runtime: a module beside the models module."""
    parent = config.models_module.rpartition("/")[0]
    return f"{parent}/{DELIVERY_MODULE}.py" if parent else f"{DELIVERY_MODULE}.py"


def delivery_module_dotted(config: Config) -> str:
    package = config.models_dotted.rpartition(".")[0]
    return f"{package}.{DELIVERY_MODULE}" if package else DELIVERY_MODULE


def _generated(item: LoadedSpec, config: Config, sources: Sources) -> bool:
    """Whether a spec's handlers region or one of its emit calls is already in the code."""
    files = {config.socket_module}
    files.update(site.file for event in item.spec.events if event.emit for site in event.emit.from_)
    marks = (f"# eventgen:begin {item.spec.name} ", f"# eventgen:begin {item.spec.name}/")
    for file in sorted(files):
        src = sources.get(file) if inside_root(config.root, file) else None
        if src is not None and any(mark in src.text for mark in marks):
            return True
    return False


def _ref(item: LoadedSpec, loc: tuple[object, ...]) -> SpecRef:
    at = item.at(loc, "")
    return SpecRef(at.path, at.line, at.col)


def _missing_callable(ref: str, config: Config, sources: Sources, params: list[str] | None = None) -> str | None:
    """Why `pkg.module:func` would fail to import, when the module is the project's own.

    A module outside the project (an installed package) cannot be checked here; one whose
    top package lives in the project must exist and define the function, or the server
    would not start.
    """
    import ast

    module, _, name = ref.partition(":")
    file = config.python_file_for(module)
    package = config.python_file_for(module.split(".")[0])[: -len(".py")]
    if not (config.root / package).is_dir() and not (config.root / (package + ".py")).is_file():
        return None
    candidates = [file, file[: -len(".py")] + "/__init__.py"]
    src = next((sources.get(c) for c in candidates if (config.root / c).is_file()), None)
    if src is None:
        return f"access module '{module}' not found (looked for {file})"
    try:
        tree = ast.parse(src.text)
    except SyntaxError:
        return None  # reported where the file is patched, or by Python at start-up
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    defined |= {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign)) for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    defined |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    if name not in defined:
        return f"'{name}' is not defined at the top level of {src.path}"
    # The user goes in first, by position, and the room params by keyword: a first parameter
    # named like a room param would receive two values (TypeError on every join).
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if functions and params:
        positional = [a.arg for a in [*functions[-1].args.posonlyargs, *functions[-1].args.args]]
        if positional and positional[0] in params and not functions[-1].args.posonlyargs:
            return (
                f"{name}() takes the session user as its first parameter '{positional[0]}', which is also a room parameter: "
                f"it would get two values for '{positional[0]}'; rename that first parameter (the user is passed by position)"
            )
    return None


def _shadowed_module(module: str, config: Config) -> str | None:
    """Why a handler module eventgen would create there shadows an importable one (CONTRACT 6.5):
    `handler: json:loads` would write backend/json.py, and the app's `import json` would find it."""
    import importlib.util
    import sys

    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return f"handler module {module!r} would shadow Python's standard library module '{top}'; put handlers in a package of the project (e.g. {config.socket_dotted.rpartition('.')[0] or 'app'}.handlers)"
    package = config.root / config.python_file_for(top)[: -len(".py")]
    if package.is_dir() or package.with_suffix(".py").is_file():
        return None  # the project's own package
    try:
        installed = importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        installed = False
    if installed:
        return f"handler module {module!r} would shadow the installed package '{top}'; put handlers in a package of the project"
    return None


def _package_handler(module: str, file: str, config: Config) -> str | None:
    """A handler module that is a package: the stub would land beside it (`open_webui.py` next to
    `open_webui/`), where Python never looks."""
    if (config.root / file[: -len(".py")]).is_dir():
        return f"handler module {module!r} is a package ({file[: -len('.py')]}/); name a module inside it, e.g. {module}.handlers"
    return None


def _import_as(dotted: str, alias: str) -> str:
    package, _, name = dotted.rpartition(".")
    return f"from {package} import {name} as {alias}" if package else f"import {name} as {alias}"


def _handler_doc(event: EventSpec, room: RoomSpec | None, path: str) -> str:
    verb = {
        "join": f"Join the caller to room {room.pattern if room else ''}",
        "leave": f"Remove the caller from room {room.pattern if room else ''}",
        "relay": f"Relay the payload to the other members of room {room.pattern if room else ''}",
        "handle": f"Pass the payload to {event.handler}",
    }[event.action or "handle"]
    extra = f" {event.description}" if event.description else ""
    return f"`{event.name}`: {verb} ({path}).{extra}"


def _server_name(config: Config, sources: Sources) -> str:
    if config.server_name != "auto":
        return config.server_name
    from .patch.server import find_server_name

    src = sources.get(config.socket_module)
    if src is not None:
        # The stdlib parser over the user's code: libcst only when a region is new.
        name = find_server_name(src.text, config.socket_module, sources.user_code(config.socket_module))
        if name is not None:
            return name
    from .patch.anchors import find_server

    module = sources.cst(config.socket_module)
    found = find_server(module)
    if found is None:
        raise EventgenError(
            Diagnostic(
                config.socket_module,
                0,
                0,
                "no python-socketio server found: expected `NAME = socketio.AsyncServer(...)` at module level or in an if/else",
                hint="set server_name in eventgen.toml, or socket_module to the right file",
            )
        )
    return found[0]


def _stub(item: LoadedSpec, i: int, event: EventSpec, config: Config, problems: list[Diagnostic]) -> StubEdit:
    module, _, function = (event.handler or "").partition(":")
    file = config.python_file_for(module)
    shadowed = _shadowed_module(module, config)
    if not inside_root(config.root, file):
        problems.append(item.at(("events", i, "handler"), f"handler module {module!r} resolves outside the project"))
    elif shadowed:
        problems.append(item.at(("events", i, "handler"), shadowed))
    elif file in (config.socket_module, config.models_module):
        # The socket module imports handlers at its top (a module cannot import from itself
        # half-built), and the models module is rewritten whole on every run.
        what = "socket module" if file == config.socket_module else "generated models module"
        problems.append(item.at(("events", i, "handler"), f"handler module {module!r} is the {what} ({file}); put handlers in a module of their own"))
    elif package := _package_handler(module, file, config):
        problems.append(item.at(("events", i, "handler"), package))
    text = render(
        "python/handler_stub.py.j2",
        function=function,
        event=event.name,
        spec_path=item.path,
        model=f"{config.models_dotted}.{model_name(event)}",
        todo=f"implement {event.name} in {module}.{function}",
    )
    header = f'"""Handlers for {event.name} and friends: yours to edit (stubs written once by eventgen)."""\n'
    return StubEdit(file=file, function=function, new_file=header + text, append=text)

