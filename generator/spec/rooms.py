"""Room names as eventgen builds them (CONTRACT.md 6.1, 6.2).

A pattern is `:`-separated segments, each literal text or exactly one `{param}`, the
first one literal. Param values are escaped (`%` -> `%25`, `:` -> `%3A`) before they
go into a name, so a value can never add a segment: one room name has one reading.
Two patterns can then produce the same name only if they have as many segments and,
position by position, equal literals or a param on either side — `overlap` is that
test, exact, with no need to enumerate values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATOR = ":"
PARAM = re.compile(r"^\{([^{}]*)\}$")

# A segment: the literal text, or None for a param (any escaped value, never empty).
Segment = str | None


@dataclass(frozen=True)
class Shape:
    """A room pattern reduced to what decides which names it can produce."""

    segments: tuple[Segment, ...]

    @property
    def key(self) -> tuple[int, Segment]:
        """Patterns that can overlap share this key (same length, same literal first segment)."""
        return len(self.segments), self.segments[0]

    def shown(self) -> str:
        return SEPARATOR.join("{…}" if s is None else s for s in self.segments)


class PatternError(ValueError):
    pass


def parse_pattern(pattern: str) -> tuple[Shape, list[str]]:
    """The pattern's shape and its params in order; PatternError says what breaks 6.1."""
    segments: list[Segment] = []
    params: list[str] = []
    for i, part in enumerate(pattern.split(SEPARATOR)):
        m = PARAM.match(part)
        if m:
            if i == 0:
                raise PatternError(
                    f"room pattern {pattern!r} starts with a parameter; start with literal text such as 'feature:{{{m.group(1)}}}', so rooms of different features can never share a name"
                )
            segments.append(None)
            params.append(m.group(1))
        elif part.count("{") != part.count("}"):
            raise PatternError(f"room pattern {pattern!r} has an unbalanced '{{' or '}}'")
        elif "{" in part or "}" in part:
            raise PatternError(
                f"room pattern {pattern!r}: segment {part!r} mixes text and a parameter; a segment is literal text or exactly one {{param}} (separate them with ':')"
            )
        elif part == "":
            raise PatternError(f"room pattern {pattern!r} has an empty segment; segments are separated by a single ':'")
        else:
            segments.append(part)
    return Shape(tuple(segments)), params


def pattern_parts(pattern: str) -> list[tuple[str, bool]]:
    """The pattern as (text, is_param) pieces in order: what the Python and TypeScript room helpers
    concatenate, literal text as it stands and each param escaped."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in re.finditer(r"\{([^{}]*)\}", pattern):
        if m.start() > pos:
            parts.append((pattern[pos : m.start()], False))
        parts.append((m.group(1), True))
        pos = m.end()
    if pos < len(pattern):
        parts.append((pattern[pos:], False))
    return parts


def overlap(a: Shape, b: Shape) -> bool:
    """Whether some escaped values make both patterns build the same room name."""
    if len(a.segments) != len(b.segments):
        return False
    return all(x is None or y is None or x == y for x, y in zip(a.segments, b.segments))


def escape(value: object) -> str:
    """A param value as it goes into a room name; the generated Python and TypeScript match it."""
    return str(value).replace("%", "%25").replace(":", "%3A")


_ESCAPED = re.compile("%(25|3A)")


def unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: "%" if m.group(1) == "25" else SEPARATOR, text)


# A room name the app builds by hand: literal text and holes (values it does not escape).
Glob = tuple[str | None, ...]

_CHAR, _NOT_SEPARATOR, _ANY = 0, 1, 2


def _tokens_of_shape(shape: Shape) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    for i, segment in enumerate(shape.segments):
        if i:
            tokens.append((_CHAR, SEPARATOR))
        if segment is None:
            tokens.append((_NOT_SEPARATOR, ""))  # an escaped value: any text without ':'
        else:
            tokens.extend((_CHAR, c) for c in segment)
    return tokens


def _tokens_of_glob(glob: Glob) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    for piece in glob:
        if piece is None:
            tokens.append((_ANY, ""))  # an unescaped value: any text, ':' included
        else:
            tokens.extend((_CHAR, c) for c in piece)
    return tokens


def _meet(a: tuple[int, str], b: tuple[int, str]) -> bool:
    """Whether one character fits both tokens."""
    if a[0] == _CHAR and b[0] == _CHAR:
        return a[1] == b[1]
    if a[0] == _CHAR or b[0] == _CHAR:
        char, other = (a, b) if a[0] == _CHAR else (b, a)
        return other[0] == _ANY or char[1] != SEPARATOR
    return True


def overlaps_glob(shape: Shape, glob: Glob) -> bool:
    """Whether a name the app builds by hand can equal one the pattern builds (CONTRACT 6.2).

    The app does not escape its values, so a hole may hold ':' and span segments
    (`f"doc_{document_id}"` with document_id "secret:x1" is `doc_secret:x1`). Both sides
    are regular languages; this walks their product automaton for a common word.
    """
    left, right = _tokens_of_shape(shape), _tokens_of_glob(glob)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(left) and j == len(right):
            return True
        # A value may be empty here (conservative): skip a repeating token.
        if i < len(left) and left[i][0] != _CHAR:
            stack.append((i + 1, j))
        if j < len(right) and right[j][0] != _CHAR:
            stack.append((i, j + 1))
        if i < len(left) and j < len(right) and _meet(left[i], right[j]):
            stack.append((i + (left[i][0] == _CHAR), j + (right[j][0] == _CHAR)))
    return False
