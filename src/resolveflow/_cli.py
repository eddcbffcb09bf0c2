"""The click application behind the ``resolveflow`` command (see :mod:`resolveflow.cli`).

Every error ends the same way, whatever the command: one line on stderr,
``resolveflow COMMAND: what is wrong``, and exit code 2, never a traceback.
Errors of resolveflow itself (:class:`~resolveflow.ResolveflowError`), files
that cannot be read or written, optional packages that are missing and click's
own usage errors all go through :class:`CommandError` or are shown like it.
Text that comes from methodologies and cases (titles, guidance, ids) is printed
with rich's markup and emoji codes turned off, so ``[/bold]`` in a title is
printed as it is.

Example:
    >>> from click.testing import CliRunner
    >>> result = CliRunner().invoke(main, ["show", "no-such-flow"])
    >>> result.exit_code
    2
    >>> print(result.output.strip())  # doctest: +ELLIPSIS
    resolveflow show: unknown methodology 'no-such-flow'; available: ...
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

import resolveflow
from resolveflow._case import Case
from resolveflow._cli_errors import CommandError, needs_extra_message, one_line
from resolveflow._file_formats import FILE_SUFFIXES
from resolveflow._methodology import Methodology, Step
from resolveflow._registry import plugin_failures
from resolveflow.exceptions import (
    InvalidEvidence,
    InvalidInput,
    InvalidMethodology,
    Refused,
    ResolveflowError,
    StoreUnavailable,
)

# The optional packages a command may need, by top-level module, with the extra that installs them.
_EXTRAS: Final = {
    "click": "cli",
    "rich": "cli",
    "yaml": "files",
    "jsonschema": "files",
    "graphviz": "diagrams",
    "sqlalchemy": "sql",
    "psycopg": "sql",
}


def _missing_extra(error: BaseException) -> str | None:
    """The extra that installs the optional package whose absence raised ``error``, or None."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            return _EXTRAS.get(seen.name.partition(".")[0])
        seen = seen.__cause__ or seen.__context__
    return None


_SHOWN_PATH: Final = 200
_SHOWN_USAGE: Final = 500


