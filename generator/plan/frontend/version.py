"""Which Svelte syntax the listeners use: runes (Svelte 5) or the legacy syntax (Svelte 3 and 4).

`svelte = "auto"` reads the dependency range in the `package.json` nearest to the
components folder. The range, not node_modules: the answer must not depend on
what happens to be installed on the machine that runs `eventgen check`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from ...config import Config
from ...errors import Diagnostic, EventgenError
from ...sources import Sources

Syntax = Literal[4, 5]

_SECTIONS = ("dependencies", "devDependencies", "peerDependencies")
_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class FrontendRoot:
    """The folder of the frontend's package.json ("" = project root) and the file, if any."""

    folder: str
    package_json: str | None


def frontend_root(config: Config, sources: Sources) -> FrontendRoot:
    """The nearest package.json walking up from the components folder to the project root."""
    folder = PurePosixPath(config.components)
    for candidate in (folder, *folder.parents):
        rel = "package.json" if str(candidate) == "." else f"{candidate.as_posix()}/package.json"
        if sources.exists(rel):
            return FrontendRoot("" if str(candidate) == "." else candidate.as_posix(), rel)
    return FrontendRoot("", None)


_SVELTE_CONFIGS = ("svelte.config.js", "svelte.config.mjs", "svelte.config.cjs", "svelte.config.ts")
# A plain Vite + Svelte app has a svelte.config.js too (for vitePreprocess); SvelteKit's sets `kit`.
_KIT_CONFIG = re.compile(r"@sveltejs/kit|@sveltejs/adapter-|\bkit\s*:")


def is_sveltekit(config: Config, sources: Sources) -> bool:
    """Whether the frontend is a SvelteKit app, whose `$lib` alias generated imports may use.

    SvelteKit is `@sveltejs/kit` among the package.json's dependencies, or a svelte.config.*
    (beside the package.json, or on the way up from the components) that configures `kit`.
    Anything else (a plain Vite + Svelte app, or no package.json to read) gets relative imports,
    which resolve in every layout.
    """
    root = frontend_root(config, sources)
    if root.package_json is not None:
        data = _package(sources.require(root.package_json, "read to tell SvelteKit from plain Svelte").text)
        if any(isinstance(deps, dict) and "@sveltejs/kit" in deps for deps in (data.get(s) for s in _SECTIONS)):
            return True
    folder = PurePosixPath(config.components)
    stop = PurePosixPath(root.folder) if root.folder else None
    for candidate in (folder, *folder.parents):
        prefix = "" if str(candidate) == "." else candidate.as_posix() + "/"
        for name in _SVELTE_CONFIGS:
            src = sources.get(prefix + name) if sources.exists(prefix + name) else None
            if src is not None and _KIT_CONFIG.search(src.text):
                return True
        if stop is not None and candidate == stop:
            break
    return False


def _package(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}  # reported with its position where the Svelte major is read
    return data if isinstance(data, dict) else {}


def svelte_syntax(config: Config, sources: Sources) -> Syntax:
    if config.svelte in ("4", "5"):
        return 4 if config.svelte == "4" else 5
    root = frontend_root(config, sources)
    if root.package_json is None:
        return 5  # nothing to read: the current major
    src = sources.require(root.package_json, 'read for svelte = "auto"')
    return syntax_from_package_json(src.text, root.package_json)


def syntax_from_package_json(text: str, path: str) -> Syntax:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventgenError(Diagnostic(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")) from None
    if not isinstance(data, dict):
        raise EventgenError(Diagnostic(path, 1, 1, "package.json must be a JSON object"))
    for section in _SECTIONS:
        deps = data.get(section)
        if isinstance(deps, dict) and "svelte" in deps:
            spec = deps["svelte"]
            lowest = lowest_major(spec) if isinstance(spec, str) else None
            if lowest is None or lowest < 3:
                line, col = _value_position(text, section)
                why = "Svelte 3 or newer is needed" if lowest is not None else "cannot tell its major version"
                raise EventgenError(
                    Diagnostic(
                        path,
                        line,
                        col,
                        f"svelte dependency {json.dumps(spec)}: {why}",
                        hint='set svelte = "4" (legacy syntax) or "5" (runes) in the eventgen configuration',
                    )
                )
            # A range that admits Svelte 4 gets the syntax both majors compile.
            return 5 if lowest >= 5 else 4
    return 5


def lowest_major(spec: str) -> int | None:
    """The lowest major version an npm range admits; None when the range does not say (`*`, `latest`, a URL)."""
    text = spec.strip()
    for prefix in ("npm:svelte@", "workspace:"):
        text = text.removeprefix(prefix)
    if not text or re.search(r"[/#]|^(file|link|git|github|http)", text):
        return None
    majors: list[int] = []
    for alternative in text.split("||"):
        comparators = alternative.replace(" - ", " <=").split()  # hyphen range: A - B
        lower = [_major(c) for c in comparators if not c.startswith("<")]
        if not comparators or not lower or None in lower:
            return None  # `*`, `x`, a dist-tag, or only an upper bound: it does not say
        majors.append(max(m for m in lower if m is not None))
    return min(majors) if majors else None


def _major(comparator: str) -> int | None:
    m = _NUMBER.search(comparator)
    return int(m.group(1)) if m else None


def _value_position(text: str, section: str) -> tuple[int, int]:
    """json keeps no positions: the `"svelte": ` value inside its section, found by scanning."""
    start = text.find(json.dumps(section))
    m = re.compile(r'"svelte"\s*:\s*').search(text, max(start, 0))
    if m is None:
        return 1, 1
    offset = m.end()
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col
