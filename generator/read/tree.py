"""The user's code of a module as a stdlib syntax tree: eventgen's regions blanked out.

Generated regions are eventgen's own and change with the specs; what is left is what a
person wrote, with the file's line numbers, and parses in about a millisecond however
many specs there are.
"""

from __future__ import annotations

import ast
import warnings

from ..errors import ConflictError
from ..markers import scan_regions, split_lines


def user_tree(text: str, path: str) -> tuple[ast.Module, list[str]] | None:
    """The tree and the blanked lines; None when the file does not parse or its markers are
    damaged (the patching stage reports those with their positions)."""
    lines = split_lines(text)
    try:
        regions = scan_regions(lines, path)
    except ConflictError:
        return None
    for region in regions:
        # Blank lines, not removed ones: line numbers stay those of the file.
        lines[region.begin : region.end + 1] = ["\n"] * (region.end + 1 - region.begin)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escapes in user code: not ours to report
            tree = ast.parse("".join(lines), filename=path)
    except (SyntaxError, ValueError, RecursionError):  # ValueError: a NUL byte, before 3.12
        return None
    return tree, lines
