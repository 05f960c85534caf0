"""Which characters of free spec text may never reach a generated file raw.

C0/C1 controls and DEL (NUL, ESC, ...), lone surrogates (not encodable as
UTF-8), U+2028/U+2029 (line breaks to JavaScript and to str.splitlines), the
bidi controls that make code read differently from how it runs ("Trojan
Source", CVE-2021-42574) and a stray byte-order mark. Literals escape them;
docstrings and comments turn them into spaces.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in BIDI_CONTROLS or ch == "\ufeff"


# The same set as one character class, so whole strings are searched at C speed instead of
# one category lookup per character: Cc is exactly U+0000-U+001F and U+007F-U+009F, Cs the
# surrogates, Zl and Zp one character each (a test compares the two on every code point).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def one_line(value: Any) -> str:
    """Free text as docstrings and comments show it: unsafe characters become spaces, whitespace runs one space."""
    return " ".join(UNSAFE.sub(" ", str(value)).split())
