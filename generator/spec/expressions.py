"""Whether a spec's `emit.from[].args` value can be pasted into a call as a keyword argument.

The expression lands in `await helper(field=EXPR, ...)` inside the user's
endpoint, on one line. Parsing it alone is not enough: `x  # note` parses but
comments out the rest of the call, `yield x` parses in parentheses but turns
the endpoint into a generator, and a raw control character or line separator
splits the line for some readers and not for others.
"""

from __future__ import annotations

import ast
import io
import tokenize

from ..text_safety import UNSAFE

_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def argument_problem(name: str, expr: str) -> str | None:
    """What is wrong with `expr` as the value of argument `name`, in plain words; None when it is fine."""
    text = expr.strip()
    if not text:
        return f"argument {name!r} is empty: write a Python expression"
    if any(ch in _LINE_BREAKS for ch in text):
        return f"argument {name!r} must be a one-line expression"
    bad = UNSAFE.search(text)
    if bad:
        return f"argument {name!r} contains the control character U+{ord(bad.group()):04X}; write it as an escape inside a string"
    if _has_comment(text):
        return f"argument {name!r}: {expr!r} contains a comment, which would swallow the rest of the call"
    try:
        tree = ast.parse(f"f(_={text})", mode="eval")
    except SyntaxError:
        try:
            ast.parse(text, mode="eval")
        except SyntaxError as exc:
            return f"argument {name!r}: {expr!r} is not a Python expression ({exc.msg})"
        return f"argument {name!r}: {expr!r} cannot be used as a call argument; wrap it in parentheses"
    if any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in ast.walk(tree)):
        return f"argument {name!r}: 'yield' would turn the endpoint into a generator"
    return None


def _has_comment(text: str) -> bool:
    found = False
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            found = found or tok.type == tokenize.COMMENT
    except (tokenize.TokenError, SyntaxError):
        pass  # an unfinished expression: the parse below says what is wrong
    return found
