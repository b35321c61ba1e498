"""What the commands share: consoles, argument types, errors, progress and tables."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from personafm.runner import RunResult
from personafm.scenario import RunSettings
from personafm.settings_doc import field_bounds
from personafm.summary import station_summary
from sim.clock import parse_duration
from sim.store import StoreError, db_url, default_db_url
from sim.text import excerpt, printable

err = Console(stderr=True, soft_wrap=True)  # messages whole: the terminal wraps them


out = Console(soft_wrap=True)


PIPED_WIDTH = 200  # piped output: wide, so ids stay on one line for scripts and logs


def fit_consoles() -> None:
    """The terminal's width on a terminal; ``$COLUMNS`` or ``PIPED_WIDTH`` when piped."""
    if sys.stdout.isatty():
        return
    columns = os.environ.get("COLUMNS", "")
    out.width = int(columns) if columns.isdigit() and int(columns) >= 40 else PIPED_WIDTH


ERROR_LIMIT = 2000  # characters of an error message shown


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def safe(value: object, limit: int | None = None) -> str:
    """``value`` as text a terminal shows as is: no control sequences, no rich markup."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    return escape(printable(text))


def db_shown(url: str) -> str:
    """A database URL as printed: its password, if any, masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def db_arg(text: str) -> str:
    try:
        return db_url(text)
    except StoreError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def setting_type(
    model: type[BaseModel], name: str, kind: type[int] | type[float]
) -> Callable[[str], Any]:
    """An argparse type for a flag that overrides a setting: the setting's own range.

    The bounds come from the pydantic field, so a flag and the scenario key it
    overrides accept the same values (docs/settings.md).
    """
    bounds = field_bounds(model, name)
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:  # also a number of more than 4,300 digits
            raise argparse.ArgumentTypeError(f"expected {what}, got {excerpt(text)}") from None
        if (isinstance(value, float) and not math.isfinite(value)) or not bounds.contains(value):
            raise argparse.ArgumentTypeError(f"must be {bounds.words()}, got {excerpt(text)}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


HOURS = setting_type(RunSettings, "hours", float)


SEED = setting_type(RunSettings, "seed", int)


MAX_COST = setting_type(RunSettings, "max_cost_usd", float)


@contextmanager
def progress(quiet: bool, hours: float) -> Iterator[Callable[[float], None]]:
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.1f}/{task.total:g} sim h"),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("broadcasting", total=hours)
        yield lambda now: progress.update(task, completed=now / 3600)
        progress.update(task, completed=hours)


def hours_label(h: float) -> str:
    return f"{h:g} hour" if h == 1 else f"{h:g} hours"


def report(engine: Any, result: RunResult, args: argparse.Namespace) -> None:
    """The run's summary: a compact table (``--wide``: every column; ``--json``: JSON on
    standard output and nothing else there), the counters and the run id last."""
    if args.json:
        summary = {
            "run_id": result.run_id, "status": result.status, "events": result.events,
            "sim_hours": result.sim_hours, "model_calls": result.model_calls,
            "live_calls": result.live_calls, "replayed_calls": result.replayed_calls,
            "cost_usd": round(result.cost_usd, 6), "wall_s": round(result.wall_s, 2),
            "event_log": str(result.event_log) if result.event_log else None,
            "stations": station_summary(engine, result.run_id),
        }  # fmt: skip
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        print_summary(engine, result.run_id, args.wide)
    if result.status == "cost_limit":
        err.print(
            f"[bold yellow]stopped at the cost limit[/]: ${result.cost_usd:.4f} spent",
            highlight=False,
        )
    if result.unpriced:
        err.print(
            f"[yellow]unpriced models (costed at $0):[/] {safe(', '.join(result.unpriced), 500)}; "
            "add them to a price table (--prices)",
            highlight=False,
        )
    if args.json:
        return
    out.print(
        f"{result.events:,} events, {result.model_calls:,} model calls "
        f"({result.live_calls:,} live, {result.replayed_calls:,} replayed), "
        f"${result.cost_usd:.4f} in {result.wall_s:.1f}s",
        highlight=False,
    )
    if result.event_log:
        out.print(f"event log {safe(result.event_log)}", highlight=False)
    out.print(f"run {safe(result.run_id)}", highlight=False)


