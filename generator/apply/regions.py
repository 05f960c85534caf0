"""Upsert and remove marked regions in one user Python file: one parse at most, one splice pass.

Regions are found by their marker lines; libcst is consulted only when a
region is new and needs an anchor. Every change is a splice of whole lines, so
all bytes outside regions stay exactly as they were.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import Diagnostic, EventgenError, Exit
from ..markers import (
    FoundRegion,
    begin_line,
    digest,
    end_line,
    normalize_python,
    scan_regions,
    split_lines,
)
from ..plan.types import RegionEdit, SpecRef
from ..pystyle import Style, adapt, detect_style
from ..report import Item, Report
from ..sources import SourceFile, Sources

if TYPE_CHECKING:  # anchors imports libcst, which only a new region needs
    from ..read.bindings import Bindings
    from .anchors import Insertion, Located

# Blank lines a top-level region brings with it, and takes away again: two before handlers
# (PEP 8, between definitions), one before imports (isort ends the user's import block there).
_MODULE_GAP = 2
_IMPORTS_GAP = 1

# Python (and libcst) end lines at \r\n, \r or \n only; str.splitlines also splits at form
# feeds, \x1c-\x1e, \x85 and \u2028/9, which would shift every line number libcst reports.


@dataclass(frozen=True)
class _Splice:
    start: int  # first line index replaced (0-based)
    stop: int  # one past the last replaced line; start == stop inserts
    text: str
    order: int


def patch_regions(
    src: SourceFile,
    edits: list[RegionEdit],
    sources: Sources,
    report: Report,
    *,
    force: bool,
    remove_orphans: bool,
) -> str:
    """Return the file's new text."""
    patcher = _FilePatcher(src, edits, sources, report, force=force)
    for order, edit in enumerate(edits):
        patcher.patch(order, edit)
    if patcher.problems:
        raise EventgenError(patcher.problems)
    if remove_orphans:
        patcher.remove_orphans({e.id for e in edits})
    return patcher.result()


