"""The analytics as rich tables, and time in step as an SVG bar chart.

The chart is written by hand (a few rectangles and labels) so that it needs
no plotting library: the ``report`` command must work wherever the ``cli``
extra is installed.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from resolveflow._history import format_time
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput
from resolveflow.store._analytics import Analytics, StepTime, Store, analyze

if TYPE_CHECKING:
    from rich.console import Console


def human(delta: _dt.timedelta) -> str:
    """A short duration: ``3d 4h``, ``2h 05m``, ``4m 10s``, ``12s``.

    Example:
        >>> import datetime as dt
        >>> human(dt.timedelta(hours=2, minutes=5)), human(dt.timedelta(days=3, hours=4, minutes=9))
        ('2h 05m', '3d 4h')
    """
    seconds = round(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _tables(analytics: Analytics) -> list[Any]:
    from rich.table import Table

    outcomes = Table(title="Cases by outcome")
    for column in ("Methodology", "Outcome", "Cases"):
        outcomes.add_column(column, justify="right" if column == "Cases" else "left")
    for o in analytics.outcomes:
        outcomes.add_row(o.methodology_id, o.outcome or "(open)", str(o.count))

    steps = Table(title="Time in each step")
    for column in ("Methodology", "Step", "Stays", "Median", "p90"):
        steps.add_column(column, justify="left" if column in ("Methodology", "Step") else "right")
    for s in analytics.time_in_step:
        steps.add_row(s.methodology_id, s.step, str(s.count), human(s.median), human(s.p90))

    resolution = Table(title="Time to outcome")
    for column in ("Methodology", "Outcome", "Cases", "Median", "p90"):
        resolution.add_column(column, justify="left" if column in ("Methodology", "Outcome") else "right")
    for r in analytics.resolution:
        resolution.add_row(r.methodology_id, r.outcome, str(r.count), human(r.median), human(r.p90))

    revisits = Table(title="Reopened and rescheduled cases")
    for column in ("Methodology", "Cases", "Reopened", "Rescheduled"):
        revisits.add_column(column, justify="left" if column == "Methodology" else "right")
    for v in analytics.revisits:
        revisits.add_row(v.methodology_id, str(v.cases), str(v.reopened), str(v.rescheduled))

    refused = Table(title="Refusals agents hit most often")
    for column in ("Methodology", "Code", "Times", "Actions"):
        refused.add_column(column, justify="right" if column == "Times" else "left")
    for f in analytics.refusals[:15]:
        refused.add_row(f.methodology_id, f.code, str(f.count), ", ".join(f.actions))
    if not analytics.refusals_recorded:
        refused.caption = "Refusals are not recorded: connect(..., record_refusals=True) to collect them."

    overdue = Table(title=f"Overdue promises at {format_time(analytics.now)}")
    for column in ("Methodology", "Kind", "Items", "Oldest due"):
        overdue.add_column(column, justify="right" if column == "Items" else "left")
    for d in analytics.overdue:
        overdue.add_row(d.methodology_id, d.kind, str(d.count), format_time(d.oldest_due))
    return [outcomes, steps, resolution, revisits, refused, overdue]


_WIDTH = 820
_LABEL = 230
_BARS = 440
_ROW = 22
_HEAD = 34


def time_in_step_svg(analytics: Analytics) -> str:
    """An SVG bar chart of the median time in each step (with the p90 marked), per methodology.

    Each methodology gets its own panel and scale, since their steps take
    minutes in one and days in another.

    Args:
        analytics: from :func:`analyze`.

    Returns:
        A standalone SVG document.

    Example:
        >>> import datetime as dt
        >>> from resolveflow.store import Analytics
        >>> empty = Analytics(now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), cases=0, entries=0, outcomes=(),
        ...     time_in_step=(), resolution=(), revisits=(), refusals=(), overdue=(), refusals_recorded=False)
        >>> time_in_step_svg(empty).startswith("<svg")
        True
    """
    if not isinstance(analytics, Analytics):
        raise InvalidInput(
            f"expected the Analytics of analyze(), got {shown(analytics)}", argument="analytics"
        )
    panels: dict[str, list[StepTime]] = {}
    for s in analytics.time_in_step:
        panels.setdefault(s.methodology_id, []).append(s)
    parts: list[str] = []
    y = 40
    for methodology_id, steps in panels.items():
        parts.append(
            f'<text x="10" y="{y + 16}" font-size="15" font-weight="bold">{escape(methodology_id)}</text>'
        )
        y += _HEAD
        scale = max(s.p90.total_seconds() for s in steps) or 1.0
        for s in steps:
            width = _BARS * s.median.total_seconds() / scale
            tick = _LABEL + _BARS * s.p90.total_seconds() / scale
            label = f"median {human(s.median)}, p90 {human(s.p90)}, {s.count} stays"
            parts.append(
                f'<text x="{_LABEL - 8}" y="{y + 15}" font-size="12" '
                f'text-anchor="end">{escape(s.step)}</text>'
                f'<rect x="{_LABEL}" y="{y + 3}" width="{width:.1f}" height="{_ROW - 6}" fill="#4e79a7">'
                f"<title>{escape(s.step)}: {escape(label)}</title></rect>"
                f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="{y + 1}" y2="{y + _ROW - 1}" '
                'stroke="#e15759" stroke-width="2"/>'
                f'<text x="{_LABEL + _BARS + 8}" y="{y + 15}" font-size="11" fill="#555">'
                f"{escape(human(s.median))} / {escape(human(s.p90))}</text>"
            )
            y += _ROW
        y += 12
    if not panels:
        parts.append('<text x="10" y="60" font-size="13">No completed steps yet.</text>')
        y += 40
    height = y + 30
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif">'
        f'<rect width="{_WIDTH}" height="{height}" fill="white"/>'
        '<text x="10" y="24" font-size="17" font-weight="bold">Time in each step</text>'
        f'<text x="{_WIDTH - 10}" y="24" font-size="11" text-anchor="end" fill="#555">'
        "bar: median · red mark: p90</text>" + "".join(parts) + "</svg>\n"
    )


def report(
    store: Store,
    *,
    console: Console | None = None,
    chart_path: str | os.PathLike[str] | None = None,
    now: _dt.datetime | None = None,
    methodology_id: str | None = None,
) -> Analytics:
    """Print how the stored cases were handled, as tables; optionally write an SVG chart.

    This is what ``resolveflow report DATABASE_URL`` prints. Needs ``rich``
    (the ``cli`` extra).

    Args:
        store: the store to read.
        console: a ``rich.console.Console`` (default: a new one on stdout).
        chart_path: where to write the time-in-step chart (an ``.svg`` file).
        now: the time to judge overdue promises by (default: the store's clock).
        methodology_id: only this methodology's cases.

    Returns:
        The :class:`Analytics` it printed.

    Raises:
        InvalidInput: a chart path that is not a path ending in ``.svg``, or
            that cannot be written; a console without ``print``; and the
            errors of :func:`analyze` (TamperedHistory, StoreUnavailable).

    Example:
        >>> import os, tempfile, resolveflow.store
        >>> from rich.console import Console
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> store.create_schema()
        >>> _ = store.open_case("engage", case_id="C-1")
        >>> quiet = Console(file=open(os.devnull, "w"))
        >>> resolveflow.store.report(store, console=quiet, chart_path=os.path.join(tmp.name, "t.svg")).cases
        1
        >>> store.close(); quiet.file.close(); tmp.cleanup()
    """
    target = None
    if chart_path is not None:
        if not isinstance(chart_path, str | os.PathLike) or not isinstance(os.fspath(chart_path), str):
            raise InvalidInput(f"expected a file path, got {shown(chart_path)}", argument="chart_path")
        target = Path(chart_path)
        if target.suffix.lower() != ".svg":
            raise InvalidInput(
                f"the chart is written as SVG; give a path ending in .svg, got {str(target)!r}",
                argument="chart_path",
            )
    try:
        from rich.console import Console
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError("the report needs rich; install it with: pip install 'resolveflow[cli]'") from error
    if console is not None and not callable(getattr(console, "print", None)):
        raise InvalidInput(f"expected a rich Console, got {shown(console)}", argument="console")
    analytics = analyze(store, now=now, methodology_id=methodology_id)
    out = console if console is not None else Console()
    out.print(f"[bold]{analytics.cases}[/bold] cases, [bold]{analytics.entries}[/bold] history entries")
    for table in _tables(analytics):
        out.print(table)
    if target is not None:
        _write_chart(target, time_in_step_svg(analytics))
        out.print(f"Chart written to {target}")
    return analytics


def _write_chart(target: Path, svg: str) -> None:
    try:
        target.write_text(svg, encoding="utf-8")
    except (OSError, ValueError) as error:  # a missing directory, no permission, NUL in the path ...
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InvalidInput(
            f"{shown(str(target))} could not be written: {reason}", argument="chart_path"
        ) from None
