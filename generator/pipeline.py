"""spec -> plan -> changes: the one computation behind generate, diff, check and remove.

Everything is computed in memory; only the caller's sink (write or print)
decides what happens to the ChangeSet.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, load_config
from .errors import Diagnostic, EventgenError
from .plan.types import Plan, RegionEdit, StubEdit
from .report import Item, Report
from .sink.write import FileChange
from .sources import Sources
from .spec.load import load_specs
from .spec.loaded import LoadedSpec

_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "site-packages", ".svelte-kit", "build", "dist", ".tox"}


@dataclass
class Outcome:
    config: Config
    report: Report
    changes: list[FileChange] = field(default_factory=list)
    specs: list[LoadedSpec] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)  # generated files found outside the configured places

    @property
    def generated_dirs(self) -> tuple[str, ...]:
        """Folders a deletion may leave empty and that eventgen then removes: the configured
        frontend folders, and those of generated files left behind elsewhere."""
        from pathlib import PurePosixPath

        dirs = [self.config.components, str(PurePosixPath(self.config.types).parent)]
        dirs += [str(PurePosixPath(rel).parent) for rel in self.left_behind]
        return tuple(dict.fromkeys(dirs))


def spec_files(config: Config, selected: list[str] | tuple[str, ...] = ()) -> list[Path]:
    folder = config.root / config.specs
    if folder.exists() and not folder.is_dir():
        raise EventgenError(Diagnostic(config.specs, 0, 0, f"the specs folder{' named in ' + config.source if config.source else ''} is a file, not a folder"))
    files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml")) if folder.is_dir() else []
    return files


def resolve_selection(config: Config, selected: list[str] | tuple[str, ...]) -> set[str]:
    """SPEC arguments (a path or a spec name) -> spec names; unknown ones are invalid input."""
    names: set[str] = set()
    problems = []
    for arg in selected:
        path = Path(arg)
        name = path.name.rsplit(".", 1)[0] if path.suffix in (".yaml", ".yml") else arg
        candidate = config.root / config.specs / f"{name}.yaml"
        if not candidate.exists() and not (config.root / config.specs / f"{name}.yml").exists():
            problems.append(Diagnostic(arg, 0, 0, f"no spec named '{name}' in {config.specs}/"))
        names.add(name)
    if problems:
        raise EventgenError(problems)
    return names


def load_project(root: Path) -> tuple[Config, list[LoadedSpec]]:
    config = load_config(root)
    if not (config.root / config.specs).is_dir():
        # Without this, a mistyped `specs` path would read as "no specs": generate would remove
        # every generated file as an orphan, and validate, list and export would pass on nothing.
        raise EventgenError(
            Diagnostic(
                config.specs,
                0,
                0,
                "specs folder not found",
                hint="run `eventgen init`, or set `specs` in eventgen.toml; to remove all generated code, keep an empty specs folder",
            )
        )
    return config, load_specs(spec_files(config), config.root)


def compute(
    root: Path,
    *,
    mode: str = "write",
    force: bool = False,
    selected: tuple[str, ...] = (),
    without: str | None = None,
) -> Outcome:
    """Compute every change. `without`: plan as if that spec did not exist (remove)."""
    config, specs = load_project(root)
    only = resolve_selection(config, selected) if selected else None
    gone: list[LoadedSpec] = []
    if without is not None:
        gone = [s for s in specs if s.spec.name == without]
        if not gone:
            raise EventgenError(Diagnostic(f"{config.specs}/{without}.yaml", 0, 0, f"no spec named '{without}'"))
        specs = [s for s in specs if s.spec.name != without]
    report = Report(mode="force" if force and mode == "write" else mode)  # type: ignore[arg-type]
    sources = Sources(config.root)
    from .plan.build import build_plan

    plan = build_plan(specs, config, sources, only)
    left_behind: list[str] = []
    changes = _apply(plan, config, sources, report, force=force, only=only, retired=_stubs_of(gone, config, sources), left_behind=left_behind)
    report.written = [c.path for c in changes]
    if mode == "check":
        _expired_aliases(specs, report)
    return Outcome(config, report, changes, specs, left_behind)


def _expired_aliases(specs: list[LoadedSpec], report: Report) -> None:
    """Old event names still listed once their sunset has come (CONTRACT 10): clients were told to move by then."""
    for item in specs:
        for i, event in enumerate(item.spec.events):
            if not event.sunset_passed():
                continue
            for j, alias in enumerate(event.renamed_from):
                line, _ = item.positions.locate(("events", i, "renamed_from", j))
                detail = f"sunset {event.sunset} has passed; remove '{alias}' from renamed_from"
                report.add(Item("expired", item.path, f"old name '{alias}' of event '{event.name}'", line, detail))


def _owned(region: RegionEdit | str, only: set[str] | None) -> bool:
    if only is None:
        return True
    rid = region.id if isinstance(region, RegionEdit) else region
    return rid == "imports" or rid.split("/", 1)[0] in only


def _stubs_of(gone: list[LoadedSpec], config: Config, sources: Sources) -> list[StubEdit]:
    """The handler stubs a removed spec had eventgen write (none if it cannot be planned)."""
    if not gone:
        return []
    from .plan.build import build_plan

    try:
        return build_plan(gone, config, sources).stubs
    except EventgenError:
        return []  # keep every stub: only code we can prove is our untouched text goes


def _retire_stubs(stubs: list[StubEdit], new_text: dict[str, str | None], sources: Sources, report: Report) -> None:
    """Take back the stubs of a removed spec that nobody touched: each is the file's tail,
    byte for byte as written; a module that holds nothing else is deleted."""
    by_file: dict[str, list[StubEdit]] = {}
    for stub in stubs:
        by_file.setdefault(stub.file, []).append(stub)
    for file, own in by_file.items():
        if file in new_text:
            text = new_text[file]
        else:
            src = sources.get(file)
            text = src.text if src is not None else None
        if text is None:
            continue
        header = own[0].new_file[: len(own[0].new_file) - len(own[0].append)]
        taken = 0
        for stub in reversed(own):  # appended in plan order: the last one is the file's tail
            if not text.endswith(stub.append):
                break  # edited by a person: theirs now, and so is everything above it
            text = text[: len(text) - len(stub.append)]
            taken += 1
        if not taken:
            continue
        from .report import Item

        report.add(Item("orphaned", file, f"untouched handler stub{'s' if taken > 1 else ''} {', '.join(s.function + '()' for s in own[len(own) - taken:])}"))
        new_text[file] = None if text == header else text


def _apply(
    plan: Plan,
    config: Config,
    sources: Sources,
    report: Report,
    *,
    force: bool,
    only: set[str] | None,
    retired: Sequence[StubEdit] = (),
    left_behind: list[str] | None = None,
) -> list[FileChange]:
    from .apply.files import (
        edited_since_generated,
        generated_owner,
        kind_of,
        patch_file,
        patch_stub,
    )
    from .apply.regions import patch_regions

    problems: list[Diagnostic] = []
    new_text: dict[str, str | None] = {}

    # Python files holding regions: planned ones, and any other file that still has markers.
    by_file: dict[str, list[RegionEdit]] = {}
    for edit in plan.regions:
        if _owned(edit, only):
            by_file.setdefault(edit.file, []).append(edit)
    candidates = set(by_file) | set(plan.region_files)
    if only is None:
        candidates |= _files_with_markers(config)
    for rel in sorted(candidates):
        src = sources.get(rel)
        edits = by_file.get(rel, [])
        if src is None:
            refs = sorted({e.file_ref for e in edits if e.file_ref is not None}, key=lambda r: (r.path, r.line, r.col))
            if refs:
                # Point at the spec's words: the missing file has no position of its own.
                from .suggest import closest_path

                near = closest_path(config.root, rel)
                guess = f" (did you mean '{near}'?)" if near else ""
                problems.extend(Diagnostic(r.path, r.line, r.col, f"file not found: {rel} (emit.from.file){guess}") for r in refs)
            elif edits:
                problems.append(Diagnostic(rel, 0, 0, "file not found (named by socket_module in the configuration)"))
            continue
        try:
            # A run limited to some specs leaves every other region alone, orphans included.
            text = patch_regions(src, edits, sources, report, force=force, remove_orphans=only is None)
            if text != src.text:
                _check_python(rel, src.text, text)
            new_text[rel] = text
        except EventgenError as exc:
            if exc.exit_code != 2:
                raise
            problems.extend(exc.diagnostics)

    if problems:
        raise EventgenError(problems)

    planned_files = {f.file for f in plan.files}
    for edit in plan.files:
        if only is not None and edit.spec is not None and edit.spec not in only:
            continue
        result = patch_file(sources.get(edit.file), edit, report, force=force)
        if result is not None:
            new_text[edit.file] = result
    if only is None:
        placed = _generated_files(config, plan)
        # Generated files left where the configuration no longer puts them (types or components moved).
        strays = _left_behind(config) - placed - planned_files
        if left_behind is not None:
            left_behind.extend(sorted(strays))
        for rel in sorted((placed | strays) - planned_files):
            src = sources.get(rel)
            if src is None:
                continue
            is_ours, _spec = generated_owner(src.text)
            if is_ours:
                from .report import Item

                moved = "left behind: the configuration puts generated files elsewhere now" if rel in strays else ""
                if edited_since_generated(src.text, kind_of(rel)):
                    # Edited after generation: deleting it would lose a person's work.
                    report.add(Item("edited", rel, "generated file", 1, moved or "its spec is gone"))
                    if not force:
                        continue
                else:
                    report.add(Item("orphaned", rel, "generated file", 0, moved))
                new_text[rel] = None
    for stub in plan.stubs:
        if stub.file in new_text:
            current = new_text[stub.file]
        else:
            src = sources.get(stub.file)
            current = src.text if src is not None else None
        result = patch_stub(current, stub, report)
        if result is not None:
            new_text[stub.file] = result

    # A stub that a remaining spec also calls stays, whoever wrote it first.
    needed = {(stub.file, stub.function) for stub in plan.stubs}
    _retire_stubs([stub for stub in retired if (stub.file, stub.function) not in needed], new_text, sources, report)

    if only is None:
        _killed_run_leftovers(config, plan, new_text, sources, report)

    changes: list[FileChange] = []
    for rel, text in sorted(new_text.items()):
        src = sources.get(rel)
        before = src.raw if src is not None else None
        after = None if text is None else (src.encode(text) if src is not None else text.encode("utf-8"))
        if before != after:
            changes.append(FileChange(rel, before, after))
    for change in changes:
        if not _inside(config.root, change.path):
            raise EventgenError(Diagnostic(change.path, 0, 0, "refusing to write outside the project root"))
    return changes


def _killed_run_leftovers(config: Config, plan: Plan, new_text: dict[str, str | None], sources: Sources, report: Report) -> None:
    """Temporary files a killed run left beside the files eventgen writes (CONTRACT 7.7): `check`
    reports them, `generate` removes them. A run in progress holds the project lock, so any such
    file seen under the lock belongs to a dead run."""
    from .report import Item
    from .sink.write import ASIDE_SUFFIX, TEMP_SUFFIX

    targets = set(new_text) | set(plan.region_files) | set(plan.generated_files) | {s.file for s in plan.stubs}
    folders = {str(Path(rel).parent) for rel in targets} | set(plan.generated_dirs)
    for folder in sorted(folders):
        base = config.root / folder
        if not _inside(config.root, folder) or not base.is_dir():
            continue
        for path in sorted(base.iterdir()):
            if path.name.startswith(".") and path.name.endswith((TEMP_SUFFIX, ASIDE_SUFFIX)) and path.is_file() and not path.is_symlink():
                rel = path.relative_to(config.root).as_posix()
                if rel in new_text:
                    continue
                report.add(Item("orphaned", rel, "temporary file of an interrupted run", 0, ""))
                new_text[rel] = None
                sources.get(rel)  # read now: the change below needs its bytes


def _check_python(rel: str, before: str, after: str) -> None:
    """The patched file must still parse. If the user's file did not parse to begin with
    (regions are updated without libcst), that is invalid input; otherwise it is eventgen's bug."""
    try:
        ast.parse(after, rel)
    except SyntaxError as exc:
        try:
            ast.parse(before, rel)
        except SyntaxError as orig:
            raise EventgenError(Diagnostic(rel, orig.lineno or 0, orig.offset or 0, f"cannot parse Python: {orig.msg}")) from None
        raise RuntimeError(f"eventgen produced invalid Python in {rel}:{exc.lineno}: {exc.msg}") from None


