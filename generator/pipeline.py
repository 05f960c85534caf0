"""spec -> plan -> changes: the one computation behind generate, diff, check and remove.

Everything is computed in memory; only the caller's sink (write or print)
decides what happens to the ChangeSet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .apply.change import FileChange
from .apply.project import apply_plan
from .config import Config, load_config
from .errors import Diagnostic, EventgenError, Exit
from .plan.types import StubEdit
from .report import Item, Report, ReportMode
from .sink.mode import Sink
from .sources import Sources
from .spec.load import load_specs
from .spec.loaded import LoadedSpec

_REPORT_MODE: dict[Sink, ReportMode] = {Sink.WRITE: "write", Sink.DIFF: "diff", Sink.CHECK: "check"}


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
        dirs = [self.config.components, str(PurePosixPath(self.config.types).parent)]
        dirs += [str(PurePosixPath(rel).parent) for rel in self.left_behind]
        return tuple(dict.fromkeys(dirs))


def spec_files(config: Config, selected: list[str] | tuple[str, ...] = ()) -> list[Path]:
    folder = config.root / config.specs
    if folder.exists() and not folder.is_dir():
        raise EventgenError(
            Diagnostic(
                config.specs,
                0,
                0,
                f"the specs folder{' named in ' + config.source if config.source else ''} is a file, not a folder",
            )
        )
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
    sink: Sink = Sink.WRITE,
    *,
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
    report = Report(mode="force" if force and sink is not Sink.CHECK else _REPORT_MODE[sink])
    sources = Sources(config.root)
    from .plan.build import build_plan

    plan = build_plan(specs, config, sources, only)
    left_behind: list[str] = []
    changes = apply_plan(
        plan,
        config,
        sources,
        report,
        force=force,
        only=only,
        retired=_stubs_of(gone, config, sources),
        left_behind=left_behind,
    )
    if _vouch(sink, report, changes, force=force, only=only):
        from .apply.stamp import stamp_changes

        changes = stamp_changes(changes, config, sources, specs, len(plan.regions) + len(plan.files), gone=gone)
    if sink is Sink.CHECK:
        _expired_aliases(specs, report)
    return Outcome(config, report, changes, specs, left_behind)


def _vouch(sink: Sink, report: Report, changes: list[FileChange], *, force: bool, only: set[str] | None) -> bool:
    """Whether the tree these changes leave is in sync, so the run stamp may vouch for it
    (stamps.py): a run over every spec, with no hand edit left in place. check's changes are
    those of `generate --force`; it stamps only beside them, so its diff is what generate
    writes, and an in-sync check shows no file."""
    if only is not None:
        return False
    if sink is Sink.CHECK:
        return force and bool(changes)
    return report.exit_code == Exit.OK


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


def _stubs_of(gone: list[LoadedSpec], config: Config, sources: Sources) -> list[StubEdit]:
    """The handler stubs a removed spec had eventgen write (none if it cannot be planned)."""
    if not gone:
        return []
    from .plan.build import build_plan

    try:
        return build_plan(gone, config, sources).stubs
    except EventgenError:
        return []  # keep every stub: only code we can prove is our untouched text goes
