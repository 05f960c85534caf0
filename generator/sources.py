"""Target files as read from disk: read once, decoded once, parsed with libcst at most once."""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Diagnostic, EventgenError

# Folders no search of the project enters (dependencies, caches, build output); hidden ones neither.
SKIP_DIRS = frozenset(
    {"node_modules", ".venv", "venv", "__pycache__", "site-packages", ".svelte-kit", "build", "dist", ".tox"}
)

if TYPE_CHECKING:  # libcst is imported lazily: `--help` and `validate` never need it
    import ast

    import libcst


@dataclass
class SourceFile:
    path: str  # project-relative, forward slashes
    raw: bytes
    text: str  # decoded, without BOM
    bom: bool

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    def encode(self, text: str) -> bytes:
        data = text.encode("utf-8")
        return codecs.BOM_UTF8 + data if self.bom else data


@dataclass
class Sources:
    root: Path
    _files: dict[str, SourceFile | None] = field(default_factory=dict)
    _cst: dict[str, "libcst.Module"] = field(default_factory=dict)
    _user: dict[str, "tuple[ast.Module, list[str]] | None"] = field(default_factory=dict)
    _probed: set[str] = field(default_factory=set)  # paths looked at without being read

    def abs(self, rel: str) -> Path:
        return self.root / rel

    def get(self, rel: str) -> SourceFile | None:
        """The file, or None when it does not exist. Undecodable files are invalid input."""
        if rel in self._files:
            return self._files[rel]
        path = self.abs(rel)
        try:
            # A FIFO or device would block the read or never end: only regular files are targets.
            if not path.is_dir() and path.exists() and not path.is_file():
                raise EventgenError(Diagnostic(rel, 0, 0, "not a regular file; eventgen only edits regular files"))
            raw = path.read_bytes()
        except FileNotFoundError:
            self._files[rel] = None
            return None
        except IsADirectoryError:
            raise EventgenError(Diagnostic(rel, 0, 0, "expected a file but found a folder")) from None
        except OSError as exc:
            raise EventgenError(Diagnostic(rel, 0, 0, f"cannot read: {exc.strerror or exc}")) from None
        bom = raw.startswith(codecs.BOM_UTF8)
        try:
            text = raw[3:].decode("utf-8") if bom else raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise EventgenError(
                Diagnostic(rel, line, 0, "file is not UTF-8; eventgen only edits UTF-8 sources")
            ) from None
        src = SourceFile(rel, raw, text, bom)
        self._files[rel] = src
        return src

    def require(self, rel: str, why: str) -> SourceFile:
        src = self.get(rel)
        if src is None:
            raise EventgenError(Diagnostic(rel, 0, 0, f"file not found ({why})"))
        return src

    def cst(self, rel: str) -> "libcst.Module":
        """Parse with libcst once; a file that does not parse is invalid input, with its position."""
        if rel in self._cst:
            return self._cst[rel]
        import libcst

        src = self.require(rel, "needed to place generated code")
        try:
            module = libcst.parse_module(src.text)
        except libcst.ParserSyntaxError as exc:
            raise EventgenError(_syntax_error(rel, src.text, exc)) from None
        self._cst[rel] = module
        return module

    def user_tree(self, rel: str) -> "ast.Module | None":
        """The stdlib tree of the file's hand-written code (eventgen's regions blanked out), read
        once; None when the file is missing, does not parse or has damaged markers."""
        read = self.user_code(rel)
        return read[0] if read else None

    def user_code(self, rel: str) -> "tuple[ast.Module, list[str]] | None":
        """The same tree with the blanked lines it was parsed from."""
        if rel not in self._user:
            from .read.tree import user_tree

            src = self.get(rel)
            self._user[rel] = user_tree(src.text, rel) if src is not None else None
        return self._user[rel]

    def exists(self, rel: str) -> bool:
        self._probed.add(rel)
        return self.get(rel) is not None if not os.path.isdir(self.abs(rel)) else False

    def is_file(self, rel: str) -> bool:
        self._probed.add(rel)
        return self.abs(rel).is_file()

    def is_dir(self, rel: str) -> bool:
        self._probed.add(rel)
        return self.abs(rel).is_dir()

    def consulted(self) -> set[str]:
        """Every path this run read or looked at: the run stamp covers them (stamps.py)."""
        return set(self._files) | self._probed


def _syntax_error(rel: str, text: str, exc: "libcst.ParserSyntaxError") -> Diagnostic:
    """Python's own account of a syntax error: libcst's position can sit a line past the
    mistake and disagree with its message, Python names the spot and the cause."""
    import ast

    try:
        ast.parse(text, rel)
    except SyntaxError as err:
        return Diagnostic(rel, err.lineno or 0, err.offset or 0, f"cannot parse Python: {err.msg}")
    return Diagnostic(rel, exc.raw_line, exc.raw_column + 1, f"cannot parse Python: {exc.message}")
