"""The command line: flags in, one call, the Report out. Heavy imports happen inside commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .errors import EventgenError, Exit


class _State:
    """The project a command works on: `--project`, or the one found from the current folder."""

    def __init__(self, project: Path | None, debug: bool) -> None:
        self.explicit = project
        self.debug = debug
        self._found: Path | None = None

    @property
    def start(self) -> Path:
        """Where the search starts, and what messages name when there is no project."""
        return self.explicit if self.explicit is not None else Path.cwd()

    @property
    def project(self) -> Path:
        """The project root; outside any project every command stops here, with one message (exit 2)."""
        if self.explicit is not None:
            return self.explicit
        if self._found is None:
            from .config import find_project_root, no_project_error

            start = Path.cwd()
            found = find_project_root(start)
            if found is None:
                raise no_project_error(start)
            self._found = found
        return self._found


pass_state = click.make_pass_decorator(_State)


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--project",
    "-C",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project root (where eventgen.toml or pyproject.toml lives). Default: the nearest folder at or above the current one "
    "with eventgen.toml, a pyproject.toml with [tool.eventgen], or else an events/ folder.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="eventgen", prog_name="eventgen")
@click.pass_context
def cli(ctx: click.Context, project: Path, debug: bool) -> None:
    """Generate real-time Socket.IO events (python-socketio + Svelte) from YAML specs."""
    ctx.obj = _State(project, debug)


@cli.command()
@click.argument("specs", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Print the diff instead of writing (same as `eventgen diff`).")
@click.option("--force", is_flag=True, help="Overwrite generated code that a person edited.")
@pass_state
def generate(state: _State, specs: tuple[str, ...], dry_run: bool, force: bool) -> int:
    """Apply every spec's changes at once, or none (exit 1 on a conflict, 2 on invalid input)."""
    if not (dry_run or force or specs):
        from .fast_check import in_sync

        fast = in_sync(state.project)
        if fast is not None:  # in sync by the stamp: nothing to write, so no lock either
            click.echo(f"eventgen: nothing to do ({fast.items} generated items up to date)")
            return Exit.OK
    from .sink.mode import Sink
    from .sink.run import run

    outcome = run(state.project, Sink.DIFF if dry_run else Sink.WRITE, force=force, selected=specs)
    report = outcome.report
    if dry_run:
        from .sink.diff import unified_diff

        click.echo(unified_diff(outcome.changes, color=_color("auto")), nl=False)
        return report.exit_code
    for line in report.lines():
        click.echo(line)
    click.echo(report.summary())
    return report.exit_code


@cli.command()
@click.argument("specs", nargs=-1)
@click.option("--stat", is_flag=True, help="Only a per-file summary of the changes.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes, like `git diff --exit-code`.")
@pass_state
def diff(state: _State, specs: tuple[str, ...], stat: bool, color: str, exit_code: bool) -> int:
    """Show the unified diff that `generate` would write."""
    from .pipeline import compute
    from .sink.diff import diff_stat, unified_diff
    from .sink.mode import Sink

    outcome = compute(state.project, Sink.DIFF, selected=specs)
    use_color = _color(color)
    text = diff_stat(outcome.changes, color=use_color) if stat else unified_diff(outcome.changes, color=use_color)
    # click strips ANSI codes when stdout is not a terminal; --color always means keep them.
    click.echo(text, nl=False, color=use_color)
    conflicts = outcome.report.conflicts
    for item in conflicts:
        _echo_err(
            f"{item.where}: edited by hand: {item.what} (not in the diff: `generate` refuses it, `generate --force` overwrites it)"
        )
    return Exit.DRIFT if exit_code and (outcome.changes or conflicts) else Exit.OK


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default=None,
    help="Output format (default: github under GitHub Actions, else text).",
)
@click.option("--no-diff", is_flag=True, help="Do not print the diff of each drifted file.")
@click.option(
    "--full",
    is_flag=True,
    help="Ignore the run stamp and always compute (as EVENTGEN_FULL_CHECK=1): for gates that must not trust the tree.",
)
@pass_state
def check(state: _State, fmt: str | None, no_diff: bool, full: bool) -> int:
    """CI gate: exit 0 when generated code matches the specs, 1 on drift, 2 on invalid input."""
    from .check_output import default_format, render_check, render_check_error, render_in_sync
    from .fast_check import in_sync

    fmt = fmt or default_format()
    try:
        fast = None if full else in_sync(state.project)
        if fast is not None:  # the last generate's stamp vouches for every input: nothing to compute
            click.echo(render_in_sync(fast.items, fmt), nl=False)
            return Exit.OK
        from .pipeline import compute
        from .sink.mode import Sink

        # force: a hand-edited item then shows in the diff as what `generate --force` would restore.
        outcome = compute(state.project, Sink.CHECK, force=True)
    except EventgenError as exc:
        if fmt == "text":
            raise
        root = state.explicit or state._found or state.start
        click.echo(render_check_error(exc, fmt, root.resolve()), nl=False)
        return exc.exit_code
    click.echo(render_check(outcome, fmt, with_diff=not no_diff), nl=False)
    return outcome.report.exit_code