class _FilePatcher:
    """One Python file's regions: each edit becomes a splice of its lines; the file is parsed
    (stdlib, then libcst) only when an edit needs to know where its anchor is."""

    def __init__(
        self, src: SourceFile, edits: list[RegionEdit], sources: Sources, report: Report, *, force: bool
    ) -> None:
        self.src, self.sources, self.report, self.force = src, sources, report, force
        self.lines = split_lines(src.text)
        self.found = scan_regions(self.lines, src.path)
        self.styles = _Styles(src.text, self.lines, self.found)
        self.by_id = {r.id: r for r in self.found}
        self.splices: list[_Splice] = []
        self.problems: list[Diagnostic] = []
        self.imported: set[str] = set().union(*(_free_names(e.body, bound=True) for e in edits if e.where == "imports"))
        self._located: Located | None = None
        self._tree: ast.Module | None = None

    def locate(self) -> Located:
        if self._located is None:
            from .anchors import Located

            self._located = Located(self.src.path, self.sources.cst(self.src.path))
        return self._located

    def parsed(self) -> ast.Module:
        if self._tree is None:
            try:
                self._tree = ast.parse(self.src.text)
            except SyntaxError as err:
                self.locate()  # reports the syntax error with its position (exit 2)
                # libcst took it, this Python's ast does not (newer syntax): the same diagnostic.
                where = Diagnostic(self.src.path, err.lineno or 0, err.offset or 0, f"cannot parse Python: {err.msg}")
                raise EventgenError(where) from None
        return self._tree

    def patch(self, order: int, edit: RegionEdit) -> None:
        current = self.by_id.get(edit.id)
        if current is not None and self._misplaced(current, edit):
            self._move(order, edit, current)
        elif current is not None and (missing := self._unbound(edit)):
            self.problems.extend(missing)
        elif current is not None:
            self._update(order, edit, current)
        else:
            self._insert(order, edit)

    def _misplaced(self, region: FoundRegion, edit: RegionEdit) -> bool:
        """An emit call whose endpoint or anchor changed under it must move (or fail, exit 2)."""
        if edit.where != "call":
            return False
        from ..read.call_sites import in_place

        return not in_place(
            self.parsed(), region, edit.function, edit.after, self.found, before=edit.before, lines=self.lines
        )

    def _unbound(self, edit: RegionEdit) -> list[Diagnostic]:
        """Names the generated call reads that the endpoint does not define, each said at the
        spec's words that asked for it: an implicit field, or a name inside an args expression."""
        if edit.where != "call":
            return []
        from ..read.call_sites import bound_names, unbound_names
        from ..suggest import did_you_mean

        bound = bound_names(self.parsed(), edit.function)
        if bound is None:
            return []
        path = self.src.path
        problems: list[Diagnostic] = []
        implicit: list[str] = []
        for arg in edit.call_args:
            names = unbound_names(self.parsed(), edit.function, arg.expr, bound)
            if not arg.explicit:
                implicit.extend(names)
                continue
            ref = arg.ref or edit.args_ref
            for name in names:
                problems.append(
                    _at(
                        ref,
                        path,
                        f"args.{arg.field}: '{name}' is not defined in {edit.function}() ({path}){did_you_mean(name, bound)}",
                        "an args value is a Python expression evaluated in the endpoint, where the call is inserted",
                    )
                )
        if implicit:
            listed = ", ".join(f"'{n}'" for n in sorted(set(implicit)))
            problems.append(
                _at(
                    edit.args_ref,
                    path,
                    f"the emit call in {edit.function}() ({path}) reads {listed}, which the endpoint does not define",
                    "a payload field missing from emit.from.args is passed as a variable of the same name; add it to args",
                )
            )
        return problems

    def _insertion(self, edit: RegionEdit, regions: list[FoundRegion]) -> Insertion | None:
        """Where a new or moved region goes; None (the problems noted) when its anchor is wrong."""
        try:
            insertion = _insertion(
                edit, self.locate, regions, self.lines, self.src, self.imported, generated=self.found
            )
        except EventgenError as exc:
            if exc.exit_code != Exit.INVALID:
                raise
            self.problems.extend(exc.diagnostics)  # keep going: report every bad anchor in one run
            return None
        if missing := self._unbound(edit):
            self.problems.extend(missing)
            return None
        return insertion

    def _move(self, order: int, edit: RegionEdit, current: FoundRegion) -> None:
        if digest(normalize_python(current.body)) != current.sha and not self.force:
            self.report.add(Item("edited", self.src.path, _what(edit.id), current.line))
            return
        insertion = self._insertion(edit, [r for r in self.found if r is not current])
        if insertion is None:
            return
        sha = digest(normalize_python(edit.body))
        self.splices.append(_Splice(current.begin, current.end + 1, "", order))
        self.splices.append(
            _Splice(
                insertion.after_line,
                insertion.after_line,
                _region_text(edit, sha, self.styles.file(), insertion.indent),
                order,
            )
        )
        self.report.add(
            Item("outdated", self.src.path, _what(edit.id), current.line, "moved: it no longer followed its anchor")
        )

    def _update(self, order: int, edit: RegionEdit, current: FoundRegion) -> None:
        expected_norm = normalize_python(edit.body)
        sha = digest(expected_norm)
        path, what = self.src.path, _what(edit.id)
        # The region as this run would write it proves it unchanged without a parse.
        if current.sha == sha and any(
            current.body == _body_text(edit, s, current.indent) for s in self.styles.guesses(current.body)
        ):
            self.report.add(Item("unchanged", path, what, current.line))
            return
        actual_norm = normalize_python(current.body)
        if actual_norm == expected_norm and current.sha == sha:
            self.report.add(Item("unchanged", path, what, current.line))
            return
        if digest(actual_norm) != current.sha and actual_norm != expected_norm:
            self.report.add(Item("edited", path, what, current.line))
            if not self.force:
                return
        else:
            self.report.add(Item("outdated", path, what, current.line))
        self.splices.append(
            _Splice(current.begin, current.end + 1, _region_text(edit, sha, self.styles.file(), current.indent), order)
        )

    def _insert(self, order: int, edit: RegionEdit) -> None:
        insertion = self._insertion(edit, self.found)
        if insertion is None:
            return
        text = _region_text(edit, digest(normalize_python(edit.body)), self.styles.file(), insertion.indent)
        nl = self.styles.file().newline
        gap = nl * edit.blank_before if insertion.after_line > 0 else ""
        at = insertion.after_line
        prefix = ""
        if at > 0 and at == len(self.lines) and not self.lines[-1].endswith(("\n", "\r")):
            prefix = nl  # the file ends without a newline: end its last line first (undone below)
        self.splices.append(_Splice(at, at, prefix + gap + text, order))
        self.report.add(Item("missing", self.src.path, _what(edit.id), at + 1))

    def remove_orphans(self, wanted: set[str]) -> None:
        for region in self.found:
            if region.id in wanted:
                continue
            if digest(normalize_python(region.body)) != region.sha:
                # A person changed it after it was generated: deleting it would lose their work.
                self.report.add(Item("edited", self.src.path, _what(region.id), region.line, "its spec is gone"))
                if not self.force:
                    continue
            start = region.begin
            if region.indent == "":
                gap, most = 0, _IMPORTS_GAP if region.id == "imports" else _MODULE_GAP
                while gap < most and start - 1 >= 0 and not self.lines[start - 1].strip():
                    start -= 1
                    gap += 1
            self.splices.append(_Splice(start, region.end + 1, "", -1))
            self.report.add(Item("orphaned", self.src.path, _what(region.id), region.line))

    def result(self) -> str:
        if not self.splices:
            return self.src.text
        new_lines = list(self.lines)
        # Bottom-up so earlier indexes stay valid; equal positions keep plan order.
        for splice in sorted(self.splices, key=lambda s: (s.start, s.order), reverse=True):
            new_lines[splice.start : splice.stop] = [splice.text] if splice.text else []
        return _keep_final_newline(self.src.text, "".join(new_lines))


