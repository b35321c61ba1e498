"""``personafm run``: a scenario, start to end (``--dry-run``: its projected cost)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from personafm.commands.common import (
    HOURS,
    MAX_COST,
    SEED,
    add_run_flags,
    db_shown,
    err,
    hours_label,
    out,
    progress,
    report,
    safe,
)  # fmt: skip
from personafm.dryrun import dry_run
from personafm.runner import run_scenario
from personafm.scenario import Scenario, load_scenario
from sim.models.prices import PriceTable
from sim.store import open_store


def add(sub: Any) -> None:
    r = sub.add_parser("run", help="run a scenario")
    r.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="scenario file or bundled name (default: scenarios/default.toml)",
    )
    r.add_argument("--hours", type=HOURS, help="simulated hours (overrides run.hours)")
    r.add_argument("--seed", type=SEED, help="run seed (overrides run.seed)")
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
    add_run_flags(r)
    r.set_defaults(func=cmd_run)


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
        f"{hours_label(scenario.run.hours)} simulated, seed {scenario.run.seed} -> "
        f"{safe(db_shown(args.db), 200)}",
        highlight=False,
    )
    with progress(args.quiet, scenario.run.hours) as on_progress:
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
    report(engine, result, args)
    return 0


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