@cli.command()
@click.option(
    "--against",
    metavar="REF",
    help="Git ref to compare with (default: the merge base of HEAD and the default branch, else HEAD).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json", "github"]),
    default=None,
    help="Output format (default: github under GitHub Actions, else text).",
)
@click.option(
    "--allow-breaking",
    is_flag=True,
    envvar="EVENTGEN_ALLOW_BREAKING",
    show_envvar=True,
    help="Exit 0 despite changes that break deployed clients (once reviewed).",
)
@click.option(
    "--allow-security",
    is_flag=True,
    envvar="EVENTGEN_ALLOW_SECURITY",
    show_envvar=True,
    help="Exit 0 despite security-relevant changes (once reviewed).",
)
@pass_state
def review(state: _State, against: str | None, fmt: str | None, allow_breaking: bool, allow_security: bool) -> int:
    """What the spec changes since REF mean for deployed clients and for security (exit 1 unless allowed, 2 on invalid input)."""
    from .check_output import default_format
    from .review import review_project
    from .review.output import render_review, render_review_error

    fmt = fmt or default_format()
    try:
        report = review_project(state.project, against, allow_breaking=allow_breaking, allow_security=allow_security)
    except EventgenError as exc:
        if fmt == "text":
            raise
        click.echo(render_review_error(exc, fmt, state.project.resolve()), nl=False)
        return exc.exit_code
    click.echo(render_review(report, fmt, state.project.resolve()), nl=False)
    return report.exit_code


@cli.command()
@click.argument("specs", nargs=-1)
@pass_state
def validate(state: _State, specs: tuple[str, ...]) -> int:
    """Check the specs only (exit 0 valid, 2 invalid)."""
    from .pipeline import load_project, resolve_selection

    config, loaded = load_project(state.project)
    if specs:
        resolve_selection(config, specs)
    events = sum(len(s.spec.events) for s in loaded)
    click.echo(f"eventgen: {len(loaded)} spec(s), {events} event(s): valid")
    return Exit.OK


