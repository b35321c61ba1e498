"""``export`` and ``export-audio``: a run's rows as JSONL or CSV, a station's talk as WAV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from analysis.reader import read_run
from economy.airplay import SPOKEN, SegmentStatus
from personafm.commands.common import (
    CliError,
    add_db,
    err,
    safe,
    time_arg,
)  # fmt: skip
from personafm.export import FORMATS, iter_rows, resolve_run, whats, write_export
from sim.runstate import run_state
from sim.store import open_store


def add(sub: Any) -> None:
    au = sub.add_parser("export-audio", help="render a station's talk and ad reads to a WAV")
    au.add_argument("run", help="run id, unique prefix, or 'latest'")
    au.add_argument("--station", required=True, help="call sign")
    au.add_argument("--from", dest="start", default="0h", help="from this time (e.g. 2h)")
    au.add_argument("--to", dest="end", default=None, help="up to this time (default: the end)")
    au.add_argument("--out", type=Path, required=True, help="WAV file to write")
    add_db(au)
    au.set_defaults(func=cmd_export_audio)

    e = sub.add_parser("export", help="export a run's rows (as-run, calls, ledger, ratings...)")
    e.add_argument("run", help="run id, unique prefix, or 'latest'")
    e.add_argument("--what", choices=whats(), default="asrun")
    e.add_argument("--format", choices=FORMATS, default="jsonl")
    e.add_argument("--out", type=Path, help="file to write (default: standard output)")
    e.add_argument(
        "--no-run-id", action="store_true", help="leave the run_id column out (to diff runs)"
    )
    add_db(e)
    e.set_defaults(func=cmd_export)


def cmd_export_audio(args: argparse.Namespace) -> int:
    from audio.export import AudioExportError, render_wav

    engine = open_store(args.db)
    run = resolve_run(engine, args.run)
    station = read_run(engine, run.id).station_named(args.station)
    start = time_arg("--from", args.start)
    end = time_arg("--to", args.end) if args.end else float("inf")
    rows = [
        r
        for r in iter_rows(engine, run.id, "asrun")
        if r["station"] == station
        and r["kind"] in SPOKEN
        and r["status"] == SegmentStatus.AIRED
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
