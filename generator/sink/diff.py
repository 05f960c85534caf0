"""The diff sink: the changes as a unified diff or a `git diff --stat` summary, written nowhere."""

from __future__ import annotations

import difflib

from ..apply.change import FileChange

_COLORS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
_BOLD = "\033[1m"
_RESET = "\033[0m"
_STAT_BAR = 40  # widest +/- bar of `--stat`; larger changes are scaled down, as git does


def _text(data: bytes | None) -> list[str]:
    """Lines as git sees them: split at LF only, so CR, form feed or U+2028 inside a line stay inside it."""
    if data is None:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _file_diff(change: FileChange, context: int = 3) -> list[str]:
    a = "/dev/null" if change.before is None else f"a/{change.path}"
    b = "/dev/null" if change.after is None else f"b/{change.path}"
    return list(difflib.unified_diff(_text(change.before), _text(change.after), a, b, n=context))


def unified_diff(changes: list[FileChange], *, color: bool = False) -> str:
    out: list[str] = []
    for change in sorted(changes, key=lambda c: c.path):
        # The first two lines are the file headers; any later line starting with
        # "---" or "+++" is a removed "--..." or added "++..." line of content.
        for n, line in enumerate(_file_diff(change)):
            eol = "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""
            body = line[: len(line) - len(eol)]
            if color:
                paint = _BOLD if n < 2 else _COLORS.get(line[:1], "")
                if paint:
                    body = paint + body + _RESET  # reset before CR LF: the terminator stays uncolored
            out.append(body + (eol or "\n"))
            if not eol:
                out.append("\\ No newline at end of file\n")
    return "".join(out)


def diff_stat(changes: list[FileChange], *, color: bool = False) -> str:
    """`git diff --stat`: one row per file, then the totals."""
    rows = []
    for change in sorted(changes, key=lambda c: c.path):
        add = rem = 0
        for line in _file_diff(change, context=0)[2:]:
            if line.startswith("+"):
                add += 1
            elif line.startswith("-"):
                rem += 1
        rows.append((change.path, add, rem))
    if not rows:
        return ""
    width = max(len(path) for path, _, _ in rows)
    biggest = max(add + rem for _, add, rem in rows)
    digits = len(str(biggest))
    plus, minus = ("\033[32m", "\033[31m") if color else ("", "")
    reset = _RESET if color else ""
    lines = []
    for path, add, rem in rows:
        bar_add, bar_rem = _scaled(add, rem, biggest)
        bar = (plus + "+" * bar_add + reset if bar_add else "") + (minus + "-" * bar_rem + reset if bar_rem else "")
        lines.append(f" {path.ljust(width)} | {str(add + rem).rjust(digits)} {bar}".rstrip())
    total_add = sum(r[1] for r in rows)
    total_del = sum(r[2] for r in rows)
    parts = [f"{len(rows)} file{'s' if len(rows) != 1 else ''} changed"]
    if total_add or not total_del:
        parts.append(f"{total_add} insertion{'s' if total_add != 1 else ''}(+)")
    if total_del or not total_add:
        parts.append(f"{total_del} deletion{'s' if total_del != 1 else ''}(-)")
    lines.append(" " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def _scaled(add: int, rem: int, biggest: int) -> tuple[int, int]:
    """Bar lengths: exact up to the bar width, else proportional with every nonzero side visible."""
    if biggest <= _STAT_BAR:
        return add, rem
    total = max(1, round((add + rem) * _STAT_BAR / biggest))
    bar_add = round(add * total / (add + rem)) if add + rem else 0
    if add and not bar_add:
        bar_add = 1
    bar_rem = total - bar_add
    if rem and not bar_rem:
        bar_rem = 1
        bar_add = max(1, bar_add - 1) if add else 0
    return bar_add, bar_rem
