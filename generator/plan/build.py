"""SpecSet -> Plan: render every template into edits. Nothing is written, and only the
socket module is parsed (once, to learn the server's name)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Config, inside_root
from ..errors import Diagnostic, EventgenError
from ..read.server import required_server_name
from ..render import py_str, py_value, render
from ..sources import Sources
from ..spec.loaded import LoadedSpec
from ..spec.models import (
    DELIVERY_ALIAS,
    IDEMPOTENCY_KEY,
    MODELS_ALIAS,
    PRESENCE_ALIAS,
    EventSpec,
    RoomSpec,
    presence_event,
    room_func,
)
from .code_rules import BUILTINS, check_code, missing_callable, socket_bindings
from .frontend.files import delivery_ts_file, frontend_files, presence_ts_file
from .stubs import handler_stub
from .types import CallArg, FileEdit, Plan, RegionEdit, SpecRef
from .views import (
    EmitterView,
    HandlerView,
    Limits,
    ModelView,
    RateDisconnect,
    RoomView,
    builtin_annotation,
    field_decl,
    handler_doc,
    import_as,
    model_name,
    renames,
    room_expr,
    seconds,
)

# Names a generated handler binds or reads in its body (socket_region.py.j2), besides the module's.
HANDLER_LOCALS = frozenset({"sid", "data", "extra", "user", "payload", "room", "message", "result", "exc", "refusal"})
# Payload keys the generated handlers take out when telemetry is on (a client's W3C trace context).
TRACE_KEYS = frozenset({"traceparent", "tracestate"})
# The join model of a sequenced room refers to it; defined first, before every payload model.
SINCE_POSITION = ModelView(
    name="SincePosition",
    base="ClientPayload",
    doc="Where a client's copy of a sequenced room stands: the last `seq` it applied in `epoch`.",
    fields=("epoch: str = Field(min_length=1, max_length=64)", "seq: int = Field(ge=0)"),
)


@dataclass(frozen=True)
class _Import:
    module: str
    name: str
    alias: str = ""

    @property
    def local(self) -> str:
        return self.alias or self.name


def build_plan(specs: list[LoadedSpec], config: Config, sources: Sources, only: set[str] | None = None) -> Plan:
    """`only`: the specs a run is limited to. Shared code (imports, models) is then planned
    for those specs and for the ones already generated, never for a spec not generated yet:
    a router must not import a helper that the socket module does not define."""
    plan = Plan()
    plan.region_files.add(config.socket_module)
    plan.generated_files.update(
        {
            config.models_module,
            config.types,
            runtime_module_file(config, DELIVERY_ALIAS),
            delivery_ts_file(config),
            runtime_module_file(config, PRESENCE_ALIAS),
            presence_ts_file(config),
        }
    )
    plan.generated_dirs.add(config.components)
    if only is not None:
        specs = [s for s in specs if s.spec.name in only or _generated(s, config, sources)]
    if not specs:
        return plan
    planner = _Planner(config, sources, specs, plan)
    for item in specs:
        planner.plan_spec(item)
    planner.finish()
    plan.files.extend(frontend_files(specs, config, sources))
    if planner.problems:
        raise EventgenError(planner.problems)
    return plan


@dataclass
class _Shared:
    """What the specs' handlers and helpers need from the shared code (imports, the models module)."""

    rooms: list[RoomView] = field(default_factory=list)
    models: list[ModelView] = field(default_factory=list)
    typing_names: set[str] = field(default_factory=lambda: {"Any"})
    pydantic_names: set[str] = field(
        default_factory=lambda: {"BaseModel", "ConfigDict", "ValidationError", "model_validator"}
    )
    sequenced_rooms: list[str] = field(default_factory=list)
    presence_rooms: list[RoomSpec] = field(default_factory=list)
    router_helpers: dict[str, set[str]] = field(default_factory=dict)
    imports: dict[tuple[str, str], _Import] = field(default_factory=dict)
    idempotency: bool = False
    renames: bool = False
    lazy_handlers: bool = False
    rate_limits: bool = False
    client_events: bool = False


