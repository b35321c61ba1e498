"""``personafm analyze``: the persona scoreboard of one or more runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from personafm.commands.common import (
    SEED,
    add_db,
    err,
    out,
    safe,
)  # fmt: skip
from personafm.export import resolve_run
from sim.store import open_store


def add(sub: Any) -> None:
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
    add_db(an)
    an.set_defaults(func=cmd_analyze)


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
