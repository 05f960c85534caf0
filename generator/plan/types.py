"""What a plan asks for, before anything is parsed or written: the plan's output, the patcher's input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Where = Literal["imports", "handlers", "call"]
Kind = Literal["python", "ts", "svelte"]


@dataclass(frozen=True)
class SpecRef:
    """A position in a spec: an error about an edit points back at the words that asked for it."""

    path: str
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class RegionEdit:
    """Upsert a marked region in a user's Python file."""

    file: str
    id: str
    source: str  # the spec file(s) it comes from, for the marker
    body: str  # template style: LF, four-space indent, double quotes, no base indent
    where: Where
    function: str = ""  # where == "call": the endpoint
    after: str = ""  # where == "call": the dotted callee to follow
    before: str = ""  # where == "call": "return" = just before the endpoint's final return (instead of `after`)
    blank_before: int = 0  # blank lines placed before the begin marker (removed with the region)
    server: str = ""  # where == "handlers": the socketio server's name
    file_ref: SpecRef | None = None  # where == "call": the spec's emit.from.file
    function_ref: SpecRef | None = None  # where == "call": the spec's emit.from.function
    args_ref: SpecRef | None = None  # where == "call": the spec's args, for names the endpoint lacks
    anchor_ref: SpecRef | None = None  # where == "call": the spec's after/before value
    call_args: tuple[CallArg, ...] = ()  # where == "call": the keyword arguments of the call, one by one


@dataclass(frozen=True)
class CallArg:
    """One keyword argument of a generated emit call, and where the spec asked for it."""

    field: str
    expr: str
    explicit: bool  # written in emit.from.args; else the payload field's own name, implicitly
    ref: SpecRef | None = None  # the args value (explicit) or the args mapping / function (implicit)


@dataclass(frozen=True)
class FileEdit:
    """Own a whole generated file."""

    file: str
    body: str  # without the marker line
    kind: Kind
    source: str
    spec: str | None = None  # the one spec that owns it; None when shared by all specs


@dataclass(frozen=True)
class StubEdit:
    """Create a user-owned function once; never compared or changed afterwards."""

    file: str
    function: str
    new_file: str  # content when the file does not exist
    append: str  # content appended when the file exists without the function


@dataclass
class Plan:
    regions: list[RegionEdit] = field(default_factory=list)
    files: list[FileEdit] = field(default_factory=list)
    stubs: list[StubEdit] = field(default_factory=list)
    # Where orphans may hide: Python files that may hold regions, folders of generated files.
    region_files: set[str] = field(default_factory=set)
    generated_dirs: set[str] = field(default_factory=set)
    generated_files: set[str] = field(default_factory=set)
