"""The ``personafm`` command line."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from analysis.reader import read_run
from personafm.demo import add_commands as add_demo_command
from personafm.dryrun import dry_run
from personafm.experimenting import add_commands as add_experiment_commands
from personafm.experiments.runner import ExperimentError
from personafm.export import FORMATS, WHATS, RunNotFound, iter_rows, resolve_run, write_export
from personafm.replaying import (
    check_fork_time,
    check_recorded,
    compare_asrun,
    fork,
    forked_scenario,
    recorded_until_s,
    rerun,
    resume,
    scenario_of,
)
from personafm.runner import RunResult, run_scenario
from personafm.scenario import RunSettings, Scenario, ScenarioError, load_scenario
from personafm.settings_doc import field_bounds
from personafm.showing import add_commands as add_show_command
from personafm.summary import list_runs, station_summary
from sim.clock import parse_duration
from sim.models.base import ProviderError
from sim.models.prices import PriceTable
from sim.runstate import run_state
from sim.store import StoreError, db_url, default_db_url, open_store
from sim.text import excerpt, printable

err = Console(stderr=True, soft_wrap=True)  # messages whole: the terminal wraps them
out = Console(soft_wrap=True)
PIPED_WIDTH = 200  # piped output: wide, so ids stay on one line for scripts and logs


def _fit_consoles() -> None:
    """The terminal's width on a terminal; ``$COLUMNS`` or ``PIPED_WIDTH`` when piped."""
    if sys.stdout.isatty():
        return
    columns = os.environ.get("COLUMNS", "")
    out.width = int(columns) if columns.isdigit() and int(columns) >= 40 else PIPED_WIDTH


