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


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "templates"  # inside the wheel
    return installed if installed.is_dir() else here.parent / "templates"


def schemas_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "schemas"
    return installed if installed.is_dir() else here.parent / "schemas"


# -- escaping filters ------------------------------------------------------

_PY_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def py_str(value: Any) -> str:
    """A double-quoted Python string literal (requoting to the file's style happens later)."""
    text = str(value)
    out = []
    for ch in text:
        if ch in _PY_ESCAPES:
            out.append(_PY_ESCAPES[ch])
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def py_doc(value: Any) -> str:
    """Text safe inside a triple-double-quoted docstring, on one line."""
    text = " ".join(str(value).split())
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return "".join(ch if ord(ch) >= 0x20 and ch not in "\u2028\u2029" else " " for ch in text)


def py_comment(value: Any) -> str:
    """Text safe in a `#` comment: one line."""
    return " ".join(str(value).split())


def js_str(value: Any) -> str:
    """A JSON string literal that is also safe inside TS and a Svelte <script>."""
    text = json.dumps(str(value), ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("</", "<\\/").replace("<!--", "<\\!--")


def js_doc(value: Any) -> str:
    """Text safe inside a /** ... */ comment, on one line, even in a Svelte or HTML <script>
    (where `</script>` in a comment would still end the element)."""
    text = " ".join(str(value).split())
    text = text.replace("*/", "*\\/").replace("\u2028", " ").replace("\u2029", " ")
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def html(value: Any) -> str:
    """Text safe in markup (and in an HTML comment: no `--`)."""
    return str(markupsafe.escape(str(value))).replace("--", "&#45;&#45;")


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


