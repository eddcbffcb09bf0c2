"""The ``resolveflow`` command: list, show, diagram, validate, verify, schema, play, report.

Needs the ``cli`` extra (``pip install 'resolveflow[cli]'``), built on click
and rich. Wherever a command takes ``ID|FILE``, a path to a ``.yaml``,
``.yml``, ``.toml`` or ``.json`` file loads that file, and anything else is a
registered methodology id, optionally with ``@version`` (``seven-as@1.0``).

Exit codes: 0 success; 1 ``verify`` or ``validate`` found problems; 2 bad
usage or an unknown methodology.

Example:
    >>> from click.testing import CliRunner
    >>> result = CliRunner().invoke(main, ["verify", "seven-as"])
    >>> result.exit_code
    0
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

try:
    import click
    from rich.console import Console
    from rich.table import Table
except ImportError as _error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the resolveflow command needs click and rich; install them with: pip install 'resolveflow[cli]'"
    ) from _error

import resolveflow
from resolveflow._case import Case
from resolveflow._methodology import Methodology, Step
from resolveflow.exceptions import InvalidEvidence, InvalidMethodology, Refused, ResolveflowError

FILE_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


def _console() -> Console:
    # Wide when not a terminal, so tables in pipes, logs and tests do not wrap at 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def resolve_methodology(reference: str) -> Methodology:
    """A methodology from ``ID``, ``ID@VERSION`` or a file path; exits with a message otherwise."""
    path = Path(reference)
    if path.suffix.lower() in FILE_SUFFIXES or path.exists():
        if not path.exists():
            _fail(f"no such file: {reference}")
        from resolveflow._files import load_methodology

        try:
            return load_methodology(path)
        except InvalidMethodology as error:
            _fail(str(error), 1)
    methodology_id, _, version = reference.partition("@")
    try:
        return resolveflow.get_methodology(methodology_id, version or None)
    except resolveflow.UnknownMethodology as error:
        _fail(f"{error} (or give a path to a .yaml, .toml or .json file)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@main.command()
@click.argument("reference", metavar="ID|FILE")
def show(reference: str) -> None:
    """Show a methodology: steps with guidance, actions with their guards, outcomes."""
    m = resolve_methodology(reference)
    console = _console()
    console.print(f"[bold]{m.title}[/bold]  ({m.id}@{m.version})")
    console.print(f"source: {m.source}")
    if m.description:
        console.print(m.description)
    console.print(f"required, in order: {' → '.join(m.required_steps)}\n")
    for step in m.steps:
        marker = " (start)" if step.id == m.initial else ""
        console.print(f"[bold]{step.id}[/bold] — {step.title}{marker}")
        for prompt in step.prompts:
            console.print(f"    say/ask: {prompt}", markup=False)
        for check in step.checklist:
            console.print(f"    [ ] {check}", markup=False)
        for action in m.actions_from(step.id):
            target = action.target or "(stays)"
            record = f" records {action.evidence.__name__}" if action.evidence else ""
            console.print(f"    → {action.name} → {target}{record}")
            for guard in action.guards:
                console.print(f"        guard {guard.name}: {guard.describe()}")
    console.print("\n[bold]outcomes[/bold]")
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
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A case snapshot (JSON) whose current step and path to highlight.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def diagram(reference: str, output_format: str, case_file: Path | None, output: Path | None) -> None:
    """Draw a methodology as Mermaid, Graphviz DOT or SVG."""
    from resolveflow import _diagram

    m = resolve_methodology(reference)
    case = None
    if case_file is not None:
        try:
            snapshot = json.loads(case_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            _fail(f"{case_file}: not a JSON snapshot ({error})")
        try:
            case = resolveflow.restore(snapshot, methodology=m)
        except ResolveflowError as error:
            _fail(f"{case_file}: {error}", 1)
    try:
        if output_format == "mermaid":
            text = _diagram.to_mermaid(m, case=case)
        elif output_format == "dot":
            text = _diagram.to_dot(m, case=case)
        else:
            text = _diagram.to_svg(m, case=case)
    except ResolveflowError as error:
        _fail(str(error))
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check a methodology file against the format and the construction rules."""
    if not file.exists():
        _fail(f"no such file: {file}")
    from resolveflow._files import load_methodology

    try:
        m = load_methodology(file)
    except InvalidMethodology as error:
        click.echo(str(error), err=True)
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


@main.command()
@click.argument("database_url", metavar="DATABASE_URL")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write an SVG chart of time spent in each step.",
)
def report(database_url: str, chart: Path | None) -> None:
    """Analytics over stored cases: time in step, outcomes, refusals, overdue items."""
    import resolveflow.store
    from resolveflow.store import report as print_report

    try:
        store = resolveflow.store.connect(database_url)
    except ResolveflowError as error:
        _fail(str(error))
    try:
        print_report(store, console=_console(), chart_path=chart)
    finally:
        store.close()


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
    console.print(f"\n== {node.title}  [{case.step}]", markup=False, style="bold")
    if isinstance(node, Step):
        for prompt in node.prompts:
            console.print(f"  say/ask: {prompt}", markup=False)
        for check in node.checklist:
            console.print(f"  [ ] {check}", markup=False)
    for late in case.overdue():
        console.print(
            f"  OVERDUE {late.kind} {late.ref}: {late.description} (due {late.due.isoformat()})", markup=False
        )


def _explain(console: Console, refusals: Any) -> None:
    for refusal in refusals:
        missing = f" (missing: {', '.join(refusal.missing)})" if refusal.missing else ""
        console.print(f"     why: [{refusal.code}] {refusal.message}{missing}", markup=False)


@main.command()
@click.argument("reference", metavar="ID|FILE")
@click.option("--actor", default="trainee", show_default=True, help="Who the entries are recorded for.")
@click.option("--case-id", default="training", show_default=True)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
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
    console.print(f"[bold]{m.title}[/bold] — a training walk. Type q at the action prompt to stop.")
    while not case.closed:
        _show_step(console, case)
        views = case.actions()
        if not views:
            console.print("  No action leads on from here.")
            break
        for number, view in enumerate(views, start=1):
            state = "" if view.enabled else "  (refused now)"
            console.print(f"  {number}. {view.title} [{view.name}]{state}", markup=False)
            _explain(console, view.refusals)
        answer = click.prompt("Your action", default="", show_default=False).strip()
        if answer in ("q", "quit"):
            break
        try:
            view = views[int(answer) - 1] if answer.isdigit() else next(v for v in views if v.name == answer)
        except (IndexError, StopIteration):
            console.print(f"  '{answer}' is not one of the numbers or names above.", markup=False)
            continue
        evidence = _ask_object(view.evidence_schema, case.now())
        try:
            entry = case.fire(view.name, evidence or None, actor=actor)
        except Refused as refused:
            console.print(f"  ✗ {view.name} refused:", markup=False)
            _explain(console, refused.refusals)
            continue
        except InvalidEvidence as invalid:
            console.print(f"  ✗ the evidence for {view.name} is not valid:", markup=False)
            for path, problem in invalid.errors:
                console.print(f"     {path or 'evidence'}: {problem}", markup=False)
            continue
        console.print(f"  ✓ {view.name} recorded (entry {entry.seq})", markup=False)
    outcome = case.outcome
    if outcome is not None:
        console.print(f"\n[bold]Closed: {outcome.title}[/bold]. Path: {' → '.join(case.path)}")
    if save is not None:
        save.write_text(json.dumps(case.snapshot(), indent=2), encoding="utf-8")
        console.print(f"snapshot written to {save}", markup=False)


if __name__ == "__main__":  # pragma: no cover
    main()
