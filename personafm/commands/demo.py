"""``personafm demo``: the 60-second tour. The default scenario runs a whole simulated day
offline on scripted personas (seconds, no model), then its scoreboard is printed, its
report written (and opened where a browser can show it), and the next steps are named."""

from __future__ import annotations

import argparse
import os
import sys
import time
import webbrowser
from typing import Any

from personafm.commands.common import add_db, err
from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from sim.paths import default_log_dir
from sim.store import default_db_url, open_store

DEMO_HOURS = 24.0  # a whole day: every probe, the overnight one too, and a midnight


def add(sub: Any) -> None:
    d = sub.add_parser("demo", help="a 60-second tour: run offline, score it, open the report")
    d.add_argument("--hours", type=float, default=DEMO_HOURS, help="simulated hours (24)")
    d.add_argument("--no-open", action="store_true", help="do not open the report")
    add_db(d)
    d.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from analysis.tables import divergence_table, table
    from personafm.analyzing import run_analysis
    from personafm.commands.common import out

    overrides = {"model.provider": "scripted", "run.hours": args.hours, "run.name": "demo",
                 "run.label": "scripted personas"}  # fmt: skip
    scenario, path, text = load_scenario("default", overrides)
    engine = open_store(args.db)
    n = len(scenario.expanded())
    err.print(f"[bold]demo[/]: the default scenario's {n} stations on scripted personas "
              f"(no model), {args.hours:g} simulated hours…")  # fmt: skip
    t0 = time.perf_counter()
    result = run_scenario(scenario, engine=engine, scenario_path=str(path), scenario_text=text)
    ran = time.perf_counter() - t0
    board, json_path, html_path = run_analysis(engine, [result.run_id], default_log_dir() / "demo")
    out.print(table(board))
    if board.divergence:
        out.print(divergence_table(board))
    took = time.perf_counter() - t0
    err.print(f"ran {result.events:,} events in {ran:.1f} s; scored in {took - ran:.1f} s")
    opened = not args.no_open and _open(html_path.resolve().as_uri())
    db = "" if args.db == default_db_url() else f" --db {args.db}"
    out.print(
        f"\nrun {result.run_id}\nreport: {html_path}"
        + (" (opened in your browser)" if opened else " (open it in a browser)")
        + f"\nscoreboard as JSON: {json_path}\n\nwhere to look next:\n"
        f"  personafm replay latest{db}\n      scrub through the day in the terminal (? for keys)\n"
        f"  personafm show latest{db}\n      the scenario, prompts and harness as run\n"
        f"  personafm export latest --what asrun --format csv{db}\n      every segment aired\n"
        f"  personafm experiment ab_prompt{db} && personafm compare ab_prompt{db}\n"
        "      an A/B grid: 2 prompts x 6 seeds (scripted, about 20 s), then its statistics\n"
        "  personafm run\n      this scenario on the embedded model (minutes)",
        highlight=False,
    )
    return 0


def _open(uri: str) -> bool:
    """Open ``uri`` in a browser where one can show it (a desktop session), else don't."""
    if sys.platform != "darwin" and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        return webbrowser.open(uri)
    except webbrowser.Error:
        return False