def _cut(text: object, limit: int = _SHOWN_PATH) -> str:
    """A path or reference as typed, cut short: a message stays one readable line whatever was passed."""
    shown = str(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class _FilePath(click.Path):
    """click's Path, ending in a usage error for a path no system call takes (a NUL, a lone surrogate)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except ValueError as error:  # os.stat: "embedded null byte"; a lone surrogate cannot be encoded
            reason = "a lone surrogate" if isinstance(error, UnicodeError) else "a NUL character"
            self.fail(f"{_cut(ascii(str(value)))} is not a usable path: it holds {reason}", param, ctx)


def _os_message(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"{_cut(error.filename)}: {reason}" if error.filename else reason


class _Command(click.Command):
    """A command whose failures end as one line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ResolveflowError as error:
            raise CommandError(str(error)) from error
        except ImportError as error:
            extra = _missing_extra(error)
            if extra is None:
                raise
            raise CommandError(needs_extra_message(extra)) from error
        except OSError as error:
            if error.errno == errno.EPIPE:  # click quiets a closed pipe itself
                raise
            raise CommandError(_os_message(error)) from error


class _Group(click.Group):
    """The command group: usage errors are shown on one line too, with where to find help."""

    command_class = _Command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()  # the help text: no error to put on one line
            sys.exit(error.exit_code)
        except CommandError as error:
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            path = error.ctx.command_path if error.ctx is not None else "resolveflow"
            # click quotes the value it refused whole: cut, so that a huge argument is not echoed back.
            message = _cut(one_line(error.format_message()), _SHOWN_USAGE)
            click.echo(f"{path}: {message} (see '{path} -h')", err=True)
            sys.exit(2)
        except click.ClickException as error:
            click.echo(f"resolveflow: {one_line(error.format_message())}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def _console(*, markup: bool = False) -> Console:
    # Wide when not a terminal, so tables in pipes, logs and tests do not wrap at 80 columns.
    # Markup and emoji codes are off: titles, guidance and ids are printed exactly as written.
    return Console(highlight=False, markup=markup, emoji=markup, width=None if sys.stdout.isatty() else 160)


def _bold(text: str, rest: str = "") -> Text:
    return Text.assemble((text, "bold"), rest)


def resolve_methodology(reference: str) -> Methodology:
    """A methodology from ``ID``, ``ID@VERSION`` or a file path; a :class:`CommandError` otherwise."""
    path = Path(reference)
    if path.suffix.lower() in FILE_SUFFIXES or path.exists():
        if not path.exists():
            raise CommandError(f"no such file: {_cut(reference)}")
        if path.is_dir():
            raise CommandError(f"{_cut(reference)} is a folder; give a methodology file or an id")
        from resolveflow._files import load_methodology

        return load_methodology(path)
    methodology_id, _, version = reference.partition("@")
    try:
        return resolveflow.get_methodology(methodology_id, version or None)
    except resolveflow.UnknownMethodology as error:
        hint = "" if error.version else " (or give a path to a .yaml, .toml or .json file)"
        raise CommandError(f"{error}{hint}") from error


@click.group("resolveflow", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(resolveflow.__version__, prog_name="resolveflow")
def main() -> None:
    """Customer-recovery methodologies as guarded, provable state machines."""


@main.command("list")
def list_command() -> None:
    """List the registered methodologies."""
    table = Table(title="Methodologies")
    for column in ("id", "versions", "title", "steps", "source"):
        table.add_column(column)
    for methodology_id in resolveflow.available():
        m = resolveflow.get_methodology(methodology_id)
        table.add_row(
            m.id,
            ", ".join(resolveflow.versions(m.id)),
            m.title,
            " → ".join(m.required_steps),
            m.source,
        )
    _console().print(table)
    for name, reason in plugin_failures().items():
        click.echo(f"resolveflow list: skipped plugin {name!r}: {reason}", err=True)


@main.command()
@click.argument("reference", metavar="ID|FILE")
def show(reference: str) -> None:
    """Show a methodology: steps with guidance, actions with their guards, outcomes."""
    m = resolve_methodology(reference)
    console = _console()
    console.print(_bold(m.title, f"  ({m.id}@{m.version})"))
    console.print(f"source: {m.source}")
    if m.description:
        console.print(m.description)
    console.print(f"required, in order: {' → '.join(m.required_steps)}\n")
    for step in m.steps:
        marker = " (start)" if step.id == m.initial else ""
        console.print(_bold(step.id, f" — {step.title}{marker}"))
        for prompt in step.prompts:
            console.print(f"    say/ask: {prompt}")
        for check in step.checklist:
            console.print(f"    [ ] {check}")
        for action in m.actions_from(step.id):
            target = action.target or "(stays)"
            record = f" records {action.evidence.__name__}" if action.evidence else ""
            console.print(f"    → {action.name} → {target}{record}")
            for guard in action.guards:
                console.print(f"        guard {guard.name}: {guard.describe()}")
    console.print()
    console.print(_bold("outcomes"))
    for outcome in m.outcomes:
        kind = "successful" if outcome.successful else "unsuccessful"
        console.print(f"    {outcome.id} — {outcome.title} ({kind})")


@main.command()
@click.argument("reference", metavar="ID|FILE")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
)
@click.option(
    "--case",
    "case_file",
    type=_FilePath(exists=True, dir_okay=False, path_type=Path),
    help="A case snapshot (JSON) whose current step and path to highlight.",
)
@click.option("-o", "--output", type=_FilePath(dir_okay=False, path_type=Path), help="Write to a file.")
def diagram(reference: str, output_format: str, case_file: Path | None, output: Path | None) -> None:
    """Draw a methodology as Mermaid, Graphviz DOT or SVG."""
    from resolveflow import _diagram

    m = resolve_methodology(reference)
    case = None
    if case_file is not None:
        try:
            snapshot = json.loads(case_file.read_text(encoding="utf-8"))
        except ValueError as error:
            raise CommandError(f"{_cut(case_file)}: not a JSON snapshot ({error})") from error
        except RecursionError:  # json recurses per level: a snapshot nests a few levels
            raise CommandError(f"{_cut(case_file)}: not a JSON snapshot (nested too deep)") from None
        try:
            case = resolveflow.restore(snapshot, methodology=m)
        except ResolveflowError as error:
            raise CommandError(f"{_cut(case_file)}: {error}") from error
    if output_format == "mermaid":
        text = _diagram.to_mermaid(m, case=case)
    elif output_format == "dot":
        text = _diagram.to_dot(m, case=case)
    else:
        text = _diagram.to_svg(m, case=case)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.command()
@click.argument("file", type=_FilePath(dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check a methodology file against the format and the construction rules (exit 1 if it breaks one)."""
    if not file.exists():
        raise CommandError(f"no such file: {_cut(file)}")
    from resolveflow._files import load_methodology
    from resolveflow.exceptions import InvalidMethodologyFile

    try:
        m = load_methodology(file)
    except InvalidMethodologyFile as error:
        # What the command is for: the file was read and breaks a rule. Reported, exit 1.
        click.echo(one_line(str(error)), err=True)
        sys.exit(1)
    except InvalidMethodology as error:
        click.echo(f"{_cut(file)}: {one_line(str(error))}", err=True)
        sys.exit(1)
    click.echo(f"{file}: valid — {m.id}@{m.version}, {len(m.steps)} steps, {len(m.actions)} actions")


@main.command()
@click.argument("reference", metavar="ID|FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(reference: str, as_json: bool) -> None:
    """Prove that no required step can be skipped (and more); exit 1 on any finding."""
    m = resolve_methodology(reference)
    report = resolveflow.verify(m)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(str(report))
    if not report.ok:
        sys.exit(1)


@main.command()
def schema() -> None:
    """Print the JSON Schema of methodology files (for editors)."""
    from resolveflow._file_schema import methodology_schema

    click.echo(json.dumps(methodology_schema(), indent=2))


def _without_password(database_url: str) -> str:
    import sqlalchemy

    try:
        return sqlalchemy.make_url(database_url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return database_url


def _open_store(database_url: str, tenant: str | None = None) -> Any:
    """A store on ``database_url`` (the ``sql`` extra), scoped to ``tenant`` when given, or a
    CommandError saying why not."""
    import sqlalchemy.exc

    import resolveflow.store

    if "://" not in database_url and not Path(database_url).is_file():
        # connect() would create an empty SQLite file: a typo would report on nothing.
        raise CommandError(f"no such database file: {database_url}")
    try:
        return resolveflow.store.connect(database_url, tenant=tenant)
    except (sqlalchemy.exc.SQLAlchemyError, InvalidInput) as error:
        raise CommandError(f"cannot open {_without_password(database_url)}: {error}") from error


_TENANT_HELP = "Only this tenant's cases (default: the cases stored without a tenant)."


@main.group(cls=_Group)
def store() -> None:
    """Stored cases: the audit that replays them all, and the schema upgrade."""


@store.command("verify")
@click.argument("database_url", metavar="DATABASE_URL")
@click.option("--after", metavar="CASE_ID", help="Start after this case id (to resume an earlier audit).")
@click.option("--limit", type=click.IntRange(min=1), help="Check at most this many cases.")
@click.option("--tenant", metavar="TENANT", help=_TENANT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def store_verify(
    database_url: str, after: str | None, limit: int | None, tenant: str | None, as_json: bool
) -> int:
    """Replay every stored case through its guards and hash chain; exit 1 if any does not replay.

    Prints each case that does not replay with its first bad entry, then what
    was checked and, when --limit stopped it early, the --after that resumes it.
    Methodologies that are not built in must be loaded where the store can find
    them (registered by a plugin).
    """
    shown = _without_password(database_url)
    opened = _open_store(database_url, tenant)
    try:
        report = opened.verify(after=after, limit=limit)
    except StoreUnavailable as error:
        raise CommandError(f"cannot read the cases in {shown}: {error.reason}") from error
    finally:
        opened.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        console = _console()
        for finding in report.findings:
            where = f"entry {finding.entry}" if finding.entry is not None else "the case"
            console.print(
                Text.assemble((finding.case_id, "bold"), f" ({finding.kind}, {where}): {finding.reason}")
            )
        verdict = "clean" if report.clean else f"{len(report.findings)} case(s) do not replay"
        console.print(f"{report.checked} case(s), {report.entries} entries checked: {verdict}")
        if report.next_after is not None:
            console.print(Text(f"stopped early; resume with --after {report.next_after}"))
    return 0 if report.clean else 1


@store.command("upgrade")
@click.argument("database_url", metavar="DATABASE_URL")
def store_upgrade(database_url: str) -> None:
    """Rebuild the tables of a database made before tenants, in one transaction.

    Every row is kept, under no tenant. Stop the application's writers first:
    it rewrites every row. A database already up to date gets only the tables
    it lacks.
    """
    shown = _without_password(database_url)
    opened = _open_store(database_url)
    try:
        rebuilt = opened.upgrade_schema()
    except StoreUnavailable as error:
        raise CommandError(f"cannot upgrade {shown}: {error.reason}") from error
    finally:
        opened.close()
    click.echo(f"rebuilt {', '.join(rebuilt)}" if rebuilt else "up to date: nothing to rebuild")


@main.command()
@click.argument("database_url", metavar="DATABASE_URL")
@click.option(
    "--chart",
    type=_FilePath(dir_okay=False, path_type=Path),
    help="Also write an SVG chart of time spent in each step.",
)
@click.option("--tenant", metavar="TENANT", help=_TENANT_HELP)
def report(database_url: str, chart: Path | None, tenant: str | None) -> None:
    """Analytics over stored cases: time in step, outcomes, refusals, overdue items."""
    import sqlalchemy.exc

    from resolveflow.store import report as print_report

    shown = _without_password(database_url)
    opened = _open_store(database_url, tenant)
    try:
        # The report's own text is markup (bold counts); what it prints from the store is ids.
        print_report(opened, console=_console(markup=True), chart_path=chart)
    except StoreUnavailable as error:
        raise CommandError(f"cannot read the cases in {shown}: {error.reason}") from error
    except sqlalchemy.exc.SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise CommandError(f"cannot read the cases in {shown}: {cause}") from error
    finally:
        opened.close()


@main.command()
@click.argument("database_url", metavar="DATABASE_URL")
@click.option(
    "--grace",
    type=click.FloatRange(min=0, max=366 * 86_400),
    default=0.0,
    show_default=True,
    help="Seconds after its due time that an open promise counts as missed, for kinds whose "
    "methodology declares no escalation.",
)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True, max=86_400),
    default=5.0,
    show_default=True,
    help="Seconds to wait when there is nothing to fire.",
)
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option("--passes", type=click.IntRange(min=1), help="Stop after this many passes.")
@click.option(
    "--tenant",
    metavar="TENANT",
    help="Only this tenant's promises (default: every tenant's, and those of none).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was fired as JSON.")
def worker(
    database_url: str,
    grace: float,
    batch_size: int,
    interval: float,
    once: bool,
    passes: int | None,
    tenant: str | None,
    as_json: bool,
) -> None:
    """Fire deadline.due and deadline.missed events for stored promises, and escalate missed ones.

    Each event is written once, in the outbox, whatever the number of workers
    (share the work on PostgreSQL; run one on SQLite). Runs until interrupted,
    or for --passes passes (--once: one). Methodologies that are not built in
    must be loaded where the store can find them (registered by a plugin).
    """
    from resolveflow.store import DeadlineWorker, WorkerReport

    shown = _without_password(database_url)
    opened = _open_store(database_url, tenant)
    total = WorkerReport()
    try:
        runner = DeadlineWorker(opened, grace=_dt.timedelta(seconds=grace), batch_size=batch_size)
        total = runner.run(interval=interval, passes=1 if once else passes)
    except KeyboardInterrupt:
        pass  # a pass cut short rolls back its open transaction; what committed stays fired
    except StoreUnavailable as error:
        raise CommandError(f"cannot fire the deadlines in {shown}: {error.reason}") from error
    finally:
        opened.close()
    counts = {k: getattr(total, k) for k in ("due", "missed", "escalated", "refused", "skipped", "passes")}
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(", ".join(f"{value} {name}" for name, value in counts.items()))


# --- play: a terminal walk-through for training agents -------------------------

_RELATIVE = re.compile(r"\+(\d+)([mhd])")


def _parse_when(text: str, now: _dt.datetime) -> str:
    """Accept 'now', '+30m', '+2h', '+1d' or an ISO date-time; return ISO text for the evidence."""
    text = text.strip()
    if text == "now":
        return now.isoformat()
    match = _RELATIVE.fullmatch(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"m": _dt.timedelta(minutes=amount), "h": _dt.timedelta(hours=amount)}.get(
            unit, _dt.timedelta(days=amount)
        )
        return (now + delta).isoformat()
    return text


def _ask_value(name: str, spec: dict[str, Any], now: _dt.datetime, optional: bool) -> Any:
    label = spec.get("title", name)
    hint = spec.get("description")
    if hint:
        click.echo(f"    ({hint})")
    if "anyOf" in spec:
        inner = next(s for s in spec["anyOf"] if s.get("type") != "null")
        return _ask_value(name, {**inner, "title": label}, now, optional=True)
    suffix = " [enter to skip]" if optional else ""
    kind = spec.get("type")
    if kind == "boolean":
        return click.confirm(f"  {label}", default=False)
    if kind == "array":
        item = spec.get("items", {})
        values: list[Any] = []
        click.echo(f"  {label}: one per line, empty line to finish")
        while True:
            if item.get("type") == "object":
                if not click.confirm(f"  add an item to {label}?", default=not values):
                    break
                values.append(_ask_object(item, now))
                continue
            entry = click.prompt("   -", default="", show_default=False)
            if not entry:
                break
            values.append(entry)
        return values
    if kind == "object":
        return _ask_object(spec, now)
    if "enum" in spec:
        choice = click.prompt(
            f"  {label}{suffix}",
            type=click.Choice([*spec["enum"], *([""] if optional else [])]),
            default="" if optional else None,
            show_default=False,
        )
        return choice or None
    raw = click.prompt(f"  {label}{suffix}", default="" if optional else None, show_default=False)
    if optional and raw == "":
        return None
    if spec.get("format") == "date-time":
        return _parse_when(raw, now)
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw  # the evidence check explains what is wrong
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _ask_object(schema: dict[str, Any], now: _dt.datetime) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    out: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        value = _ask_value(name, spec, now, optional=name not in required)
        if value is not None:
            out[name] = value
    return out


def _show_step(console: Console, case: Case) -> None:
    node = case.current
    console.print(f"\n== {node.title}  [{case.step}]", style="bold")
    if isinstance(node, Step):
        for prompt in node.prompts:
            console.print(f"  say/ask: {prompt}")
        for check in node.checklist:
            console.print(f"  [ ] {check}")
    for late in case.overdue():
        console.print(f"  OVERDUE {late.kind} {late.ref}: {late.description} (due {late.due.isoformat()})")


def _explain(console: Console, refusals: Any) -> None:
    for refusal in refusals:
        missing = f" (missing: {', '.join(refusal.missing)})" if refusal.missing else ""
        console.print(f"     why: [{refusal.code}] {refusal.message}{missing}")


@main.command()
@click.argument("reference", metavar="ID|FILE")
@click.option("--actor", default="trainee", show_default=True, help="Who the entries are recorded for.")
@click.option("--case-id", default="training", show_default=True)
@click.option(
    "--save",
    type=_FilePath(dir_okay=False, path_type=Path),
    help="Write the case snapshot (JSON) here when the walk ends.",
)
def play(reference: str, actor: str, case_id: str, save: Path | None) -> None:
    """Walk a case through a methodology in the terminal, as training for agents.

    Shows the guidance at each step, offers the actions (explaining the
    refused ones), asks for the evidence each needs and explains every
    refusal. Type q to stop.
    """
    m = resolve_methodology(reference)
    console = _console()
    case = resolveflow.open_case(m, case_id=case_id)
    console.print(_bold(m.title, " — a training walk. Type q at the action prompt to stop."))
    while not case.closed:
        _show_step(console, case)
        views = case.actions()
        if not views:
            console.print("  No action leads on from here.")
            break
        for number, view in enumerate(views, start=1):
            state = "" if view.enabled else "  (refused now)"
            console.print(f"  {number}. {view.title} [{view.name}]{state}")
            _explain(console, view.refusals)
        answer = click.prompt("Your action", default="", show_default=False).strip()
        if answer in ("q", "quit"):
            break
        try:
            view = views[int(answer) - 1] if answer.isdigit() else next(v for v in views if v.name == answer)
        except (IndexError, StopIteration):
            console.print(f"  '{answer}' is not one of the numbers or names above.")
            continue
        evidence = _ask_object(view.evidence_schema, case.now())
        try:
            entry = case.fire(view.name, evidence or None, actor=actor)
        except Refused as refused:
            console.print(f"  ✗ {view.name} refused:")
            _explain(console, refused.refusals)
            continue
        except InvalidEvidence as invalid:
            console.print(f"  ✗ the evidence for {view.name} is not valid:")
            for path, problem in invalid.errors:
                console.print(f"     {path or 'evidence'}: {problem}")
            continue
        console.print(f"  ✓ {view.name} recorded (entry {entry.seq})")
    outcome = case.outcome
    if outcome is not None:
        console.print()
        console.print(_bold(f"Closed: {outcome.title}", f". Path: {' → '.join(case.path)}"))
    if save is not None:
        save.write_text(json.dumps(case.snapshot(), indent=2), encoding="utf-8")
        console.print(f"snapshot written to {save}")


# --- relay: outbox events to webhooks (issue 15) --------------------------------

_SECRET_ENV: Final = "RESOLVEFLOW_WEBHOOK_SECRET"


def _secret_env(name: str) -> str:
    return f"{_SECRET_ENV}_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _webhooks(specs: Sequence[str], timeout: float) -> list[Any]:
    """``NAME=URL`` options as Webhooks, each signed with the secrets of its environment variable."""
    import os

    from resolveflow.store import Webhook

    found = []
    for spec in specs:
        name, equals, url = spec.partition("=")
        if not equals:
            raise CommandError(f"--webhook takes NAME=URL, got {_cut(spec)}")
        own = _secret_env(name)
        secrets = os.environ.get(own) or os.environ.get(_SECRET_ENV)
        if not secrets:
            raise CommandError(
                f"no secret for webhook {_cut(name)}: set {own} (or {_SECRET_ENV}) to 'whsec_…'"
            )
        found.append(Webhook(name, url, secrets.split(), timeout=timeout))
    return found


@main.group(cls=_Group)
def relay() -> None:
    """Deliver the store's outbox events to webhooks; inspect and replay dead letters."""


@relay.command("run")
@click.argument("database_url", metavar="DATABASE_URL")
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    required=True,
    metavar="NAME=URL",
    help=f"An endpoint (repeat for several); its secret is in {_SECRET_ENV}_<NAME> or {_SECRET_ENV}.",
)
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--max-attempts", default=8, show_default=True, help="Failed attempts before a dead letter.")
@click.option("--backoff", default=1.0, show_default=True, help="First retry's longest wait, in seconds.")
@click.option("--max-backoff", default=3600.0, show_default=True, help="Longest wait between attempts (s).")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for an endpoint.")
@click.option(
    "--lease", default=60.0, show_default=True, help="Seconds a claimed delivery stays this relay's."
)
@click.option("--batch-size", default=100, show_default=True, help="Deliveries claimed per round.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds to wait when nothing is due.")
def relay_run(
    database_url: str,
    webhooks: tuple[str, ...],
    once: bool,
    max_attempts: int,
    backoff: float,
    max_backoff: float,
    timeout: float,
    lease: float,
    batch_size: int,
    poll: float,
) -> None:
    """Deliver outbox events to webhooks, at least once and in order per case, until stopped.

    Each endpoint gets every event of the outbox from the first, signed per
    Standard Webhooks. SIGTERM or Ctrl-C stops it between deliveries. On
    PostgreSQL several relays share the work; on SQLite run one.
    """
    import signal
    import threading

    from resolveflow.store import Relay

    subscribers = _webhooks(webhooks, timeout)
    opened = _open_store(database_url)
    try:
        runner = Relay(
            opened,
            subscribers,
            max_attempts=max_attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            batch_size=batch_size,
            lease=lease,
        )
        if once:
            done = runner.drain()
            click.echo(f"{done.delivered} delivered, {done.failed} failed attempt(s), {done.dead} dead")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            runner.run(stop, poll=poll)
    except StoreUnavailable as error:
        raise CommandError(f"cannot relay from {_without_password(database_url)}: {error.reason}") from error
    finally:
        opened.close()


@relay.command("dead-letters")
@click.argument("database_url", metavar="DATABASE_URL")
@click.option("--subscriber", metavar="NAME", help="Only this webhook's.")
@click.option("--after", default=0, type=click.IntRange(min=0), help="Start after this outbox position.")
@click.option("--limit", default=100, type=click.IntRange(min=1, max=10_000), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
def relay_dead_letters(
    database_url: str, subscriber: str | None, after: int, limit: int, as_json: bool
) -> None:
    """List the deliveries that failed every attempt (replay them with 'relay replay')."""
    from resolveflow.store import dead_letters

    opened = _open_store(database_url)
    try:
        found = dead_letters(opened, subscriber=subscriber, after=after, limit=limit)
    except StoreUnavailable as error:
        raise CommandError(f"cannot read {_without_password(database_url)}: {error.reason}") from error
    finally:
        opened.close()
    if as_json:
        click.echo(json.dumps([d.to_json() for d in found], indent=2, ensure_ascii=False))
        return
    console = _console()
    for item in found:
        console.print(
            Text.assemble(
                (item.delivery_id, "bold"),
                f" {item.subscriber} {item.case_id} #{item.position} after {item.attempts} attempt(s): "
                f"{item.last_error or ''}",
            )
        )
    console.print(f"{len(found)} dead letter(s)")


@relay.command("replay")
@click.argument("database_url", metavar="DATABASE_URL")
@click.argument("delivery_ids", nargs=-1, metavar="[DELIVERY_ID]...")
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter (of --subscriber).")
@click.option("--subscriber", metavar="NAME", help="Only this webhook's.")
def relay_replay(
    database_url: str, delivery_ids: tuple[str, ...], replay_all: bool, subscriber: str | None
) -> None:
    """Make dead letters pending again: the next relay round delivers them (same delivery ids)."""
    from resolveflow.store import replay_dead_letters

    if bool(delivery_ids) == replay_all:
        raise CommandError("give the DELIVERY_IDs to replay, or --all (not both)")
    opened = _open_store(database_url)
    try:
        count = replay_dead_letters(opened, list(delivery_ids) or None, subscriber=subscriber)
    except StoreUnavailable as error:
        raise CommandError(f"cannot write to {_without_password(database_url)}: {error.reason}") from error
    finally:
        opened.close()
    click.echo(f"{count} dead letter(s) replayed")


from resolveflow._cli_server import add_server_commands  # noqa: E402 - the HTTP API's commands

add_server_commands(main)

from resolveflow._cli_desk import desk as _desk  # noqa: E402  (registered once main exists)

main.add_command(_desk)

if __name__ == "__main__":  # pragma: no cover
    main()
