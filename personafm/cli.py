"""The ``personafm`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from personafm.export import FORMATS, WHATS, RunNotFound, resolve_run, write_export
from personafm.runner import run_scenario
from personafm.scenario import ScenarioError, load_scenario
from personafm.summary import list_runs, station_summary
from sim.models.base import ProviderError
from sim.store import DEFAULT_DB_URL, StoreError, open_store

err = Console(stderr=True)
# Wide when piped, so tables and ids stay on one line for scripts and logs.
out = Console(width=None if sys.stdout.isatty() else 200, soft_wrap=True)


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, ScenarioError, RunNotFound, ProviderError, StoreError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except SQLAlchemyError as exc:
        err.print(
            f"[bold red]database error[/] ({args.db}): {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}",
            highlight=False,
        )
        return 2
    except KeyboardInterrupt:
        err.print("interrupted: rows written so far are kept")
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="personafm", description="Simulate AI-run radio stations and log everything."
    )
    sub = p.add_subparsers(dest="command", required=True)

    def db(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--db",
            default=DEFAULT_DB_URL,
            help=f"SQLAlchemy URL of the run store (default {DEFAULT_DB_URL})",
        )

    r = sub.add_parser("run", help="run a scenario")
    r.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="scenario file or bundled name (default: scenarios/default.toml)",
    )
    r.add_argument("--hours", type=_positive_float, help="simulated hours (overrides run.hours)")
    r.add_argument("--seed", type=_non_negative_int, help="run seed (overrides run.seed)")
    r.add_argument("--log-dir", default="logs", type=Path, help="where the JSONL event log goes")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    db(r)
    r.set_defaults(func=cmd_run)

    ls = sub.add_parser("runs", help="list stored runs")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    db(ls)
    ls.set_defaults(func=cmd_runs)

    e = sub.add_parser("export", help="export a run's as-run log, model calls or ledger")
    e.add_argument("run", help="run id, unique prefix, or 'latest'")
    e.add_argument("--what", choices=WHATS, default="asrun")
    e.add_argument("--format", choices=FORMATS, default="jsonl")
    e.add_argument("--out", type=Path, help="file to write (default: standard output)")
    db(e)
    e.set_defaults(func=cmd_export)
    return p


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.hours is not None:
        overrides["run.hours"] = args.hours
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    scenario, path, text = load_scenario(args.scenario, overrides)
    engine = open_store(args.db)
    hours = scenario.run.hours
    n_stations = len(scenario.expanded())
    err.print(
        f"[bold]{scenario.run.name}[/]: {n_stations} stations, {hours:g} simulated hours, "
        f"seed {scenario.run.seed} -> {args.db}",
        highlight=False,
    )
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.1f}/{task.total:g} sim h"),
        TimeElapsedColumn(),
        console=err,
        disable=args.quiet,
    )
    with progress:
        task = progress.add_task("broadcasting", total=hours)
        result = run_scenario(
            scenario,
            engine=engine,
            scenario_path=str(path),
            scenario_text=text,
            log_dir=args.log_dir,
            on_progress=lambda now: progress.update(task, completed=now / 3600),
        )
        progress.update(task, completed=hours)
    _print_summary(engine, result.run_id)
    out.print(
        f"{result.events:,} events, {result.model_calls:,} model calls in {result.wall_s:.1f}s"
        + (f"; event log {result.event_log}" if result.event_log else ""),
        highlight=False,
    )
    out.print(f"run {result.run_id}", highlight=False)
    return 0


SUMMARY_COLUMNS = (
    "station", "model", "songs", "songs_by_model", "talk_breaks", "talk_words", "calls",
    "output_tokens", "avg_aqh", "messages", "contracts", "income_usd", "balance_usd", "faults",
)  # fmt: skip
RUNS_COLUMNS = (
    "id", "name", "created_at", "status", "seed", "sim_hours", "stations", "events", "wall_s",
)  # fmt: skip


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str = "") -> Table:
    table = Table(title=title or None)
    for c in columns:
        numeric = bool(rows) and isinstance(rows[0][c], int | float)
        table.add_column(c.replace("_", " "), justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*(f"{r[c]:.2f}" if c.endswith("_usd") else str(r[c]) for c in columns))
    return table


def _print_summary(engine: Any, run_id: str) -> None:
    out.print(_table(station_summary(engine, run_id), SUMMARY_COLUMNS, f"run {run_id}"))


def cmd_runs(args: argparse.Namespace) -> int:
    runs = list_runs(open_store(args.db))
    if args.json:
        sys.stdout.write(json.dumps(runs, indent=2) + "\n")
    else:
        out.print(_table(runs, RUNS_COLUMNS))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    engine = open_store(args.db)
    run = resolve_run(engine, args.run)
    if args.out is None:
        n = write_export(engine, run.id, args.what, args.format, sys.stdout)
    else:
        try:
            with args.out.open("w", encoding="utf-8", newline="") as fh:
                n = write_export(engine, run.id, args.what, args.format, fh)
        except OSError as exc:
            raise CliError(f"{args.out}: cannot write: {exc.strerror}") from None
        err.print(f"{n} {args.what} rows of run {run.id} -> {args.out}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
