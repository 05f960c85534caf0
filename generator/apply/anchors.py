"""Find where generated code goes, by parsing with libcst, never by matching fixed text.

Each finder returns a 1-based line after which a block is inserted, plus the
indentation it must take. Edits themselves are line splices at statement
boundaries reported here, so every byte outside a region stays untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ..errors import Diagnostic, EventgenError
from ..plan.types import SpecRef
from ..read.server_cst import dotted, find_server


@dataclass(frozen=True)
class Insertion:
    after_line: int  # 0 = top of file
    indent: str


class Located:
    """A parsed module with positions resolved once."""

    def __init__(self, path: str, module: cst.Module) -> None:
        self.path = path
        self.module = module
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions: dict[cst.CSTNode, CodeRange] = dict(wrapper.resolve(PositionProvider))

    def start(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def end(self, node: cst.CSTNode) -> int:
        return self.positions[node].end.line

    def error(self, node: cst.CSTNode | None, message: str, hint: str | None = None) -> EventgenError:
        if node is None:
            return EventgenError(Diagnostic(self.path, 0, 0, message, hint=hint))
        pos = self.positions[node].start
        return EventgenError(Diagnostic(self.path, pos.line, pos.column + 1, message, hint=hint))


def _is_handler(stmt: cst.BaseStatement, server: str) -> bool:
    if not isinstance(stmt, cst.FunctionDef):
        return False
    for deco in stmt.decorators:
        target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        name = dotted(target) or ""
        if name in (f"{server}.on", f"{server}.event"):
            return True
    return False


def handlers_insertion(loc: Located, server: str, region_ends: list[int], lines: list[str]) -> Insertion:
    """After the last `@server.on/event` handler or eventgen region, else after the server."""
    line = 0
    found = find_server(loc.module)
    if found is not None and found[0] == server:
        line = loc.end(loc.module.body[found[1]])
    else:
        # A server made some other way (a factory): follow the first statement binding its name.
        for stmt in loc.module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(s, cst.Assign)
                and any(isinstance(t.target, cst.Name) and t.target.value == server for t in s.targets)
                for s in stmt.body
            ):
                line = loc.end(stmt)
                break
        if not line:
            raise loc.error(
                None,
                f"no assignment to the socketio server '{server}' found at module level",
                hint="set server_name in eventgen.toml",
            )
    for stmt in loc.module.body:
        if _is_handler(stmt, server):
            line = max(line, _past_indented_comments(loc.end(stmt), lines))
    for end in region_ends:
        line = max(line, end)
    return Insertion(line, "")


def _past_indented_comments(line: int, lines: list[str]) -> int:
    """A function's position ends at its last statement, but indented comments after it
    still read as part of it: keep them with the function, not after generated code."""
    last = line
    for i in range(line, len(lines)):
        text = lines[i]
        if not text.strip():
            continue
        if text[:1] in " \t" and text.lstrip().startswith("#"):
            last = i + 1
            continue
        break
    return last


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


def imports_insertion(loc: Located, lines: list[str]) -> Insertion:
    """After the last import of the file's leading run of imports (docstring allowed first);
    with no such run, below the file's header comments."""
    line = 0
    for i, stmt in enumerate(loc.module.body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        smalls = stmt.body
        if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in smalls):
            line = loc.end(stmt)
        elif (
            i == 0
            and len(smalls) == 1
            and isinstance(smalls[0], cst.Expr)
            and isinstance(smalls[0].value, (cst.SimpleString, cst.ConcatenatedString))
        ):
            line = loc.end(stmt)  # module docstring
        else:
            break
    return Insertion(line or _header_end(lines), "")


def _header_end(lines: list[str]) -> int:
    """Lines that must stay first: a shebang and an encoding cookie (Python reads them only
    on lines 1-2), and a leading comment block set off by a blank line, such as a licence."""
    n = 0
    if lines and lines[0].startswith("#!"):
        n = 1
    while n < min(2, len(lines)) and _CODING.match(lines[n]):
        n += 1
    block = n
    while block < len(lines) and lines[block].lstrip().startswith("#"):
        block += 1
    if block > n and block < len(lines) and not lines[block].strip():
        n = block
    return n


