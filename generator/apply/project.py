"""plan -> changes: patch every file the plan names, in memory; nothing is written here."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from ..config import Config, inside_root
from ..errors import Diagnostic, EventgenError, Exit
from ..plan.types import Plan, RegionEdit, SpecRef, StubEdit
from ..report import Report
from ..sources import Sources
from .change import FileChange
from .files import patch_file
from .orphans import files_with_markers, killed_run_leftovers, orphan_files
from .regions import patch_regions
from .stubs import place_stubs, retire_stubs


def apply_plan(
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
    """Every change the plan makes. `only`: the specs a run is limited to (it then leaves other
    specs' code alone, orphans included); `retired`: the stubs of a removed spec."""
    new_text: dict[str, str | None] = {}
    _patch_region_files(plan, config, sources, report, new_text, force=force, only=only)
    for edit in plan.files:
        if only is not None and edit.spec is not None and edit.spec not in only:
            continue
        result = patch_file(sources.get(edit.file), edit, report, force=force)
        if result is not None:
            new_text[edit.file] = result
    if only is None:
        strays = orphan_files(plan, config, sources, report, new_text, force=force)
        if left_behind is not None:
            left_behind.extend(strays)
    place_stubs(plan, new_text, sources, report)
    # A stub that a remaining spec also calls stays, whoever wrote it first.
    needed = {(stub.file, stub.function) for stub in plan.stubs}
    retire_stubs([stub for stub in retired if (stub.file, stub.function) not in needed], new_text, sources, report)
    if only is None:
        killed_run_leftovers(config, plan, new_text, sources, report)
    return _changes(new_text, config, sources)


def _patch_region_files(
    plan: Plan,
    config: Config,
    sources: Sources,
    report: Report,
    new_text: dict[str, str | None],
    *,
    force: bool,
    only: set[str] | None,
) -> None:
    """Python files holding regions: planned ones, and any other file that still has markers."""
    problems: list[Diagnostic] = []
    by_file: dict[str, list[RegionEdit]] = {}
    for edit in plan.regions:
        if _owned(edit, only):
            by_file.setdefault(edit.file, []).append(edit)
    candidates = set(by_file) | set(plan.region_files)
    if only is None:
        candidates |= files_with_markers(config)
    for rel in sorted(candidates):
        src = sources.get(rel)
        edits = by_file.get(rel, [])
        if src is None:
            problems.extend(_missing_file(rel, edits, config))
            continue
        try:
            # A run limited to some specs leaves every other region alone, orphans included.
            text = patch_regions(src, edits, sources, report, force=force, remove_orphans=only is None)
            if text != src.text:
                _check_python(rel, src.text, text)
            new_text[rel] = text
        except EventgenError as exc:
            if exc.exit_code != Exit.INVALID:
                raise
            problems.extend(exc.diagnostics)
    if problems:
        raise EventgenError(problems)


def _missing_file(rel: str, edits: list[RegionEdit], config: Config) -> list[Diagnostic]:
    refs: list[SpecRef] = sorted(
        {e.file_ref for e in edits if e.file_ref is not None}, key=lambda r: (r.path, r.line, r.col)
    )
    if refs:
        # Point at the spec's words: the missing file has no position of its own.
        from ..suggest import closest_path

        near = closest_path(config.root, rel)
        guess = f" (did you mean '{near}'?)" if near else ""
        return [Diagnostic(r.path, r.line, r.col, f"file not found: {rel} (emit.from.file){guess}") for r in refs]
    if edits:
        return [Diagnostic(rel, 0, 0, "file not found (named by socket_module in the configuration)")]
    return []


def _changes(new_text: dict[str, str | None], config: Config, sources: Sources) -> list[FileChange]:
    changes: list[FileChange] = []
    for rel, text in sorted(new_text.items()):
        src = sources.get(rel)
        before = src.raw if src is not None else None
        after = None if text is None else (src.encode(text) if src is not None else text.encode("utf-8"))
        if before != after:
            changes.append(FileChange(rel, before, after))
    for change in changes:
        if not inside_root(config.root, change.path):
            raise EventgenError(Diagnostic(change.path, 0, 0, "refusing to write outside the project root"))
    return changes


def _owned(region: RegionEdit | str, only: set[str] | None) -> bool:
    if only is None:
        return True
    rid = region.id if isinstance(region, RegionEdit) else region
    return rid == "imports" or rid.split("/", 1)[0] in only


def _check_python(rel: str, before: str, after: str) -> None:
    """The patched file must still parse. If the user's file did not parse to begin with
    (regions are updated without libcst), that is invalid input; otherwise it is eventgen's bug."""
    try:
        ast.parse(after, rel)
    except SyntaxError as exc:
        try:
            ast.parse(before, rel)
        except SyntaxError as orig:
            raise EventgenError(
                Diagnostic(rel, orig.lineno or 0, orig.offset or 0, f"cannot parse Python: {orig.msg}")
            ) from None
        raise RuntimeError(f"eventgen produced invalid Python in {rel}:{exc.lineno}: {exc.msg}") from None