def time_arg(flag: str, text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise CliError(f"{flag}: expected a duration like 6h, 90m or 3600s, got {excerpt(text)}")
    return seconds


SUMMARY_COLUMNS = (
    "station", "model", "songs", "songs_by_model", "talk_breaks", "talk_words", "calls",
    "output_tokens", "cost_usd", "avg_aqh", "messages", "contracts", "income_usd", "balance_usd",
    "faults",
)  # fmt: skip


SUMMARY_COMPACT = {
    "station": "station", "model": "model", "songs": "songs", "talk_breaks": "talk",
    "calls": "calls", "avg_aqh": "AQH", "balance_usd": "$ balance", "faults": "faults",
}  # fmt: skip


RUNS_COLUMNS = (
    "id", "name", "label", "created_at", "status", "seed", "sim_hours_done", "sim_hours",
    "stations", "events", "wall_s", "cost_usd", "parent_run_id", "fork_at_s",
)  # fmt: skip


WHOLE_COLUMNS = ("id", "station", "status")


WIDE = 400  # --wide: tables at their natural width, up to this


RUNS_COMPACT = {
    "id": "run", "name": "name · label", "status": "status", "hours": "sim h",
    "stations": "stations", "events": "events",
}  # fmt: skip


def table(
    rows: list[dict[str, Any]],
    columns: dict[str, str] | tuple[str, ...],
    title: str = "",
    compact: bool = False,
) -> Table:
    """A table of ``rows``. ``compact``: no rules between columns, and text that does not
    fit wraps instead of being cut (an 80-column terminal shows every character)."""
    headers = columns if isinstance(columns, dict) else {c: c.replace("_", " ") for c in columns}
    table = Table(title=title or None, box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
                  pad_edge=not compact, show_edge=not compact)  # fmt: skip
    for c, header in headers.items():
        numeric = bool(rows) and isinstance(rows[0][c], int | float)
        whole = numeric or c in WHOLE_COLUMNS  # never wrapped: a run id is copied whole
        width = max((len(cell(r[c], False)) for r in rows), default=0) if whole else None
        table.add_column(header, justify="right" if numeric else "left", overflow="fold",
                         no_wrap=whole, min_width=width)  # fmt: skip
    for r in rows:
        table.add_row(*(cell(r[c], c.endswith("_usd")) for c in headers))
    return table


def cell(value: Any, usd: bool) -> str:
    """A table cell: money with cents; text made printable, its markup escaped."""
    if usd and isinstance(value, int | float):
        return f"{value:.2f}"
    return safe(value, 200)


def print_wide(table: Table) -> None:
    """A table at its natural width, however narrow the terminal (it wraps the lines)."""
    width = out.width
    out.width = max(width, WIDE)
    try:
        out.print(table)
    finally:
        out.width = width


def print_summary(engine: Any, run_id: str, wide: bool) -> None:
    rows = station_summary(engine, run_id)
    if wide:  # as wide as it needs: the terminal wraps or a pager scrolls
        print_wide(table(rows, SUMMARY_COLUMNS))
    else:
        out.print(table(rows, SUMMARY_COMPACT, compact=True))


def add_db(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--db",
        default=default_db_url(),
        type=db_arg,
        help="the run store: a SQLite file's path or a SQLAlchemy URL "
        f"(default {default_db_url()})",
    )


def add_run_flags(sp: argparse.ArgumentParser) -> None:
    """What every command that runs a simulation takes: where its log goes, quiet, how its
    summary prints, and the store."""
    sp.add_argument("--log-dir", type=Path, help="where the JSONL event log goes (default logs)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    add_summary_flags(sp)
    add_db(sp)


def add_summary_flags(sp: argparse.ArgumentParser) -> None:
    how = sp.add_mutually_exclusive_group()
    how.add_argument("--wide", action="store_true", help="every column of the summary")
    how.add_argument("--json", action="store_true", help="the summary as JSON on stdout")