class _Planner:
    def __init__(self, config: Config, sources: Sources, specs: list[LoadedSpec], plan: Plan) -> None:
        self.config, self.sources, self.specs, self.plan = config, sources, specs, plan
        self.server = required_server_name(config, sources)
        self.problems: list[Diagnostic] = list(check_code(specs, config, sources, self.server))
        self.shared = _Shared()
        # An imported callable must not rebind a name of the module, a builtin or a generated name (6.3).
        # Generated handlers' own locals too: `room = ...` then `allowed(room, ...)` would call the room name.
        self.used_locals: set[str] = {
            MODELS_ALIAS,
            DELIVERY_ALIAS,
            PRESENCE_ALIAS,
            *BUILTINS,
            *HANDLER_LOCALS,
            *socket_bindings(config, sources).lines,
        }
        self.used_locals.update(
            f"on_{e.snake}" if e.direction == "client_to_server" else e.helper or ""
            for s in specs
            for e in s.spec.events
        )

    def import_callable(self, ref: str) -> str:
        """The local name of an imported `module:function`, aliased around every name it could rebind."""
        module, _, name = ref.partition(":")
        key = (module, name)
        if key not in self.shared.imports:
            alias = ""
            if name in self.used_locals:
                alias = base = f"{name}__{module.replace('.', '_')}"
                n = 1
                while alias in self.used_locals:
                    n += 1
                    alias = f"{base}_{n}"
            self.used_locals.add(alias or name)
            self.shared.imports[key] = _Import(module, name, alias)
        return self.shared.imports[key].local

    def plan_spec(self, item: LoadedSpec) -> None:
        spec = item.spec
        for key, room in spec.rooms.items():
            if room.sequenced:
                self.shared.sequenced_rooms.append(room.pattern)
            if room.presence:
                self.shared.presence_rooms.append(room)
            signature = ("*, " + ", ".join(f"{p}: object" for p in room.params)) if room.params else ""
            self.shared.rooms.append(
                RoomView(room_func(spec.name, key), room.pattern, signature, room_expr(room.pattern))
            )
        self._plan_events(item)

    def _plan_events(self, item: LoadedSpec) -> None:
        spec = item.spec
        handlers: list[HandlerView] = []
        emitters: list[EmitterView] = []
        for i, event in enumerate(spec.events):
            room: RoomSpec | None = spec.rooms.get(event.room) if event.room else None
            self.shared.models.append(self._model(event, room))
            if event.direction == "client_to_server":
                handlers.append(self._handler(item, i, event, room))
            else:
                emitters.append(self._emitter(item, i, event, room))
                self._call_sites(item, i, event)
        if not emitters and not handlers:
            return
        body = render(
            "python/socket_region.py.j2",
            server=self.server,
            session_pool=self.config.session_pool,
            handlers=handlers,
            emitters=emitters,
            telemetry=self.config.telemetry == "opentelemetry",
        ).strip("\n")
        self.plan.regions.append(
            RegionEdit(
                file=self.config.socket_module,
                id=spec.name,
                source=item.path,
                body=body,
                where="handlers",
                blank_before=2,
                server=self.server,
            )
        )

    def _model(self, event: EventSpec, room: RoomSpec | None) -> ModelView:
        room_params = set(room.params) if room else set()
        fields = [field_decl(n, f, room_param=n in room_params) for n, f in event.payload.items()]
        if room is not None and room.sequenced and event.action == "join":
            # CONTRACT 8: the join of a sequenced room takes an optional position to recover from.
            fields.append(
                'since: SincePosition | None = Field(None, description="Recover every event after this position.")'
            )
        if event.idempotent:
            # Sent by the generated emit function; excluded from model_dump(), so handlers see only their fields.
            fields.append(f"{IDEMPOTENCY_KEY}: str | None = Field(None, min_length=1, max_length=128, exclude=True)")
            self.shared.idempotency = True
        self.shared.renames = self.shared.renames or bool(event.renamed_from and event.sunset)
        if any(f.enum is not None for f in event.payload.values()):
            self.shared.typing_names.add("Literal")
        if any(" = Field(" in decl for decl in fields):
            self.shared.pydantic_names.add("Field")  # imported only when used: an unused import fails ruff's F401
        direction = "client to server" if event.direction == "client_to_server" else "server to client"
        return ModelView(
            name=model_name(event),
            base="ClientPayload" if event.direction == "client_to_server" else "ServerPayload",
            doc=f"Payload of `{event.name}` ({direction}). {event.description or ''}".strip(),
            fields=tuple(fields),
        )

    def _handler(self, item: LoadedSpec, i: int, event: EventSpec, room: RoomSpec | None) -> HandlerView:
        self.shared.client_events = True
        for key in sorted(TRACE_KEYS & set(event.payload)) if self.config.telemetry == "opentelemetry" else ():
            self.problems.append(
                item.at(
                    ("events", i, "payload", key),
                    f"'{key}' is where a client sends its W3C trace context while telemetry is on: rename the field",
                )
            )
        limit = event.rate_limit
        self.shared.rate_limits = self.shared.rate_limits or limit is not None
        sequenced_join = room is not None and room.sequenced and event.action == "join"
        view = HandlerView(
            name=event.name,
            template=room.pattern if room else "",
            func=f"on_{event.snake}",
            doc=handler_doc(event, room, item.path),
            model=model_name(event),
            action=event.action or "",
            room_func=room_func(item.spec.name, event.room) if event.room else "",
            room_args=", ".join(f"{p}=payload.{p}" for p in room.params) if room else "",
            room_params="{" + ", ".join(f"{py_str(p)}: payload.{p}" for p in room.params) + "}" if room else "{}",
            timeout=seconds(event.timeout_s if event.timeout_s is not None else self.config.timeout_s),
            # Validation runs either way; a join or leave of a room without params reads
            # nothing from the result, and an unused `payload` is ruff's F841.
            payload_var="payload"
            if (room and room.params) or event.action in ("relay", "handle") or sequenced_join
            else "_",
            sequenced=sequenced_join,
            presence=_presence_args(item.spec.name, event, room),
            idempotent=event.idempotent,
            # A retry waits for a first call still running about as long as its client waits for an ack.
            wait_s=repr(event.effective_timeout_ms / 1000),
            max_bytes=event.max_bytes if event.max_bytes is not None else self.config.max_bytes,
            rate_limit=f"rate={limit.rate}, per_s={limit.per_s!r}, burst={limit.effective_burst}" if limit else "",
            renames=renames(event),
        )
        if event.action == "join" and room is not None:
            return self._with_access(view, item, room)
        if event.action == "handle" and event.handler:
            # Imported on first call, not at the socket module's top: a handler module
            # may then import the socket module (its emit helpers) while it loads.
            self.shared.lazy_handlers = True
            self.plan.stubs.append(handler_stub(item, i, event, self.config, self.sources, self.problems))
            return _replace(view, handler_call=f"eventgen_models.handler({py_str(event.handler)})")
        return view

    def _with_access(self, view: HandlerView, item: LoadedSpec, room: RoomSpec) -> HandlerView:
        access = room.effective_access
        if access == "self":
            return _replace(view, access="self", self_param=room.params[0])
        if access == "authenticated":
            return view
        missing = missing_callable(access, self.config, self.sources, room.params)
        if missing:
            key = next(k for k, r in item.spec.rooms.items() if r is room)
            self.problems.append(item.at(("rooms", key, "access"), missing))
        return _replace(view, access="callable", access_call=self.import_callable(access))

    def _emitter(self, item: LoadedSpec, i: int, event: EventSpec, room: RoomSpec | None) -> EmitterView:
        helper = event.helper or ""
        if self.server in event.payload:
            # The helper's parameters are the payload fields: this one would shadow the server it emits with.
            message = f"payload field '{self.server}' would hide the Socket.IO server `{self.server}` inside the emit helper {helper}(); choose another name"
            self.problems.append(item.at(("events", i, "payload", self.server), message, key=True))
        required = [(n, f) for n, f in event.payload.items() if f.is_required]
        optional = [(n, f) for n, f in event.payload.items() if not f.is_required]
        signature = [f"{n}: {builtin_annotation(f)}" for n, f in required]
        signature += [
            f"{n}: {builtin_annotation(f)} = {py_value(f.default) if 'default' in f.model_fields_set else 'None'}"
            for n, f in optional
        ]
        sequenced = room is not None and room.sequenced
        target = f"room {room.pattern}" if room else "every connected client"
        return EmitterView(
            helper=helper,
            name=event.name,
            template=room.pattern if room else "",
            signature="*, " + ", ".join(signature) if signature else "",
            model=model_name(event),
            call_args=", ".join(f"{n}={n}" for n in event.payload),
            room_func=room_func(item.spec.name, event.room) if event.room else "",
            room_args=", ".join(f"{p}=payload.{p}" for p in room.params) if room else "",
            doc=f"Emit `{event.name}` to {target} ({item.path}). {event.description or ''}".strip()
            + (" Sequenced: the message also carries `seq` and `epoch`." if sequenced else ""),
            sequenced=sequenced,
            history=f"size={room.kept.size}, ttl_s={room.kept.ttl_s}" if sequenced and room else "",
            renames=renames(event),
        )

    def _call_sites(self, item: LoadedSpec, i: int, event: EventSpec) -> None:
        """The emit helper's calls patched into the endpoints the spec names (emit.from)."""
        helper = event.helper or ""
        for j, site in enumerate(event.emit.from_ if event.emit else []):
            loc = ("events", i, "emit", "from", j, "file")
            if not inside_root(self.config.root, site.file):
                self.problems.append(item.at(loc, f"file {site.file!r} is outside the project"))
                continue
            args: list[str] = []
            call_args: list[CallArg] = []
            implicit_ref = _ref(item, loc[:-1] + (("args",) if site.args else ("function",)))
            for name, f in event.payload.items():
                if name in site.args:
                    args.append(f"{name}={site.args[name].strip()}")
                    call_args.append(
                        CallArg(name, site.args[name].strip(), True, _ref(item, loc[:-1] + ("args", name)))
                    )
                elif f.is_required:
                    args.append(f"{name}={name}")
                    call_args.append(CallArg(name, name, False, implicit_ref))
            self.plan.regions.append(
                RegionEdit(
                    file=site.file,
                    id=f"{item.spec.name}/{event.name}@{site.function}",
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
            if site.file != self.config.socket_module:  # the helper is defined right there
                self.shared.router_helpers.setdefault(site.file, set()).add(helper)
            self.plan.region_files.add(site.file)

    def finish(self) -> None:
        """The shared code, once every spec is planned: the delivery runtime, imports, the models module."""
        config, shared = self.config, self.shared
        sources_label = ", ".join(s.path for s in self.specs)
        if shared.sequenced_rooms:
            shared.imports[("", DELIVERY_ALIAS)] = _Import(config.models_dotted.rpartition(".")[0], DELIVERY_ALIAS)
            body = render(
                "python/eventgen_delivery.py.j2", rooms=", ".join(shared.sequenced_rooms), redis_url=config.redis_url
            )
            self.plan.files.append(
                FileEdit(
                    file=runtime_module_file(config, DELIVERY_ALIAS), body=body, kind="python", source=sources_label
                )
            )
            shared.models.insert(0, SINCE_POSITION)
            shared.pydantic_names.add("Field")
        if shared.presence_rooms:
            shared.imports[("", PRESENCE_ALIAS)] = _Import(config.models_dotted.rpartition(".")[0], PRESENCE_ALIAS)
            body = render(
                "python/eventgen_presence.py.j2",
                rooms=", ".join(r.pattern for r in shared.presence_rooms),
                redis_url=config.redis_url,
                min_ttl_s=min(r.ttl_s for r in shared.presence_rooms),
                timeout_s=seconds(config.timeout_s),
            )
            self.plan.files.append(
                FileEdit(
                    file=runtime_module_file(config, PRESENCE_ALIAS), body=body, kind="python", source=sources_label
                )
            )
        self.plan.regions.insert(0, self._socket_imports())
        for file, helpers in sorted(shared.router_helpers.items()):
            body = render(
                "python/router_imports.py.j2", socket_import=config.socket_dotted, helpers=sorted(helpers)
            ).strip("\n")
            self.plan.regions.append(
                RegionEdit(
                    file=file, id="imports", source=f"{config.specs}/*.yaml", body=body, where="imports", blank_before=1
                )
            )
        self.plan.files.append(
            FileEdit(
                file=config.models_module, body=self._models_module(sources_label), kind="python", source=sources_label
            )
        )

    def _socket_imports(self) -> RegionEdit:
        body = render(
            "python/socket_imports.py.j2",
            models_import_line=import_as(self.config.models_dotted, MODELS_ALIAS),
            imports=sorted(self.shared.imports.values(), key=lambda imp: (imp.module, imp.name)),
        ).strip("\n")
        # One label whatever the number of specs: adding or removing a spec must not
        # rewrite a region whose code did not change.
        return RegionEdit(
            file=self.config.socket_module,
            id="imports",
            source=f"{self.config.specs}/*.yaml",
            body=body,
            where="imports",
            blank_before=1,
        )

    def _models_module(self, sources_label: str) -> str:
        config, shared = self.config, self.shared
        return render(
            "python/event_models.py.j2",
            sources=sources_label,
            rooms=shared.rooms,
            models=shared.models,
            typing_imports=", ".join(sorted(shared.typing_names)),
            limits=Limits(
                seconds(config.timeout_s),
                config.max_rooms_per_socket,
                config.max_inflight_per_socket,
                config.session_value,
            ),
            idempotency=shared.idempotency,
            renames=shared.renames,
            rate_limits=shared.rate_limits,
            rate_disconnect=(
                RateDisconnect(config.rate_limit_disconnect_after, seconds(config.rate_limit_disconnect_window_s))
                if shared.rate_limits and config.rate_limit_disconnect_after
                else None
            ),
            telemetry=config.telemetry == "opentelemetry",
            client_events=shared.client_events,
            handlers=shared.lazy_handlers,
            presence=bool(shared.presence_rooms),
            sequenced=bool(shared.sequenced_rooms),
            pydantic_imports=", ".join(sorted(shared.pydantic_names)),
        )


def _replace(view: HandlerView, **changes: str) -> HandlerView:
    from dataclasses import replace

    return replace(view, **changes)  # type: ignore[arg-type]  # only the str fields are replaced


def _presence_args(spec: str, event: EventSpec, room: RoomSpec | None) -> str:
    """The arguments a presence room's join passes to eventgen_presence.track() (CONTRACT 9); "" otherwise.
    Its leave needs none: "leave" marks it."""
    if room is None or not room.presence or event.action not in ("join", "leave") or event.room is None:
        return ""
    if event.action == "leave":
        return "leave"
    params = "{" + ", ".join(f"{py_str(p)}: payload.{p}" for p in room.params) + "}"
    return f"{py_str(presence_event(spec, event.room))}, {params}, {room.ttl_s}"


def runtime_module_file(config: Config, name: str) -> str:
    """A generated runtime module (sequenced delivery, presence): beside the models module."""
    parent = config.models_module.rpartition("/")[0]
    return f"{parent}/{name}.py" if parent else f"{name}.py"


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