def _at(ref: SpecRef | None, path: str, message: str, hint: str) -> Diagnostic:
    """A problem said at the spec's words when known, else at the file."""
    return Diagnostic(ref.path if ref else path, ref.line if ref else 0, ref.col if ref else 0, message, hint=hint)


def _keep_final_newline(before: str, after: str) -> str:
    """A file that ended without a newline still does: a region at its end carries none,
    so removing that region later gives back the file's exact last bytes."""
    if before and not before.endswith(("\n", "\r")):
        for ending in ("\r\n", "\n", "\r"):
            if after.endswith(ending):
                return after[: -len(ending)]
    return after


def _what(region_id: str) -> str:
    if region_id == "imports":
        return "imports region"
    if "/" in region_id:
        spec, _, rest = region_id.partition("/")
        event, _, function = rest.partition("@")
        return f"emit call for {event} in {function}() (spec {spec})"
    return f"handlers region of spec {region_id}"


def _region_text(edit: RegionEdit, sha: str, style: Style, indent: str) -> str:
    nl = style.newline
    return (
        indent
        + begin_line(edit.id, sha, edit.source)
        + nl
        + _body_text(edit, style, indent)
        + indent
        + end_line(edit.id)
        + nl
    )


def _body_text(edit: RegionEdit, style: Style, indent: str) -> str:
    """The lines between the markers."""
    return adapt(edit.body, style, indent) + style.newline


