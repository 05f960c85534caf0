"""Read the specs of a git ref without touching the working tree: `git rev-parse`, `ls-tree`, `cat-file --batch`.

Three or four subprocesses whatever the number of specs. Nothing is checked out
and no file is written; the user's index and working tree are never read here.
"""

from __future__ import annotations

import posixpath
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, EventgenError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

_BLOB_MODES = ("100644", "100755")
_LINK_MODE = "120000"
_DEFAULT_BRANCHES = ("main", "master", "origin/main", "origin/master")


@dataclass(frozen=True)
class Base:
    """The commit compared against, and how to name it."""

    commit: str  # "" before the first commit: the old side is empty
    label: str  # what findings and errors print: the ref as given, or a short sha
    note: str = ""  # how a default was chosen


@dataclass
class Repo:
    top: Path  # the repository's top folder
    prefix: str  # the project folder inside it, "" or ending in "/"

    # -- running git ------------------------------------------------------------

    def git(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return _run(["git", *args], self.top, stdin)

    def commit_of(self, ref: str) -> str | None:
        if not ref or ref.startswith("-") or any(c in ref for c in "\n\r\0"):
            return None
        done = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def short(self, commit: str) -> str:
        done = self.git("rev-parse", "--short", commit)
        return done.stdout.decode().strip() if done.returncode == 0 else commit[:12]

    # -- the ref ----------------------------------------------------------------

    def base(self, against: str | None) -> Base:
        if against in (None, "HEAD") and self.commit_of("HEAD") is None and self.unborn():
            # The first commit of a repository (a pre-commit hook runs before it exists): everything is new.
            return Base("", against or "HEAD", "no commit yet: every spec counts as new")
        if against is not None:
            commit = self.commit_of(against)
            if commit is None:
                raise EventgenError(
                    Diagnostic(
                        "",
                        message=f"--against {against!r}: not a commit in this repository",
                        hint="name a branch, tag or commit (`git fetch` first for a remote branch such as origin/main)",
                    )
                )
            return Base(commit, against)
        head = self.commit_of("HEAD")
        assert head is not None  # an unborn HEAD was handled above
        branch = self.default_branch()
        if branch is not None:
            done = self.git("merge-base", "HEAD", branch)
            if done.returncode == 0:
                commit = done.stdout.decode().split()[0]
                return Base(commit, self.short(commit), f"merge base of HEAD and {branch}")
        return Base(head, "HEAD", "HEAD (no default branch to take a merge base with)")

    def unborn(self) -> bool:
        """HEAD names a branch that has no commit yet (a fresh `git init`)."""
        done = self.git("symbolic-ref", "--quiet", "HEAD")
        if done.returncode != 0:
            return False
        return self.commit_of(done.stdout.decode().strip()) is None

    def default_branch(self) -> str | None:
        """origin/HEAD (what `git clone` records), else main or master, local or on origin."""
        done = self.git("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
        if done.returncode == 0:
            ref = done.stdout.decode().strip()
            if self.commit_of(ref):
                return ref.removeprefix("refs/remotes/")
        for name in _DEFAULT_BRANCHES:
            if self.commit_of(f"refs/heads/{name}" if "/" not in name else f"refs/remotes/{name}"):
                return name
        return None

    # -- files at the ref ---------------------------------------------------------

    def objects(self, names: list[str]) -> list[bytes | None]:
        """Blobs by object name (`<oid>` or `<commit>:<path>`), in order; None where there is no blob. One `git cat-file --batch`."""
        if not names:
            return []
        done = self.git(
            "cat-file", "--batch", stdin=b"".join(f"{n}\n".encode("utf-8", errors="surrogateescape") for n in names)
        )
        if done.returncode != 0:
            raise EventgenError(f"git cat-file failed: {done.stderr.decode(errors='replace').strip()}")
        out: list[bytes | None] = []
        data, pos = done.stdout, 0
        for _ in names:
            end = data.index(b"\n", pos)
            header = data[pos:end]
            pos = end + 1
            if header.endswith((b" missing", b" ambiguous")):
                out.append(None)
                continue
            _oid, kind, size = header.rsplit(b" ", 2)
            body = data[pos : pos + int(size)]
            pos += int(size) + 1
            out.append(body if kind == b"blob" else None)
        return out

    def read(self, commit: str, paths: list[str]) -> dict[str, bytes | None]:
        """Files at `commit` by repository path (None: no such file)."""
        return dict(zip(paths, self.objects([f"{commit}:{p}" for p in paths])))

    def spec_files(self, commit: str, specs: str) -> dict[str, bytes]:
        """`specs/*.yaml|yml` at the commit, by project-relative path (subfolders are not read, as in the working tree)."""
        folder = posixpath.normpath(self.prefix + specs)
        done = self.git("ls-tree", "-z", commit, "--", folder + "/")
        if done.returncode != 0:
            return {}
        blobs: dict[str, str] = {}
        links: dict[str, str] = {}
        for entry in done.stdout.split(b"\0"):
            if not entry:
                continue
            meta, _, raw = entry.partition(b"\t")
            mode, kind, oid = meta.decode().split()
            path = raw.decode("utf-8", errors="surrogateescape")
            if kind != "blob" or posixpath.splitext(path)[1] not in (".yaml", ".yml"):
                continue
            if mode in _BLOB_MODES:
                blobs[path] = oid
            elif mode == _LINK_MODE:
                links[path] = oid
        found: dict[str, bytes | None] = dict(zip(blobs, self.objects(list(blobs.values()))))
        # A symlinked spec is read where it points, as the working tree would read it.
        targets: dict[str, str] = {}
        for path, target_blob in zip(links, self.objects(list(links.values()))):
            target = (target_blob or b"").decode("utf-8", errors="surrogateescape")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if target and not target.startswith("/") and not resolved.startswith("../"):
                targets[path] = resolved
        pointed = self.read(commit, sorted(set(targets.values())))
        for path, resolved in targets.items():
            found[path] = pointed.get(resolved)
        return {self.relative(p): blob for p, blob in sorted(found.items()) if blob is not None}

    def relative(self, path: str) -> str:
        return path[len(self.prefix) :] if self.prefix and path.startswith(self.prefix) else path

    def specs_folder(self, commit: str, current: str) -> str:
        """The `specs` setting at the commit (the folder may have moved since), else the current one."""
        names = [self.prefix + "eventgen.toml", self.prefix + "pyproject.toml"]
        files = self.read(commit, names)
        for name in names:
            blob = files.get(name)
            if blob is None:
                continue
            try:
                data: Any = tomllib.loads(blob.decode("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                return current
            if name.endswith("pyproject.toml"):
                tool = data.get("tool")
                data = tool.get("eventgen") if isinstance(tool, dict) else None
                if not isinstance(data, dict):
                    continue
            value = data.get("specs")
            return value.strip("/") if isinstance(value, str) and value.strip("/") else "events"
        return "events"


def open_repo(project: Path) -> Repo:
    """The git repository holding the project folder."""
    done = _run(["git", "rev-parse", "--show-toplevel", "--show-prefix"], project, None)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        reason = message[-1] if message else "git rev-parse failed"
        raise EventgenError(
            Diagnostic(
                "",
                message=f"review compares the specs with a git commit, and {project} is not in a git repository ({reason})",
                hint="run it inside a clone (in CI: actions/checkout with fetch-depth: 0)",
            )
        )
    top, prefix = (done.stdout.decode().splitlines() + ["", ""])[:2]
    return Repo(Path(top), prefix)


def _run(args: list[str], cwd: Path, stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, check=False, env=_env())
    except FileNotFoundError:
        raise EventgenError(
            Diagnostic("", message="git is not installed (or not on PATH): review reads the specs at a git ref")
        ) from None


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    # Plain, untranslated output; and no pager or prompt ever.
    env.update({"LC_ALL": "C", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"})
    return env
