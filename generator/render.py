"""The Jinja environment and the named escaping filters every template string goes through.

Templates hold no logic beyond loops over prepared view models; every piece of
user text reaches generated code through one of the filters below, each named
for the context it makes text safe in.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from .spec.models import camel, event_snake, pascal
from .text_safety import UNSAFE, one_line


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "templates"  # inside the wheel
    return installed if installed.is_dir() else here.parent / "templates"


def schemas_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "schemas"
    return installed if installed.is_dir() else here.parent / "schemas"


# -- escaping filters ------------------------------------------------------
#
# Spec text is free text: quotes, Jinja syntax, `</script>`, control characters,
# line separators, bidi overrides and emoji all arrive here. Every filter below
# turns any string into text that is safe where its name says, and literal
# filters keep the value exact (a Python or JSON parser gives the input back).
#
# Characters that are `unsafe` (generator/text_safety.py: controls, surrogates,
# line separators, bidi controls) never reach a generated file raw.

_PY_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _code_point_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def py_str(value: Any) -> str:
    """A double-quoted Python string literal that evaluates to exactly `value` (requoting to the file's style happens later)."""
    # The named escapes first; what is still unsafe after them gets its code point.
    text = str(value).translate(_PY_ESCAPES)
    return '"' + UNSAFE.sub(lambda m: _code_point_escape(m.group()), text) + '"'


def py_doc(value: Any) -> str:
    """Text for a triple-double-quoted docstring whose value is `one_line(value)`."""
    return one_line(value).replace("\\", "\\\\").replace('"', '\\"')


def py_comment(value: Any) -> str:
    """Text safe in a `#` comment: one line, nothing unsafe."""
    return one_line(value)


def js_str(value: Any) -> str:
    """A JSON string literal (so also a JS/TS one) with exactly `value`'s text, safe inside a Svelte or HTML <script>.

    `</` and `<!--` would end or confuse a <script> element even inside a string.
    """
    text = json.dumps(str(value), ensure_ascii=False)
    text = UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def js_doc(value: Any) -> str:
    """Text safe inside a /** ... */ comment, on one line, even in a Svelte or HTML <script>
    (where `</script>` in a comment would still end the element)."""
    text = one_line(value)
    return text.replace("*/", "*\\/").replace("</", "<\\/").replace("<!--", "<\\!--")


def html(value: Any) -> str:
    """Text safe in markup, Svelte markup included (`{` starts an expression there), and in an HTML comment (no `--`)."""
    text = UNSAFE.sub(lambda m: m.group() if m.group() in "\t\n\r" else " ", str(value))
    escaped = str(markupsafe.escape(text)).replace("--", "&#45;&#45;")
    return escaped.replace("{", "&#123;").replace("}", "&#125;")


def py_value(value: Any) -> str:
    """A Python literal for a JSON-like default value."""
    if isinstance(value, str):
        return py_str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_str(k)}: {py_value(v)}" for k, v in value.items()) + "}"
    return py_str(value)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # escaping is explicit, per target language, through the filters below
    )
    env.filters.update(
        py_str=py_str,
        py_doc=py_doc,
        py_comment=py_comment,
        py_value=py_value,
        js_str=js_str,
        js_doc=js_doc,
        html=html,
        pascal=pascal,
        camel=camel,
        snake=event_snake,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