# The exit status of a process killed by SIGPIPE (128 + 13), as a shell reports it.
EXIT_BROKEN_PIPE = 141
_ERROR_LIMIT = 2000  # characters of an error message shown


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def safe(value: object, limit: int | None = None) -> str:
    """``value`` as text a terminal shows as is: no control sequences, no rich markup."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    return escape(printable(text))


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (how Docker and systemd stop a process) stops a run like Ctrl-C does: the
    rows so far are kept and the run is marked stopped, with its counters."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    _fit_consoles()
    with _sigterm_as_ctrl_c():
        return _main_guarded(argv)


def _main_guarded(argv: list[str] | None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader went away (`personafm export ... | head -1`): stop quietly, as the
        # Python docs advise, pointing stdout at devnull so the final flush cannot raise.
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (
        CliError,
        ScenarioError,
        RunNotFound,
        ProviderError,
        StoreError,
        ExperimentError,
    ) as exc:
        err.print(f"[bold red]error:[/] {safe(exc, _ERROR_LIMIT)}", highlight=False)
        return 2
    except SQLAlchemyError as exc:
        first = (str(exc).splitlines() or [""])[0]
        err.print(
            f"[bold red]database error[/] ({safe(_db_shown(args.db), 200)}): "
            f"{exc.__class__.__name__}: {safe(first, _ERROR_LIMIT)}",
            highlight=False,
        )
        return 2
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file or folder the user named (--log-dir, --out...)
        where = f"{safe(exc.filename, 500)}: " if exc.filename else ""
        err.print(
            f"[bold red]error:[/] {where}{safe(exc.strerror or exc, _ERROR_LIMIT)}",
            highlight=False,
        )
        return 2
    except KeyboardInterrupt:
        err.print("interrupted: rows written so far are kept")
        return 130


def _db_shown(url: str) -> str:
    """A database URL as printed: its password, if any, masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind stdout (a test's capture)
        pass


def _db_arg(text: str) -> str:
    try:
        return db_url(text)
    except StoreError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    """argparse that quotes what the user typed safely in its errors (it echoes choices)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {printable(message[:_ERROR_LIMIT], one_line=True)}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="personafm", description="Simulate AI-run radio stations and log everything.")
    sub = p.add_subparsers(dest="command", required=True)

    def summary_flags(sp: argparse.ArgumentParser) -> None:
        how = sp.add_mutually_exclusive_group()
        how.add_argument("--wide", action="store_true", help="every column of the summary")
        how.add_argument("--json", action="store_true", help="the summary as JSON on stdout")

    def db(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--db",
            default=default_db_url(),
            type=_db_arg,
            help="the run store: a SQLite file's path or a SQLAlchemy URL "
            f"(default {default_db_url()})",
        )

    r = sub.add_parser("run", help="run a scenario")
    r.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="scenario file or bundled name (default: scenarios/default.toml)",
    )
    r.add_argument("--hours", type=HOURS, help="simulated hours (overrides run.hours)")
    r.add_argument("--seed", type=SEED, help="run seed (overrides run.seed)")
    r.add_argument("--log-dir", type=Path, help="where the JSONL event log goes (default logs)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument(
        "--max-cost", type=MAX_COST, metavar="USD", help="stop cleanly once calls cost this"
    )
    r.add_argument("--prices", type=Path, help="price table (TOML) merged over the bundled one")
    r.add_argument("--name", help="the run's name (overrides run.name)")
    r.add_argument("--label", help="free text that tells this run apart, shown by `runs`")
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="project calls, tokens and cost without calling any model or writing the store",
    )
    summary_flags(r)
    db(r)
    r.set_defaults(func=cmd_run)

    rr = sub.add_parser("rerun", help="re-run a logged run from its recorded responses")
    rr.add_argument("run", help="run id, unique prefix, or 'latest'")
    rr.add_argument("--log-dir", type=Path)
    rr.add_argument("--quiet", action="store_true", help="no progress bar")
    summary_flags(rr)
    db(rr)
    rr.set_defaults(func=cmd_rerun)

    fk = sub.add_parser("fork", help="replay a run up to a time, then go on live with changes")
    fk.add_argument("run", help="run id, unique prefix, or 'latest'")
    fk.add_argument("--at", required=True, help="fork time, e.g. 6h, 90m, 3600s")
    fk.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a scenario setting, e.g. stations.WBRV.system_prompt='...' (a station by "
        "call sign, or by its index in the file counted from 0; repeatable)",
    )
    fk.add_argument("--patch", type=Path, help="a TOML file merged over the scenario")
    fk.add_argument("--hours", type=HOURS, help="simulated hours of the fork")
    fk.add_argument("--log-dir", type=Path)
    fk.add_argument("--quiet", action="store_true", help="no progress bar")
    summary_flags(fk)
    db(fk)
    fk.set_defaults(func=cmd_fork)

    rs = sub.add_parser("resume", help="continue a stopped or interrupted run where it stopped")
    rs.add_argument("run", help="run id, unique prefix, or 'latest'")
    rs.add_argument("--log-dir", type=Path)
    rs.add_argument("--quiet", action="store_true", help="no progress bar")
    summary_flags(rs)
    db(rs)
    rs.set_defaults(func=cmd_resume)

    ls = sub.add_parser("runs", help="list stored runs")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.add_argument("--wide", action="store_true", help="every column (created, seed, cost…)")
    db(ls)
    ls.set_defaults(func=cmd_runs)

    w = sub.add_parser("watch", help="run a scenario and watch it live in the terminal")
    w.add_argument("scenario", nargs="?", default=None, help="scenario file or bundled name")
    w.add_argument("--attach", metavar="RUN", help="follow a run another process is writing")
    w.add_argument("--hours", type=HOURS, help="simulated hours (overrides run.hours)")
    w.add_argument("--seed", type=SEED, help="run seed (overrides run.seed)")
    w.add_argument("--speed", choices=("1", "10", "60", "max"), default="60",
                   help="simulated seconds per wall second (default 60)")  # fmt: skip
    w.add_argument("--log-dir", type=Path)
    w.add_argument("--no-speech", action="store_true", help="never start the speech engine")
    db(w)
    w.set_defaults(func=cmd_watch)

    rp = sub.add_parser("replay", help="scrub through a stored run in the terminal UI")
    rp.add_argument("run", help="run id, unique prefix, or 'latest'")
    rp.add_argument("--at", default="0h", help="start at this time, e.g. 6h")
    rp.add_argument("--no-speech", action="store_true")
    db(rp)
    rp.set_defaults(func=cmd_replay)

    au = sub.add_parser("export-audio", help="render a station's talk and ad reads to a WAV")
    au.add_argument("run", help="run id, unique prefix, or 'latest'")
    au.add_argument("--station", required=True, help="call sign")
    au.add_argument("--from", dest="start", default="0h", help="from this time (e.g. 2h)")
    au.add_argument("--to", dest="end", default=None, help="up to this time (default: the end)")
    au.add_argument("--out", type=Path, required=True, help="WAV file to write")
    db(au)
    au.set_defaults(func=cmd_export_audio)

    e = sub.add_parser("export", help="export a run's rows (as-run, calls, ledger, ratings...)")
    e.add_argument("run", help="run id, unique prefix, or 'latest'")
    e.add_argument("--what", choices=WHATS, default="asrun")
    e.add_argument("--format", choices=FORMATS, default="jsonl")
    e.add_argument("--out", type=Path, help="file to write (default: standard output)")
    e.add_argument(
        "--no-run-id", action="store_true", help="leave the run_id column out (to diff runs)"
    )
    db(e)
    e.set_defaults(func=cmd_export)

    an = sub.add_parser("analyze", help="the persona scoreboard of one or more runs")
    an.add_argument("runs", nargs="+", metavar="RUN", help="run ids, unique prefixes, or 'latest'")
    an.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for scoreboard.json and report.html (default logs/analysis)",
    )
    an.add_argument(
        "--judge",
        default="rules",
        help="who labels probe answers: rules (offline, default), local, or "
        "provider:model[@base_url]",
    )
    an.add_argument("--seed", type=SEED, default=0, help="seed of the resampling and embeddings")
    an.add_argument("--json", action="store_true", help="print scoreboard.json, not the tables")
    db(an)
    an.set_defaults(func=cmd_analyze)

    add_experiment_commands(sub, db, MAX_COST)
    add_show_command(sub, db)
    add_demo_command(sub, db)
    return p


def _setting_type(
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


HOURS = _setting_type(RunSettings, "hours", float)
SEED = _setting_type(RunSettings, "seed", int)
MAX_COST = _setting_type(RunSettings, "max_cost_usd", float)


def cmd_run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.hours is not None:
        overrides["run.hours"] = args.hours
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.prices is not None:
        overrides["run.prices"] = str(args.prices)
    if args.name is not None:
        overrides["run.name"] = args.name
    if args.label is not None:
        overrides["run.label"] = args.label
    scenario, path, text = load_scenario(args.scenario, overrides)
    prices = PriceTable.load(scenario.run.prices or None)
    if args.dry_run:
        return _print_projection(scenario, prices)
    engine = open_store(args.db)
    n_stations = len(scenario.expanded())
    err.print(
        f"[bold]{safe(scenario.run.name)}[/]: {n_stations} stations, "
        f"{_hours(scenario.run.hours)} simulated, seed {scenario.run.seed} -> "
        f"{safe(_db_shown(args.db), 200)}",
        highlight=False,
    )
    with _progress(args.quiet, scenario.run.hours) as on_progress:
        result = run_scenario(
            scenario,
            engine=engine,
            scenario_path=str(path),
            scenario_text=text,
            log_dir=args.log_dir,
            on_progress=on_progress,
            prices=prices,
            cost_limit_usd=args.max_cost,
        )
    _report(engine, result, args)
    return 0


@contextmanager
def _progress(quiet: bool, hours: float) -> Iterator[Callable[[float], None]]:
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


def _hours(h: float) -> str:
    return f"{h:g} hour" if h == 1 else f"{h:g} hours"


def _report(engine: Any, result: RunResult, args: argparse.Namespace) -> None:
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
        _print_summary(engine, result.run_id, args.wide)
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


def _print_projection(scenario: Scenario, prices: PriceTable) -> int:
    rows = dry_run(scenario, prices)
    title = f"dry run: {safe(scenario.run.name)}, {scenario.run.hours:g} h (no model called)"
    table = Table(title=title)
    for c in ("station", "model", "calls", "input tokens", "output tokens", "cost usd"):
        table.add_column(c, justify="left" if c in ("station", "model") else "right")
    for r in rows:
        cost = "unpriced" if r.cost_usd is None else f"{r.cost_usd:.4f}"
        table.add_row(safe(r.station), safe(r.model, 80), f"{r.calls:,}", f"{r.input_tokens:,}",
                      f"{r.output_tokens:,}", cost)  # fmt: skip
    out.print(table)
    total = sum(r.cost_usd or 0.0 for r in rows)
    calls = sum(r.calls for r in rows)
    tokens = sum(r.input_tokens + r.output_tokens for r in rows)
    out.print(
        f"projected: {calls:,} calls, {tokens:,} tokens, ${total:.4f} "
        f"(price table {safe(prices.version)}; tokens estimated at ~4 characters each)",
        highlight=False,
    )
    unpriced = sorted({r.model for r in rows if r.cost_usd is None})
    if unpriced:
        err.print(f"[yellow]unpriced models:[/] {safe(', '.join(unpriced), 500)}", highlight=False)
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    engine = open_store(args.db)
    parent = resolve_run(engine, args.run)
    end_s = recorded_until_s(engine, parent)
    if end_s < parent.sim_hours * 3600.0:
        err.print(
            f"run {safe(parent.id)} {safe(parent.status)} at {end_s / 3600:.3g}h of "
            f"{parent.sim_hours:g}h planned: re-running the {end_s / 3600:.3g}h it recorded",
            highlight=False,
        )
    with _progress(args.quiet, end_s / 3600.0) as on_progress:
        parent, result, comparison = rerun(
            engine, parent.id, log_dir=args.log_dir, on_progress=on_progress
        )
    _report(engine, result, args)
    if comparison.first_difference is None and result.divergence is None:
        out.print(
            f"re-run of {safe(parent.id)}: as-run identical ({comparison.rows:,} rows), "
            f"{result.live_calls} live model calls",
            highlight=False,
        )
        return 0
    err.print(f"[bold red]re-run of {safe(parent.id)} differs[/]", highlight=False)
    if result.divergence:
        err.print(f"first differing request: {safe(result.divergence, 2000)}", highlight=False)
    if comparison.first_difference:
        err.print(
            f"first differing as-run {safe(comparison.first_difference, 2000)}", highlight=False
        )
    return 1


def cmd_resume(args: argparse.Namespace) -> int:
    engine = open_store(args.db)
    parent = resolve_run(engine, args.run)
    with _progress(args.quiet, parent.sim_hours) as on_progress:
        row, result = resume(engine, parent.id, log_dir=args.log_dir, on_progress=on_progress)
    out.print(
        f"resumed {safe(row.id)} from {max(row.checkpoint_s or 0.0, 0.0) / 3600:.3g}h "
        f"({row.checkpoint_events:,} stored events kept): {safe(result.status)}",
        highlight=False,
    )
    _report(engine, result, args)
    return 0 if result.status == "finished" else 1


def cmd_fork(args: argparse.Namespace) -> int:
    at_s = _time("--at", args.at)
    engine = open_store(args.db)
    parent = resolve_run(engine, args.run)
    scenario = forked_scenario(scenario_of(parent), args.set, args.patch, args.hours)
    check_fork_time(scenario, at_s)
    check_recorded(engine, parent, at_s)
    with _progress(args.quiet, scenario.run.hours) as on_progress:
        result = fork(engine, parent, scenario, at_s, log_dir=args.log_dir, on_progress=on_progress)
    _report(engine, result, args)
    prefix = compare_asrun(engine, parent.id, result.run_id, until_s=at_s)
    verdict = "identical" if prefix.first_difference is None else prefix.first_difference
    live = ", ".join(result.live_callers) or "none"
    err.print(
        f"fork of {safe(parent.id)} at {at_s / 3600:g}h: prefix {safe(verdict, 2000)} "
        f"({prefix.rows:,} rows); after {at_s / 3600:g}h, {result.replayed_after_fork:,} calls "
        f"were answered from the recording (requests unchanged) and {result.live_calls:,} "
        f"went live (callers whose model or requests changed: {safe(live, 500)})",
        highlight=False,
    )
    return 0


def _speaker(disabled: bool) -> Any:
    if disabled:
        return None
    from audio.speech import Speaker

    return Speaker()


def _time(flag: str, text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise CliError(f"{flag}: expected a duration like 6h, 90m or 3600s, got {excerpt(text)}")
    return seconds


def cmd_watch(args: argparse.Namespace) -> int:
    from personafm.watching import attach_source, live_source
    from tui.app import PersonaApp

    engine = open_store(args.db)
    if args.attach:
        source: Any = attach_source(engine, resolve_run(engine, args.attach).id)
    else:
        overrides: dict[str, Any] = {}
        if args.hours is not None:
            overrides["run.hours"] = args.hours
        if args.seed is not None:
            overrides["run.seed"] = args.seed
        scenario, path, text = load_scenario(args.scenario, overrides)
        speed = float("inf") if args.speed == "max" else float(args.speed)
        source = live_source(scenario, engine, scenario_path=str(path), scenario_text=text,
                             log_dir=args.log_dir, speed=speed)  # fmt: skip
    PersonaApp(source, speaker=_speaker(args.no_speech), store=engine).run()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from personafm.watching import stored_source
    from tui.app import PersonaApp

    at_s = _time("--at", args.at)
    engine = open_store(args.db)
    run = resolve_run(engine, args.run)
    source = stored_source(engine, run.id, at_s)
    PersonaApp(source, speaker=_speaker(args.no_speech), store=engine).run()
    return 0


def cmd_export_audio(args: argparse.Namespace) -> int:
    from audio.export import AudioExportError, render_wav

    engine = open_store(args.db)
    run = resolve_run(engine, args.run)
    station = read_run(engine, run.id).station_named(args.station)
    start = _time("--from", args.start)
    end = _time("--to", args.end) if args.end else float("inf")
    rows = [
        r
        for r in iter_rows(engine, run.id, "asrun")
        if r["station"] == station
        and r["kind"] in ("talk", "ad")
        and r["status"] == "aired"
        and r["text"]
        and start <= r["start_s"] < end
    ]
    if not rows:
        raise CliError(
            f"no talk or ad reads for {station} in run {run.id} between "
            f"{start / 3600:g}h and {end / 3600:g}h: widen --from/--to"
        )
    try:
        seconds = render_wav([(station, r["text"]) for r in rows], args.out)
    except AudioExportError as exc:
        raise CliError(str(exc)) from None
    err.print(
        f"{len(rows)} segments, {seconds:.1f} s of audio -> {safe(args.out)}", highlight=False
    )
    return 0


SUMMARY_COLUMNS = (
    "station", "model", "songs", "songs_by_model", "talk_breaks", "talk_words", "calls",
    "output_tokens", "cost_usd", "avg_aqh", "messages", "contracts", "income_usd", "balance_usd",
    "faults",
)  # fmt: skip
# what fits in 80 columns: column -> its header (the rest: --wide or --json)
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


def _table(
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
        width = max((len(_cell(r[c], False)) for r in rows), default=0) if whole else None
        table.add_column(header, justify="right" if numeric else "left", overflow="fold",
                         no_wrap=whole, min_width=width)  # fmt: skip
    for r in rows:
        table.add_row(*(_cell(r[c], c.endswith("_usd")) for c in headers))
    return table


def _cell(value: Any, usd: bool) -> str:
    """A table cell: money with cents; text made printable, its markup escaped."""
    if usd and isinstance(value, int | float):
        return f"{value:.2f}"
    return safe(value, 200)


def _print_wide(table: Table) -> None:
    """A table at its natural width, however narrow the terminal (it wraps the lines)."""
    width = out.width
    out.width = max(width, WIDE)
    try:
        out.print(table)
    finally:
        out.width = width


def _print_summary(engine: Any, run_id: str, wide: bool) -> None:
    rows = station_summary(engine, run_id)
    if wide:  # as wide as it needs: the terminal wraps or a pager scrolls
        _print_wide(_table(rows, SUMMARY_COLUMNS))
    else:
        out.print(_table(rows, SUMMARY_COMPACT, compact=True))


def cmd_runs(args: argparse.Namespace) -> int:
    runs = list_runs(open_store(args.db))
    if args.json:
        sys.stdout.write(json.dumps(runs, indent=2) + "\n")
    elif not runs:
        err.print("no runs in this database yet: start one with `personafm run`")
    elif args.wide:
        _print_wide(_table(runs, RUNS_COLUMNS))
    else:
        for r in runs:
            r["name · label"] = " · ".join(x for x in (r["name"], r["label"]) if x)
            done, planned = r["sim_hours_done"], r["sim_hours"]
            r["hours"] = f"{done:g}" if done == planned else f"{done:.3g} of {planned:g}"
        columns = {("name · label" if k == "name" else k): v for k, v in RUNS_COMPACT.items()}
        out.print(_table(runs, columns, compact=True))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    engine = open_store(args.db)
    run = resolve_run(engine, args.run)
    state = run_state(run)
    if state != "finished":
        err.print(
            f"note: run {safe(run.id)} is {safe(state)}: the export holds its rows so far",
            highlight=False,
        )
    drop = ("run_id",) if args.no_run_id else ()
    if args.out is None:
        n = write_export(engine, run.id, args.what, args.format, sys.stdout, drop=drop)
    else:
        try:
            with args.out.open("w", encoding="utf-8", newline="") as fh:
                n = write_export(engine, run.id, args.what, args.format, fh, drop=drop)
        except OSError as exc:
            raise CliError(f"{args.out}: cannot write: {exc.strerror}") from None
        err.print(
            f"{n} {args.what} rows of run {safe(run.id)} -> {safe(args.out)}", highlight=False
        )
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from analysis.tables import divergence_table, table
    from personafm.analyzing import run_analysis

    engine = open_store(args.db)
    runs = [resolve_run(engine, r).id for r in args.runs]
    board, json_path, html_path = run_analysis(engine, runs, args.out, args.judge, args.seed)
    if args.json:
        sys.stdout.write(json.dumps(board.to_json(), indent=2, ensure_ascii=False) + "\n")
        return 0
    out.print(table(board))
    if board.divergence:
        out.print(divergence_table(board))
    unfinished = [f"{r['run_id']} ({r['status']})" for r in board.runs if not r["finished"]]
    if unfinished:
        err.print(
            f"note: run(s) {', '.join(unfinished)} did not finish: numbers of the rows so far"
        )
    out.print(f"{safe(json_path)}\n{safe(html_path)}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
