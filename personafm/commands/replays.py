"""``rerun``, ``fork`` and ``resume``: a stored run again, changed, or continued."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from personafm.commands.common import (
    HOURS,
    add_run_flags,
    err,
    out,
    progress,
    report,
    safe,
    time_arg,
)  # fmt: skip
from personafm.export import resolve_run
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
from sim.store import open_store


def add(sub: Any) -> None:
    rr = sub.add_parser("rerun", help="re-run a logged run from its recorded responses")
    rr.add_argument("run", help="run id, unique prefix, or 'latest'")
    add_run_flags(rr)
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
    add_run_flags(fk)
    fk.set_defaults(func=cmd_fork)

    rs = sub.add_parser("resume", help="continue a stopped or interrupted run where it stopped")
    rs.add_argument("run", help="run id, unique prefix, or 'latest'")
    add_run_flags(rs)
    rs.set_defaults(func=cmd_resume)


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
    with progress(args.quiet, end_s / 3600.0) as on_progress:
        parent, result, comparison = rerun(
            engine, parent.id, log_dir=args.log_dir, on_progress=on_progress
        )
    report(engine, result, args)
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
    with progress(args.quiet, parent.sim_hours) as on_progress:
        row, result = resume(engine, parent.id, log_dir=args.log_dir, on_progress=on_progress)
    out.print(
        f"resumed {safe(row.id)} from {max(row.checkpoint_s or 0.0, 0.0) / 3600:.3g}h "
        f"({row.checkpoint_events:,} stored events kept): {safe(result.status)}",
        highlight=False,
    )
    report(engine, result, args)
    return 0 if result.status == "finished" else 1


def cmd_fork(args: argparse.Namespace) -> int:
    at_s = time_arg("--at", args.at)
    engine = open_store(args.db)
    parent = resolve_run(engine, args.run)
    scenario = forked_scenario(scenario_of(parent), args.set, args.patch, args.hours)
    check_fork_time(scenario, at_s)
    check_recorded(engine, parent, at_s)
    with progress(args.quiet, scenario.run.hours) as on_progress:
        result = fork(engine, parent, scenario, at_s, log_dir=args.log_dir, on_progress=on_progress)
    report(engine, result, args)
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
