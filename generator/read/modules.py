"""Which of the project's Python modules can reach the Socket.IO server, and by what names."""

from __future__ import annotations

import ast
import os
from pathlib import Path, PurePosixPath

from ..config import Config
from ..sources import SKIP_DIRS


def walk(base: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not base.is_dir():
        return []
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        out.extend(Path(dirpath) / n for n in sorted(filenames) if n.endswith(suffixes))
    return out


def server_modules(config: Config, server: str, also: tuple[str, ...] = ()) -> list[str]:
    """The socket module, then every module under the import root that mentions the server's
    name (or one of `also`, names the socket module exports) and may import the socket module."""
    out = [config.socket_module] if (config.root / config.socket_module).is_file() else []
    base = config.root / config.python_root
    # Cheap byte tests before any parse: a name, and an import that may reach the socket module
    # (`from open_webui.socket import main as socket_main` names only its package).
    needles = [n.encode() for n in (server, *also)]
    package = config.socket_dotted.rpartition(".")[0] or config.socket_dotted
    module_hints = (package.encode(), b"from .")
    for path in walk(base, (".py",)):
        rel = path.relative_to(config.root).as_posix()
        if rel == config.socket_module:
            continue
        try:
            if not path.is_file():  # a FIFO would block the read; only regular files are modules
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if any(n in data for n in needles) and any(h in data for h in module_hints):
            out.append(rel)
    return out


def module_name(config: Config, rel: str) -> str:
    parts = PurePosixPath(rel).with_suffix("").relative_to(config.python_root).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def server_refs(imports: list[ast.Import | ast.ImportFrom], config: Config, rel: str, server: str) -> set[str]:
    """Dotted expressions naming the server in this module: `sio`, `socket_server`, `main.sio`..."""
    if rel == config.socket_module:
        return {server}
    target = config.socket_dotted
    package = _package(config, rel)
    refs: set[str] = set()
    for node in imports:
        if isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            for alias in node.names:
                if module == target and alias.name == server:
                    refs.add(alias.asname or server)
                elif f"{module}.{alias.name}" == target:
                    refs.add(f"{alias.asname or alias.name}.{server}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == target:
                    refs.add(f"{alias.asname}.{server}" if alias.asname else f"{target}.{server}")
    return refs


def _package(config: Config, rel: str) -> str:
    own = module_name(config, rel)
    return own if rel.endswith("__init__.py") else own.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a from-import reads: `from ..socket.main import sio` climbs level-1 packages."""
    module = node.module or ""
    if not node.level:
        return module
    base = package.split(".") if package else []
    base = base[: max(0, len(base) - (node.level - 1))]
    return ".".join([*base, module] if module else base)