# -- router call sites --------------------------------------------------------


def _find_function(module: cst.Module, name: str) -> cst.FunctionDef | None:
    """The function (or Class.method) by that name; of several, the last, which is the one Python keeps."""
    *classes, function = name.split(".")
    body: list[cst.CSTNode] = list(module.body)
    for part in classes:
        found = [
            s
            for s in body
            if isinstance(s, cst.ClassDef) and s.name.value == part and isinstance(s.body, cst.IndentedBlock)
        ]
        if not found:
            return None
        body = list(found[-1].body.body)
    defs = [s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == function]
    return defs[-1] if defs else None


class _CallFinder(cst.CSTVisitor):
    def __init__(self, callee: str) -> None:
        self.callee = callee
        self.found = False

    def visit_Call(self, node: cst.Call) -> bool:
        if dotted(node.func) == self.callee:
            self.found = True
        return not self.found

    # Calls inside a nested function or lambda do not run at this statement.
    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _simple_statements(suite: cst.BaseSuite) -> list[cst.SimpleStatementLine | cst.SimpleStatementSuite]:
    """Every simple statement line in a function body, at any depth of if/try/with/for/while."""
    out: list[cst.SimpleStatementLine | cst.SimpleStatementSuite] = []
    if isinstance(suite, cst.SimpleStatementSuite):
        return [suite]
    assert isinstance(suite, cst.IndentedBlock)  # the other kind of suite
    for stmt in suite.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.append(stmt)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        else:
            for child in _child_suites(stmt):
                out.extend(_simple_statements(child))
    return out


def _child_suites(stmt: cst.BaseStatement) -> list[cst.BaseSuite]:
    suites: list[cst.BaseSuite] = []
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        suites.append(body)
    for handler in getattr(stmt, "handlers", ()) or ():
        suites.append(handler.body)
    for case in getattr(stmt, "cases", ()) or ():
        suites.append(case.body)
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):  # elif
        suites.extend(_child_suites(orelse))
    elif orelse is not None:
        suites.append(orelse.body)
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        suites.append(final.body)
    return suites