class _Styles:
    """The file's style, detected only when something is written: tokenizing a socket
    module that holds every spec's handlers costs about 1 ms per spec.

    `guesses()` only serve to recognise unchanged regions by their text, so a wrong
    guess costs a parse, never a wrong answer: first the templates' own style (most
    Python is written in it; nothing to detect), then the style of the user's code
    alone (regions left out), which stays small however many specs there are.
    """

    def __init__(self, text: str, lines: list[str], found: list[FoundRegion]) -> None:
        self._text = text
        self._lines = lines
        self._found = found
        self._file: Style | None = None
        self._guess: Style | None = None

    def file(self) -> Style:
        if self._file is None:
            self._file = detect_style(self._text)
        return self._file

    def guesses(self, body: str) -> Iterator[Style]:
        if self._file is not None:
            yield self._file
            return
        yield Style(newline="\r\n" if body.endswith("\r\n") else "\n")
        if self._guess is None:
            inside = {i for r in self._found for i in range(r.begin, r.end + 1)}
            user = "".join(line for i, line in enumerate(self._lines) if i not in inside)
            self._guess = detect_style(user)
        yield self._guess


def _insertion(
    edit: RegionEdit,
    locate: Callable[[], Located],
    found: list[FoundRegion],
    lines: list[str],
    src: SourceFile,
    imported: set[str],
    *,
    generated: list[FoundRegion],
) -> Insertion:
    """Where a new region goes. `imported`: names the planned imports region binds;
    `generated`: every region in the file (`found` may leave out the one being moved)."""
    from .anchors import (
        Insertion,
        call_insertion,
        handlers_insertion,
        imports_insertion,
    )

    loc = locate()
    if edit.where == "imports":
        return imports_insertion(loc, lines)
    if edit.where == "handlers":
        # Clashes of names and events with the user's code are refused before this, on every run (code_rules).
        problems: list[Diagnostic] = []
        bound = _user_bindings(src.text, src.path)
        if bound is not None and not bound.star_import:
            # Names the generated handlers read from the module (the server, the session pool):
            # missing ones would make every event fail at run time, so say so now.
            missing = _free_names(edit.body) - set(bound.lines) - imported - set(dir(builtins))
            if missing:
                problems.append(
                    Diagnostic(
                        src.path,
                        0,
                        0,
                        f"the handlers of spec '{edit.id}' use {', '.join(sorted(missing))}, which this module does not define",
                        hint="set session_pool (and server_name) in eventgen.toml to the names this module uses",
                    )
                )
        if problems:
            raise EventgenError(problems)
        ends = [r.end + 1 for r in found if r.indent == "" and r.id != "imports"]
        return handlers_insertion(loc, edit.server, ends, lines)
    insertion = call_insertion(
        loc,
        edit.function,
        edit.after,
        lines,
        edit.function_ref,
        before=edit.before,
        anchor_at=edit.anchor_ref,
        skip=[(r.begin + 1, r.end + 1) for r in generated],
    )
    # Calls generated earlier may already follow the anchor: a new one goes after them, so
    # their order is the order they were added in, and a second run finds them in place.
    following = {r.begin: r for r in found if r.indent == insertion.indent}
    line = insertion.after_line
    while line in following:
        line = following[line].end + 1
    return Insertion(line, insertion.indent)


@lru_cache(maxsize=8)
def _user_bindings(text: str, path: str) -> Bindings | None:
    """The names the user's code binds at module level, once per file text: every new
    handlers region asks, and parsing and walking the module each time made a first
    generate of N specs pay N parses of the socket module's own code."""
    from ..read.bindings import module_bindings
    from ..read.tree import user_tree

    read = user_tree(text, path)
    return module_bindings(read[0]) if read is not None else None


def _free_names(body: str, *, bound: bool = False) -> set[str]:
    """Module-level names a block reads without defining them (`bound`: the names it defines)."""
    table = symtable.symtable(body, "<region>", "exec")
    if bound:
        return {sym.get_name() for sym in table.get_symbols() if sym.is_imported() or sym.is_assigned()}
    defined = {sym.get_name() for sym in table.get_symbols() if sym.is_assigned() or sym.is_imported()}
    free: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        free.update(sym.get_name() for sym in scope.get_symbols() if sym.is_global() and sym.is_referenced())
        if scope is table:
            free.update(sym.get_name() for sym in scope.get_symbols() if sym.is_referenced() and not sym.is_assigned())
        stack.extend(scope.get_children())
    return free - defined
