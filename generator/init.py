"""`eventgen init`: look at a project, write `eventgen.toml`, create the specs folder.

Detection reads the code, never guesses from names alone: the socket module is
the Python file that assigns `socketio.AsyncServer(...)` at module level or in
an if/else (found with libcst, as generation finds it); the store module is a
.ts/.js file under the frontend's `src/` that exports `socket`; the Svelte major
comes from the `svelte` range in the frontend's package.json. The config holds
only what differs from the defaults; the defaults stay visible as comments.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import libcst as cst

from .apply.change import FileChange
from .config import CONFIG_FILE, Config, config_from_text, dotted_module, find_config
from .errors import Diagnostic, EventgenError
from .sink.write import project_lock, write_changes
from .sources import SKIP_DIRS

# Folders no project keeps its own sources in (dependencies, caches, build output).
_STORE_SUFFIXES = (".ts", ".js", ".mts", ".mjs")
_EXPORTS_SOCKET = re.compile(r"\bexport\s+(?:const|let|var)\s+socket\b|\bexport\s+function\s+socket\b")
_EXPORT_LIST = re.compile(r"\bexport\s*(?:type\s*)?\{([^}]*)\}")
_DEPENDENCY_SECTIONS = ("dependencies", "devDependencies", "peerDependencies")

SCHEMA_FILE = "event-spec.schema.json"
EXAMPLE_FILE = "examples/feature.yaml"  # in a subfolder: only <specs>/*.yaml are specs


@dataclass(frozen=True)
class Detection:
    socket_module: str | None = None
    server: str | None = None
    socket_candidates: tuple[str, ...] = ()
    frontend: str = ""  # folder of the frontend's package.json, "" = project root
    kit: bool = False
    store_module: str | None = None
    store_candidates: tuple[str, ...] = ()
    svelte_range: str | None = None
    svelte_major: int | None = None
    svelte_installed: int | None = None  # from node_modules, used only when the range does not tell
    svelte_lowest: int | None = None  # the lowest major the package.json range admits (3 gets a warning)
    components_major: int | None = None  # 5 when a component uses runes, 4 when they use only Svelte 4 syntax
    components_evidence: str = ""  # e.g. "12 of 14 components use export let / $: / on:"
    session_pool: str | None = None  # the mapping connect fills by sid
    session_pool_where: str = ""  # file:line of that assignment, and the handler
    session_pool_default_bound: bool = False  # whether the module binds SESSION_POOL itself
    session_value: str | None = None  # "dict" or "id" when the stores into the pool tell, else None
    session_value_why: str = ""  # the stored expressions, or why they do not tell


@dataclass
class InitResult:
    specs: str = ""
    example: str = ""
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_init(root: Path) -> InitResult:
    """Detect, write the config and the specs folder atomically; refuse an existing config."""
    root = root.resolve()
    if not root.is_dir():
        raise EventgenError(Diagnostic(str(root), 0, 0, "project folder not found"))
    with project_lock(root):
        existing = find_config(root)
        if existing is not None:
            raise EventgenError(
                Diagnostic(
                    existing,
                    0,
                    0,
                    "eventgen is already configured here; init never overwrites a configuration: edit it instead",
                )
            )
        detection = detect(root)
        values = settings(root, detection)
        result = InitResult()
        text = config_text(values, detection, root, result)
        config = config_from_text(root, text, CONFIG_FILE)  # what init writes must load
        changes = [FileChange(CONFIG_FILE, None, text.encode("utf-8"))]
        changes += _specs_folder(config, result)
        write_changes(root, changes)
    result.written = [c.path for c in changes]
    result.specs = config.specs
    result.example = f"{config.specs}/{EXAMPLE_FILE}"
    return result


# -- detection ---------------------------------------------------------------------------


def detect(root: Path) -> Detection:
    py_files, packages = _scan(root)
    servers = _servers(root, py_files)
    socket_module = _prefer(list(servers), Config.socket_module)
    frontend, package = _frontend(root, packages)
    deps = _dependencies(package)
    svelte_range = deps.get("svelte")
    store_candidates = _stores(root, frontend)
    server = servers.get(socket_module) if socket_module else None
    components_major, evidence = _components_major(root, frontend)
    pool = _session_pool(root, socket_module, server)
    return Detection(
        socket_module=socket_module,
        server=server,
        socket_candidates=tuple(sorted(servers)),
        frontend=frontend,
        kit="@sveltejs/kit" in deps or _kit_config(root, frontend),
        store_module=_prefer(store_candidates, _join(frontend, "src/lib/stores/index.ts")),
        store_candidates=tuple(store_candidates),
        svelte_range=svelte_range,
        svelte_major=_major_of_range(svelte_range),
        svelte_installed=_installed_major(root, frontend),
        svelte_lowest=_lowest_major(svelte_range),
        components_major=components_major,
        components_evidence=evidence,
        session_pool=pool[0],
        session_pool_where=pool[1],
        session_pool_default_bound=pool[2],
        session_value=pool[3],
        session_value_why=pool[4],
    )


def _kit_config(root: Path, frontend: str) -> bool:
    """A svelte.config.* that configures SvelteKit (a plain Vite app has one for vitePreprocess)."""
    from .plan.frontend.version import _KIT_CONFIG, _SVELTE_CONFIGS

    for name in _SVELTE_CONFIGS:
        try:
            text = (root / _join(frontend, name)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if _KIT_CONFIG.search(text):
            return True
    return False


def _lowest_major(spec: str | None) -> int | None:
    from .plan.frontend.version import lowest_major

    return lowest_major(spec) if spec is not None else None


# Runes exist only in Svelte 5; the rest is the syntax Svelte 3 and 4 components are written in.
_RUNES = re.compile(
    r"\$(?:props|state|derived|effect|bindable|inspect|host)\b\s*(?:\.\w+\s*)?\(|\{#snippet\b|\{@render\b"
)
_LEGACY = re.compile(
    r"^\s*export\s+let\s|^\s*\$:|\bon:[A-Za-z][\w-]*(?:\|[\w|]+)?\s*=|<slot\b|\bcreateEventDispatcher\b|\$\$(?:props|restProps|slots)\b",
    re.MULTILINE,
)


def _components_major(root: Path, frontend: str) -> tuple[int | None, str]:
    """The Svelte syntax the app's own components are written in: 5 if any uses runes (they
    compile on Svelte 5 only), 4 if they use only `export let`, `$:`, `on:`, `<slot>`."""
    base = root / _join(frontend, "src")
    if not base.is_dir():
        base = root / frontend if frontend else root
    runes = legacy = total = 0
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in filenames:
            if not name.endswith(".svelte"):
                continue
            try:
                text = (Path(dirpath) / name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "eventgen:file" in text.split("\n", 1)[0]:
                continue  # generated listeners say nothing about the app's own syntax
            total += 1
            if _RUNES.search(text):
                runes += 1
            elif _LEGACY.search(text):
                legacy += 1
    if runes:
        return 5, f"{runes} of {total} components use runes ($props, $state, ...)"
    if legacy:
        return (
            4,
            f"{legacy} of {total} components use Svelte 4 syntax (export let, $:, on:, <slot>) and none uses runes",
        )
    return None, ""


def _session_pool(
    root: Path, socket_module: str | None, server: str | None
) -> tuple[str | None, str, bool, str | None, str]:
    """(the mapping connect fills by sid, where, whether the module binds the default name,
    what it holds per sid -- "dict", "id" or None --, and the evidence for that)."""
    import ast

    from .read.sessions import find_session_pool, module_binds, session_shape

    if not socket_module or not server:
        return None, "", False, None, ""
    try:
        tree = ast.parse((root / socket_module).read_bytes(), filename=socket_module)
    except (OSError, SyntaxError, ValueError):
        return None, "", False, None, ""
    pool = find_session_pool(tree, server)
    default_bound = module_binds(tree, Config.session_pool)
    if pool is None:
        return None, "", default_bound, None, ""
    shape = session_shape(tree, server, pool.name)
    return pool.name, f"{socket_module}:{pool.line}, in {pool.handler}", default_bound, shape.value, shape.why


def _scan(root: Path) -> tuple[list[str], list[str]]:
    """Project-relative .py files and package.json files, outside dependency and cache folders."""
    py_files: list[str] = []
    packages: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if name.endswith(".py"):
                py_files.append(rel)
            elif name == "package.json":
                packages.append(rel)
    return py_files, packages


def _servers(root: Path, py_files: list[str]) -> dict[str, str]:
    """File -> server variable, for every file that creates a socketio.AsyncServer."""
    from .read.server_cst import find_server

    found: dict[str, str] = {}
    for rel in py_files:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if b"AsyncServer" not in data:  # cheap filter before a parse
            continue
        try:
            module = cst.parse_module(data)
        except (cst.ParserSyntaxError, UnicodeDecodeError):
            continue  # not ours to judge here; generation reports it if it is the socket module
        server = find_server(module)
        if server is not None:
            found[rel] = server[0]
    return found


def _prefer(candidates: list[str], default: str) -> str | None:
    """The default path when it is a candidate; else files outside test folders, then the shallowest."""
    if not candidates:
        return None
    if default in candidates:
        return default

    def rank(rel: str) -> tuple[bool, int, str]:
        parts = PurePosixPath(rel).parts
        in_tests = any(p in ("test", "tests") or p.startswith("test_") for p in parts)
        return in_tests, len(parts), rel

    return min(candidates, key=rank)


def _frontend(root: Path, packages: list[str]) -> tuple[str, dict[str, object]]:
    """The shallowest package.json that depends on svelte (the project root's wins a tie)."""
    best: tuple[int, str, dict[str, object]] | None = None
    for rel in packages:
        data = _json(root / rel)
        if data is None or "svelte" not in _dependencies(data):
            continue
        folder = PurePosixPath(rel).parent.as_posix()
        folder = "" if folder == "." else folder
        key = (0 if not folder else len(PurePosixPath(folder).parts), folder)
        if best is None or key < best[:2]:
            best = (*key, data)
    if best is None:
        return "", _json(root / "package.json") or {}
    return best[1], best[2]


def _json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _dependencies(package: dict[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for section in _DEPENDENCY_SECTIONS:
        deps = package.get(section)
        if isinstance(deps, dict):
            out.update({k: v for k, v in deps.items() if isinstance(v, str)})
    return out


def _major_of_range(spec: str | None) -> int | None:
    """The syntax major `svelte = "auto"` will pick from this range (4 or 5), or None if it cannot tell."""
    if spec is None:
        return None
    from .plan.frontend.version import lowest_major

    lowest = lowest_major(spec)
    if lowest is None or lowest < 3:
        return None
    return 5 if lowest >= 5 else 4


def _installed_major(root: Path, frontend: str) -> int | None:
    data = _json(root / _join(frontend, "node_modules/svelte/package.json"))
    version = data.get("version") if data else None
    m = re.match(r"(\d+)\.", version) if isinstance(version, str) else None
    return int(m.group(1)) if m else None


def _stores(root: Path, frontend: str) -> list[str]:
    """Modules under the frontend's src/ that export a `socket` binding."""
    base = root / _join(frontend, "src")
    out: list[str] = []
    if not base.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(_STORE_SUFFIXES) or name.endswith((".d.ts", ".d.mts")):
                continue
            path = Path(dirpath) / name
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if _exports_socket(text):
                out.append(path.relative_to(root).as_posix())
    return out


def _exports_socket(text: str) -> bool:
    if _EXPORTS_SOCKET.search(text):
        return True
    for m in _EXPORT_LIST.finditer(text):
        for item in m.group(1).split(","):
            words = item.split()
            if words and words[-1] == "socket":  # `socket` or `x as socket`
                return True
    return False


# -- the configuration ---------------------------------------------------------------------


def settings(root: Path, found: Detection) -> dict[str, str]:
    """Every configuration value init would choose (defaults included)."""
    defaults = Config(root=root)
    values = {
        "specs": defaults.specs,
        "socket_module": found.socket_module or defaults.socket_module,
        "models_module": defaults.models_module,
        "components": _join(found.frontend, "src/lib/components/realtime"),
        "types": _join(found.frontend, "src/lib/socket/events.ts"),
        "store_import": defaults.store_import,
        "svelte": defaults.svelte,
    }
    if found.socket_module:
        values["models_module"] = _join(PurePosixPath(found.socket_module).parent.as_posix(), "event_models.py")
    if found.store_module:
        values["store_import"] = store_import(found.store_module, found.frontend, found.kit, values["components"])
    if found.svelte_major is None and found.svelte_installed in (4, 5):
        values["svelte"] = str(found.svelte_installed)  # the range does not say; pin what is installed
    elif found.svelte_major is None and found.components_major in (4, 5):
        values["svelte"] = str(found.components_major)  # nothing in package.json: the components tell
    values["session_pool"] = found.session_pool or defaults.session_pool
    values["session_value"] = found.session_value or defaults.session_value
    return values


def store_import(store: str, frontend: str, kit: bool, components: str) -> str:
    """How a component in `components` imports the store module."""
    stem = PurePosixPath(store).with_suffix("").as_posix()
    lib = _join(frontend, "src/lib") + "/"
    if kit and stem.startswith(lib):
        spec = "$lib/" + stem[len(lib) :]
        return spec.removesuffix("/index")
    rel = os.path.relpath(stem, components).replace(os.sep, "/")
    return rel if rel.startswith("../") else f"./{rel}"


def config_text(values: dict[str, str], found: Detection, root: Path, result: InitResult) -> str:
    defaults = Config(root=root)

    def line(key: str) -> str:
        value = values[key]
        setting = f"{key} = {_toml_str(value)}"
        return setting if value != getattr(defaults, key) else f"# {setting}"

    out = [
        '# eventgen configuration, written by `eventgen init` (see the README, "Configuration").',
        "# Every key is optional: a commented-out line shows the default, the Open WebUI layout.",
        "",
        "# One YAML spec per feature.",
        line("specs"),
        "",
    ]
    out += _server_lines(found, result)
    out += [line("socket_module"), line("models_module")]
    module = dotted_module(root, values["socket_module"])
    out += [f"# Routers import the emit helpers from `{_comment(module)}` (socket_import overrides it)."]
    out += _session_pool_lines(found, result)
    out.append(line("session_pool"))
    out += _session_value_lines(found, result)
    out += [line("session_value"), ""]
    out += _store_lines(found, values, result)
    out += [line("store_import"), line("components"), line("types")]
    out += _svelte_lines(found, values, result)
    out.append(line("svelte"))
    return "\n".join(out) + "\n"


def _server_lines(found: Detection, result: InitResult) -> list[str]:
    if not found.socket_module:
        result.warnings.append(
            f"no Python file creates a socketio.AsyncServer; {CONFIG_FILE} keeps the default socket_module"
        )
        return ["# No file creating socketio.AsyncServer(...) was found: set socket_module to the one that will."]
    result.notes.append(f"the socket server `{found.server}` in {found.socket_module}")
    others = [c for c in found.socket_candidates if c != found.socket_module]
    if others:
        result.warnings.append(
            f"several files create a socketio.AsyncServer: {', '.join(found.socket_candidates)}; "
            f"using {found.socket_module} (change socket_module in {CONFIG_FILE} to pick another)"
        )
    return [f"# The socket server `{_comment(found.server or '')}` is created in {_comment(found.socket_module)}."]


def _session_pool_lines(found: Detection, result: InitResult) -> list[str]:
    if found.session_pool:
        result.notes.append(f"the session pool `{found.session_pool}` ({found.session_pool_where})")
        return [
            f"# Sessions: `{_comment(found.session_pool)}[sid]` is filled at {_comment(found.session_pool_where)}; generated handlers check it."
        ]
    if found.socket_module and not found.session_pool_default_bound:
        result.warnings.append(
            f"no handler in {found.socket_module} stores a session by sid (NAME[sid] = ...) and it defines no "
            f"{Config.session_pool}; set session_pool in {CONFIG_FILE} to the mapping generated handlers must check"
        )
        return ["# No handler of the socket server stores a session by sid: set session_pool to the mapping that will."]
    return []


def _session_value_lines(found: Detection, result: InitResult) -> list[str]:
    if found.session_pool and found.session_value is not None:
        held = "the user's id" if found.session_value == "id" else "a user dict"
        if found.session_value == "id":
            result.notes.append(
                f'the user\'s id in {found.session_pool}[sid]: {found.session_value_why}; session_value = "id"'
            )
        return [f"# It maps a sid to {held}: {_comment(found.session_value_why)}."]
    if found.session_pool:
        result.warnings.append(
            f'{found.socket_module}: {found.session_value_why}; keeping session_value = "dict" '
            f'(set session_value = "id" in {CONFIG_FILE} if it maps a sid to the user\'s id)'
        )
        return ["# The code does not tell whether it maps a sid to a user dict or to the user's id: set session_value."]
    return []


def _store_lines(found: Detection, values: dict[str, str], result: InitResult) -> list[str]:
    if not found.store_module:
        result.warnings.append(
            "no .ts/.js module under src/ exports `socket`; listeners will import it from " + values["store_import"]
        )
        return [
            "# No module under src/ exports a `socket` store yet: store_import is where listeners will import it from."
        ]
    result.notes.append(f"the `socket` store in {found.store_module} (imported as {values['store_import']})")
    if len(found.store_candidates) > 1:
        result.warnings.append(
            f"several modules export `socket`: {', '.join(found.store_candidates)}; using {found.store_module}"
        )
    return [f"# The `socket` store is exported by {_comment(found.store_module)}."]


def _svelte_lines(found: Detection, values: dict[str, str], result: InitResult) -> list[str]:
    if found.svelte_lowest == 3 or (found.svelte_major is None and found.svelte_installed == 3):
        source = (
            f"package.json asks for svelte {json.dumps(found.svelte_range)}"
            if found.svelte_lowest == 3
            else "Svelte 3 is installed"
        )
        result.warnings.append(
            f"Svelte 3 found ({source}): listeners are generated in Svelte 4 syntax, which is tested on Svelte 4 and 5 only; "
            "upgrade to Svelte 4 or 5, or check that the generated components compile"
        )
    range_text = _comment(json.dumps(found.svelte_range))
    if found.svelte_major is not None:
        shown = 3 if found.svelte_lowest == 3 else found.svelte_major
        result.notes.append(f"Svelte {shown} (package.json: svelte {found.svelte_range})")
        return [
            f'# Svelte {shown}: package.json asks for svelte {range_text}; "auto" follows it (Svelte {found.svelte_major} syntax).'
        ]
    if values["svelte"] != "auto" and found.svelte_installed in (4, 5):
        result.notes.append(f"Svelte {values['svelte']} installed (the package.json range does not tell)")
        return [
            f"# package.json's svelte range {range_text} does not tell the major; Svelte {values['svelte']} is installed, so it is pinned."
        ]
    if values["svelte"] != "auto":
        said = (
            "No package.json depends on svelte"
            if found.svelte_range is None
            else f"package.json's svelte range {range_text} does not tell the major"
        )
        result.notes.append(
            f"Svelte {values['svelte']} syntax in the existing components ({found.components_evidence})"
        )
        return [f"# {said}; {_comment(found.components_evidence)}, so Svelte {values['svelte']} syntax is pinned."]
    if found.svelte_range is not None:
        result.warnings.append(
            f'cannot tell the Svelte major from {json.dumps(found.svelte_range)}; set svelte = "4" or "5" in {CONFIG_FILE}'
        )
        return [f"# package.json's svelte range {range_text} does not tell the major: set svelte to 4 or 5."]
    return ['# No package.json depends on svelte: "auto" then means Svelte 5.']


def _specs_folder(config: Config, result: InitResult) -> list[FileChange]:
    """The schema (for editors) and a commented example, unless they are there already."""
    from .export.json_schema import spec_schema_text
    from .render import render

    wanted = {
        f"{config.specs}/{SCHEMA_FILE}": spec_schema_text(),
        f"{config.specs}/{EXAMPLE_FILE}": render("init/example_spec.yaml.j2"),
    }
    changes = []
    for rel, text in wanted.items():
        if (config.root / rel).exists():
            result.notes.append(f"{rel}: already there, left as it is")
            continue
        changes.append(FileChange(rel, None, text.encode("utf-8")))
    return changes


def _join(folder: str, rel: str) -> str:
    return f"{folder}/{rel}" if folder not in ("", ".") else rel


def _toml_str(value: str) -> str:
    # A JSON string is a TOML basic string, except that TOML also forbids a raw DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _comment(text: str) -> str:
    """Text safe on one comment line."""
    return " ".join(text.split())