@cli.command()
@pass_state
def init(state: _State) -> int:
    """Write eventgen.toml with the detected paths; create the specs folder with an example (exit 2 if already configured)."""
    from .config import find_project_root
    from .init import run_init

    # Inside a project (a folder above holds its configuration or events/), init works on
    # that project, never writes a second configuration in a subfolder; elsewhere, here.
    root = state.explicit or find_project_root(Path.cwd()) or Path.cwd()
    if state.explicit is None and root != Path.cwd().resolve():
        click.echo(f"project root: {root}")
    result = run_init(root)
    for note in result.notes:
        click.echo(f"found {note}")
    for warning in result.warnings:
        _echo_err(f"eventgen init: warning: {warning}")
    for path in result.written:
        click.echo(f"{path}: created")
    click.echo(
        f"next: copy {result.example} to {result.specs}/<name>.yaml and edit it, or run `eventgen new NAME --help`"
    )
    return Exit.OK


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--room", metavar="PATTERN", help="Room pattern, e.g. 'feature:{feature_id}'; its params become str payload fields."
)
@click.option("--access", metavar="RULE", help="Who may join the room: authenticated, self or pkg.module:func.")
@click.option("--join", "join", metavar="EVENT", help="A client_to_server event that joins the room.")
@click.option("--leave", metavar="EVENT", help="A client_to_server event that leaves the room.")
@click.option(
    "--relay",
    metavar="EVENT",
    help="A client_to_server event relayed to the room's other members (the sender added as `user`).",
)
@click.option(
    "--handle",
    metavar="EVENT",
    help="A client_to_server event handled by your function (--handler); its return value is the ack's data.",
)
@click.option(
    "--handler",
    metavar="MODULE:FUNC",
    help="The function of the --handle event, e.g. open_webui.handlers.poll:vote (a stub is written once).",
)
@click.option(
    "--emit", metavar="EVENT", help="A server_to_client event sent to the room (or to everyone with --broadcast)."
)
@click.option(
    "--field",
    "fields",
    metavar="NAME:TYPE",
    multiple=True,
    help="A payload field of the events that carry data (--emit, --relay, --handle), e.g. data:dict; EVENT=NAME:TYPE for one event only (repeatable).",
)
@click.option("--helper", metavar="NAME", help="Name of the emit helper (default emit_<event>).")
@click.option(
    "--emit-from",
    "emit_from",
    metavar="FILE:FUNCTION:AFTER",
    multiple=True,
    help="Patch a call of the --emit helper into an endpoint, after the statement calling AFTER (AFTER `return`: just before its final return). Repeatable.",
)
@click.option(
    "--arg",
    "args",
    metavar="FIELD=EXPR",
    multiple=True,
    help="The value of a payload field in the --emit-from calls, a Python expression (repeatable).",
)
@click.option(
    "--listener", metavar="COMPONENT", help="Generate a Svelte listener component for the --emit and --relay events."
)
@click.option("--broadcast", is_flag=True, help="Send the --emit event to every client instead of a room.")
@click.option("--description", metavar="TEXT", help="The spec's description.")
@click.option("--no-generate", is_flag=True, help="Only write and validate the spec.")
@pass_state
def new(state: _State, /, name: str | None, no_generate: bool, **flags: Any) -> int:
    """Write events/NAME.yaml from flags, validate it, then generate its code (nothing is written on error).

    Without any event flag in a terminal, it asks for each part of the spec instead.
    """
    from .new import NewSpec, create_spec

    described = any(flags[key] for key in ("join", "leave", "relay", "handle", "emit"))
    if not described and _interactive():
        from .new_prompts import ask, confirm

        request = ask(state.project, name, flags)
        if not confirm(state.project, request, generate=not no_generate):
            click.echo("eventgen new: nothing written")
            return Exit.OK
    else:
        if name is None:
            raise click.UsageError("Missing argument 'NAME' (in a terminal, `eventgen new` alone asks for everything).")
        request = NewSpec(name=name, **flags)
    result = create_spec(state.project, request, generate=not no_generate)
    for line in result.lines:
        click.echo(line)
    return result.exit_code


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


@cli.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_state
def list_events(state: _State, fmt: str) -> int:
    """Every event: from the specs, and unmanaged ones found in the code."""
    from .catalog import build_catalog, render_json, render_text
    from .pipeline import load_project

    config, loaded = load_project(state.project)
    catalog = build_catalog(config, loaded)
    for warning in catalog.warnings:
        _echo_err(f"warning: {warning.format()}")
    click.echo(render_json(catalog) if fmt == "json" else render_text(catalog), nl=False)
    return Exit.OK