def _inside(root: Path, rel: str) -> bool:
    from .config import inside_root

    return inside_root(root, rel)


def _files_with_markers(config: Config) -> set[str]:
    """Python files under the import root that hold eventgen regions (to find orphans)."""
    found: set[str] = set()
    base = config.root / config.python_root
    if not base.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            if not name.endswith(".py"):
                continue
            path = Path(dirpath) / name
            if not path.is_file():  # a FIFO named *.py would block the read forever
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if b"# eventgen:begin " in data:
                found.add(path.relative_to(config.root).as_posix())
    return found


_FRONTEND_SUFFIXES = (".ts", ".svelte")
_SOURCE_LABEL = re.compile(r"generated by eventgen from (.+?); do not edit")


def _left_behind(config: Config) -> set[str]:
    """Whole generated frontend files anywhere in the project, found by their generated header.

    Only files generated from this project's specs count (every spec their header names is in
    its specs folder); folders holding a project of their own (eventgen.toml, [tool.eventgen])
    and dependency, cache and build folders are not searched.
    """
    from .config import is_configured
    from .markers import FILE_MARK

    found: set[str] = set()
    prefix = config.specs.rstrip("/") + "/"
    pending = [config.root]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name in _SKIP_DIRS or name.startswith("."):
                        continue
                    try:
                        if is_configured(Path(entry.path)):
                            continue  # another eventgen project: its generated files are its own
                    except EventgenError:
                        continue  # a pyproject.toml there names eventgen but does not parse: leave it alone
                    pending.append(Path(entry.path))
                    continue
                # Regular files only: a FIFO would block the read.
                if not name.endswith(_FRONTEND_SUFFIXES) or not entry.is_file(follow_symlinks=False):
                    continue
                fd = os.open(entry.path, os.O_RDONLY)
                try:
                    head = os.read(fd, 1024)  # the marker is on the first line
                finally:
                    os.close(fd)
            except OSError:
                continue
            if b"eventgen:file" not in head:
                continue
            first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
            label = _SOURCE_LABEL.search(first)
            sources = [part.strip() for part in label.group(1).split(",")] if label else []
            if FILE_MARK.search(first) and sources and all(part.startswith(prefix) for part in sources):
                found.add(Path(entry.path).relative_to(config.root).as_posix())
    return found


def _generated_files(config: Config, plan: Plan) -> set[str]:
    """Files that may be eventgen's whole files: the fixed ones and anything in generated folders."""
    out = {f for f in plan.generated_files if (config.root / f).is_file()}
    for folder in plan.generated_dirs:
        base = config.root / folder
        if base.is_dir():
            for path in base.iterdir():
                if path.is_file() and path.suffix in (".svelte", ".ts", ".py"):
                    out.add(path.relative_to(config.root).as_posix())
    return out