def call_insertion(
    loc: Located,
    function: str,
    after: str,
    lines: list[str],
    asked_at: SpecRef | None = None,
    *,
    before: str = "",
    anchor_at: SpecRef | None = None,
    skip: Sequence[tuple[int, int]] = (),
) -> Insertion:
    """Right after the one statement in `function` that calls `after`, in the same block;
    with `before="return"`, right before the endpoint's final return. `skip`: 1-based line
    ranges of generated regions, whose calls are not offered as anchors."""
    from ..suggest import closest_callee, did_you_mean

    fn = _find_function(loc.module, function)
    if fn is None:
        hint = "emit.from.function names an async endpoint defined in that file (Class.method for a method)"
        message = f"function '{function}' not found in {loc.path}{did_you_mean(function, _function_names(loc.module))}"
        if asked_at is not None:
            # The file holds no position for a name that is not in it: point at the spec's words.
            raise EventgenError(Diagnostic(asked_at.path, asked_at.line, asked_at.col, message, hint=hint))
        raise loc.error(None, message, hint=hint)
    if fn.asynchronous is None:
        raise loc.error(
            fn,
            f"function '{function}' is not async: the emit helper must be awaited",
            hint="make the endpoint `async def`",
        )
    if before == "return":
        return _before_final_return(loc, fn, function, lines, anchor_at)
    matches: list[cst.SimpleStatementLine | cst.SimpleStatementSuite] = []
    callees: list[str] = []
    for stmt in _simple_statements(fn.body):
        finder = _CallFinder(after)
        stmt.visit(finder)
        if finder.found:
            matches.append(stmt)
        if any(a <= loc.start(stmt) <= b for a, b in skip):
            continue  # generated code is no anchor to suggest
        collector = _CalleeCollector()
        stmt.visit(collector)
        callees.extend(c for c in collector.callees if c not in callees)
    if not matches:
        near = closest_callee(after, callees)
        guess = f" (did you mean '{near}'?)" if near else ""
        message = f"no statement in '{function}' ({loc.path}) calls '{after}'{guess}"
        shown = ", ".join(callees[:8]) + (", ..." if len(callees) > 8 else "")
        hint = (
            f"emit.from.after is the dotted callee of one statement in the endpoint; '{function}' calls {shown}"
            if callees
            else f"'{function}' calls nothing an emit could follow; use `before: return` to emit before its final return"
        )
        if anchor_at is not None:
            # The router holds no position for a call that is not in it: point at the spec's `after:`.
            raise EventgenError(Diagnostic(anchor_at.path, anchor_at.line, anchor_at.col, message, hint=hint))
        raise loc.error(fn, message, hint=hint)
    if len(matches) > 1:
        where = ", ".join(str(loc.start(m)) for m in matches)
        raise loc.error(
            matches[1],
            f"'{after}' is called by {len(matches)} statements in '{function}' (lines {where}); the anchor must match exactly one",
        )
    stmt = matches[0]
    if isinstance(stmt, cst.SimpleStatementSuite):
        raise loc.error(stmt, f"the call to '{after}' sits on one line with its block header; put it on its own line")
    if any(isinstance(s, (cst.Return, cst.Raise)) for s in stmt.body):
        raise loc.error(
            stmt,
            f"the call to '{after}' is in a return/raise statement, so code after it never runs",
            hint="assign the result to a name, then return it",
        )
    first = lines[loc.start(stmt) - 1]
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    return Insertion(loc.end(stmt), indent)


def final_return_block(body: cst.BaseSuite) -> cst.BaseSuite | None:
    """The block whose last statement ends the endpoint: its body, or the body of a
    with/try statement that is its last statement (followed down)."""
    while isinstance(body, cst.IndentedBlock) and body.body:
        last = body.body[-1]
        if isinstance(last, (cst.With, cst.Try)) and not (
            isinstance(last, cst.Try) and (last.orelse or last.finalbody)
        ):
            body = last.body
            continue
        return body
    return None


def _before_final_return(
    loc: Located, fn: cst.FunctionDef, function: str, lines: list[str], anchor_at: SpecRef | None
) -> Insertion:
    block = final_return_block(fn.body)
    last = block.body[-1] if isinstance(block, cst.IndentedBlock) and block.body else None
    if not (isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 and isinstance(last.body[0], cst.Return)):
        message = (
            f"'{function}' ({loc.path}) does not end with a return statement, so `before: return` has nowhere to go"
        )
        hint = "end the endpoint with `return ...`, or anchor the call with `after: Callee.name`"
        if anchor_at is not None:
            raise EventgenError(Diagnostic(anchor_at.path, anchor_at.line, anchor_at.col, message, hint=hint))
        raise loc.error(fn, message, hint=hint)
    first = lines[loc.start(last) - 1]
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    # Comments right above the return belong to it: the call goes above them.
    line = loc.start(last) - 1
    while (
        line > 0 and lines[line - 1].strip().startswith("#") and not lines[line - 1].lstrip().startswith("# eventgen:")
    ):
        line -= 1
    return Insertion(line, indent)


class _CalleeCollector(cst.CSTVisitor):
    """Dotted callees of the calls a statement makes, in source order (lambdas left out)."""

    def __init__(self) -> None:
        self.callees: list[str] = []

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted(node.func)
        if name and name not in self.callees:
            self.callees.append(name)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _function_names(module: cst.Module) -> list[str]:
    """Top-level functions and Class.method names of a module."""
    names: list[str] = []
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            names.append(stmt.name.value)
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            names.extend(f"{stmt.name.value}.{s.name.value}" for s in stmt.body.body if isinstance(s, cst.FunctionDef))
    return names