@cli.command()
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Print the diff instead of writing.")
@click.option("--keep-spec", is_flag=True, help="Remove the generated code but keep events/NAME.yaml.")
@click.option("--force", is_flag=True, help="Remove generated code even where a person edited it.")
@pass_state
def remove(state: _State, name: str, dry_run: bool, keep_spec: bool, force: bool) -> int:
    """Remove everything a spec generated, then its spec file (exit 1 if a person edited it, unless --force)."""
    from .apply.change import FileChange
    from .config import Config
    from .report import plural
    from .sink.mode import Sink
    from .sink.run import run

    def spec_file(config: Config) -> list[FileChange]:
        if keep_spec:
            return []
        path = next(
            (p for p in (f"{config.specs}/{name}.yaml", f"{config.specs}/{name}.yml") if (config.root / p).exists()),
            None,
        )
        return [FileChange(path, (config.root / path).read_bytes(), None)] if path else []

    outcome = run(state.project, Sink.DIFF if dry_run else Sink.WRITE, force=force, without=name, also=spec_file)
    report = outcome.report
    if dry_run:
        from .sink.diff import unified_diff

        click.echo(unified_diff(outcome.changes, color=_color("auto")), nl=False)
        return report.exit_code
    if report.exit_code != Exit.OK:
        for line in report.lines():
            click.echo(line)
        click.echo(report.summary())
        return report.exit_code
    for change in outcome.changes:
        click.echo(f"{change.path}: {'deleted' if change.after is None else 'updated'}")
    click.echo(f"eventgen: removed spec '{name}' ({plural(len(outcome.changes), 'file')} changed)")
    return Exit.OK


@cli.group()
def export() -> None:
    """Print an artifact derived from the specs."""


@export.command("json-schema")
def export_json_schema() -> int:
    """The JSON Schema of the spec format (for editor completion)."""
    from .export.json_schema import spec_schema_text

    click.echo(spec_schema_text(), nl=False)
    return Exit.OK


@export.command("asyncapi")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@pass_state
def export_asyncapi(state: _State, fmt: str) -> int:
    """AsyncAPI 3.0.0 document of every spec's events."""
    from .export.asyncapi import asyncapi_document, render_asyncapi
    from .pipeline import load_project

    config, loaded = load_project(state.project)
    click.echo(render_asyncapi(asyncapi_document(config, loaded), fmt), nl=False)
    return Exit.OK


@export.command("typescript")
@pass_state
def export_typescript(state: _State) -> int:
    """The typed event map for socket.io-client (what generate writes to events.ts, without its marker)."""
    from .pipeline import load_project
    from .plan.frontend.events_ts import events_module

    _config, loaded = load_project(state.project)
    click.echo(events_module(loaded), nl=False)
    return Exit.OK


def _color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")  # no-color.org: set and non-empty


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors -> their exit code; anything unforeseen -> one line, exit 3."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _tolerant_streams()
    try:
        result = cli.main(args=args, prog_name="eventgen", standalone_mode=False)
    except EventgenError as exc:
        _echo_err(exc.render())
        code = exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = Exit.INVALID
    except (click.Abort, KeyboardInterrupt):
        # click turns Ctrl-C into Abort. A write in progress is finished or undone
        # before the signal is handled (changes.write_changes), never left half-way.
        _echo_err("eventgen: interrupted")
        code = Exit.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`eventgen diff | head`): stop quietly, as other tools do.
        _silence_stdout()
        code = Exit.BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the one place unforeseen failures are turned into exit 3
        if debug:
            import traceback

            traceback.print_exc()
        # One line whatever the exception says: its text may span several.
        text = " ".join(str(exc).split())
        _echo_err(f"eventgen: unexpected error: {type(exc).__name__}: {text} (rerun with --debug for the traceback)")
        code = Exit.UNEXPECTED
    else:
        code = result if isinstance(result, int) else Exit.OK
    if argv is None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            code = code or Exit.BROKEN_PIPE
        sys.exit(code)
    return code


def _tolerant_streams() -> None:
    """A terminal that cannot show a character gets an escape, not a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a stream that cannot be reconfigured
                pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
