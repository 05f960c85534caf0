"""A Python file's house style (quotes, indentation, line endings) and how to render into it.

Templates are written in one style (double quotes, four spaces, LF); generated
blocks are converted to the style of the file they land in, so a patched file
reads as if one person wrote it.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    quote: str = '"'
    indent: str = "    "
    newline: str = "\n"


def detect_style(text: str) -> Style:
    return Style(quote=_dominant_quote(text), indent=_indent_unit(text), newline=_dominant_newline(text))


def _dominant_newline(text: str) -> str:
    # The majority decides: one stray CRLF line must not turn generated code to CRLF.
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


def _dominant_quote(text: str) -> str:
    # Count plain string literals only: docstrings are triple-quoted either way.
    single = double = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.STRING:
                continue
            body = tok.string.lstrip("rbuRBUfF")
            if body.startswith(('"""', "'''")):
                continue
            if body.startswith('"'):
                double += 1
            elif body.startswith("'"):
                single += 1
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return '"'
    return "'" if single > double else '"'


_INDENT = re.compile(r"^([ \t]+)\S", re.MULTILINE)


def _indent_unit(text: str) -> str:
    """The step by which blocks indent, read from the tokenizer's INDENT tokens: continuation
    lines and text inside brackets or strings are aligned freely and say nothing about it."""
    steps: dict[str, int] = {}
    stack = [""]
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.INDENT:
                outer = stack[-1]
                step = tok.string.removeprefix(outer)
                steps[step] = steps.get(step, 0) + 1
                stack.append(tok.string)
            elif tok.type == tokenize.DEDENT:
                stack.pop()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _indent_unit_by_lines(text)
    if not steps:
        return "    "
    return max(steps, key=lambda step: (steps[step], step == "    "))


def _indent_unit_by_lines(text: str) -> str:
    """For a file the tokenizer rejects: the smallest leading whitespace in use."""
    widths: dict[str, int] = {}
    for m in _INDENT.finditer(text):
        lead = m.group(1)
        if lead.startswith("\t"):
            widths["\t"] = widths.get("\t", 0) + 1
        elif len(lead) in (2, 4, 8) and " " * len(lead) == lead:
            widths[lead] = widths.get(lead, 0) + 1
    if not widths:
        return "    "
    if widths.get("\t", 0) > sum(v for k, v in widths.items() if k != "\t"):
        return "\t"
    # The smallest indentation in common use is the unit.
    spaces = sorted(k for k in widths if k != "\t")
    return spaces[0] if spaces else "    "


def requote(code: str, quote: str) -> str:
    """Turn simple double-quoted literals into single-quoted ones when the file prefers them."""
    if quote == '"':
        return code
    out: list[str] = []
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    last = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code
    for tok in tokens:
        if tok.type != tokenize.STRING:
            continue
        s = tok.string
        prefix = re.match(r"^[rbuRBU]*", s).group(0)  # type: ignore[union-attr]  # `*` matches every string
        body = s[len(prefix) :]
        if not body.startswith('"') or body.startswith('"""') or "'" in body or "\\" in body:
            continue
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        out.append(code[last:start])
        out.append(prefix + "'" + body[1:-1] + "'")
        last = end
    out.append(code[last:])
    return "".join(out)


def reindent(code: str, unit: str, base: str = "") -> str:
    """Re-express four-space template indentation in `unit`, then prefix every line with `base`."""
    result = []
    for line in code.split("\n"):
        if not line.strip():
            result.append("")
            continue
        stripped = line.lstrip(" ")
        level, extra = divmod(len(line) - len(stripped), 4)
        result.append(base + unit * level + " " * extra + stripped)
    return "\n".join(result)


def adapt(code: str, style: Style, base: str = "") -> str:
    """Template text (LF, 4 spaces, double quotes) in the file's style, indented by `base`."""
    code = requote(code, style.quote)
    code = reindent(code, style.indent, base)
    return code.replace("\n", style.newline) if style.newline != "\n" else code
