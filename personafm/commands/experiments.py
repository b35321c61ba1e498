"""``personafm experiment`` and ``personafm compare``: run an A/B grid, then compare its arms.

``experiment`` shows the projected cost of a grid on hosted models and asks before
spending it (``--yes`` confirms ahead); progress shows cells done, running and
failed, the cost so far and an ETA. ``compare`` reads the finished cells' runs by
arm and prints, per metric, each arm's estimate with a cluster-bootstrap interval
over runs and each arm's contrast with the control (permutation p, Holm-corrected,
Hedges' g), then the divergence of the arms' talk.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from personafm.commands.common import MAX_COST, add_db, err, out
from personafm.experiments.runner import ExperimentError, GridState, run_experiment
from personafm.experiments.spec import Experiment, load_experiment
from personafm.experiments.store import find_experiment, runs_by_arm
from personafm.scenario import ScenarioError
from personafm.world import identities_for
from sim.store import open_store


def add(sub: Any) -> None:
    ex = sub.add_parser("experiment", help="run an A/B experiment's grid (resumable)")
    ex.add_argument("file", help="experiment file (TOML) or bundled name")
    ex.add_argument(
        "--workers", type=_workers, default=1,
        help="cells at once in a local process pool (default 1: this process)",
    )  # fmt: skip
    ex.add_argument(
        "--ray", metavar="ADDRESS", nargs="?", const="auto", default=None,
        help="run cells on a Ray cluster: auto, local (start one here), or ray://HOST:PORT",
    )  # fmt: skip
    ex.add_argument(
        "--max-cost", type=MAX_COST, metavar="USD",
        help="cap on the whole experiment's model cost (past attempts count)",
    )  # fmt: skip
    ex.add_argument("--yes", action="store_true", help="confirm a hosted-model grid's cost")
    ex.add_argument("--log-dir", type=Path)
    ex.add_argument("--quiet", action="store_true", help="no progress display")
    add_db(ex)
    ex.set_defaults(func=cmd_experiment)

    cp = sub.add_parser("compare", help="compare an experiment's arms")
    cp.add_argument("experiment", help="experiment file, name, id, or 'latest'")
    cp.add_argument("--json", type=Path, metavar="FILE", help="write the comparison as JSON")
    cp.add_argument("--html", type=Path, metavar="FILE", help="write an offline HTML report")
    cp.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    add_db(cp)
    cp.set_defaults(func=cmd_compare)


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError("must be between 1 and 256")
    return n


def projected_cost(exp: Experiment) -> tuple[float, bool]:
    """(projected cost of the grid in USD, whether any cell calls a hosted model)."""
    from personafm.dryrun import dry_run

    total, hosted = 0.0, False
    seeds = exp.spec.grid_seeds
    for arm in exp.spec.arms:
        scenario = exp.cell_scenario(arm.name, seeds[0])
        specs = [i.spec for i in identities_for(scenario)]
        sponsor = scenario.sponsor_model()
        if not any(s.is_hosted for s in [*specs, *([sponsor] if sponsor else [])]):
            continue
        hosted = True
        per_cell = sum(p.cost_usd or 0.0 for p in dry_run(scenario))
        total += per_cell * len(seeds)
    return total, hosted


def cmd_experiment(args: argparse.Namespace) -> int:
    exp, path, text = load_experiment(args.file)
    engine = open_store(args.db)
    cost, hosted = projected_cost(exp)
    cells = len(exp.cells)
    err.print(
        f"experiment {exp.id}: {len(exp.spec.arms)} arms x {len(exp.spec.grid_seeds)} seeds = "
        f"{cells} cells (control: {exp.spec.control_arm}; primary: {exp.spec.primary_metric})",
        highlight=False,
    )
    if hosted:
        limit = args.max_cost if args.max_cost is not None else exp.spec.max_cost_usd
        capped = f" (capped at ${limit:.2f})" if limit is not None else ""
        err.print(f"projected cost of the whole grid: ${cost:.2f}{capped}", highlight=False)
        if not args.yes and not _confirm():
            err.print("not confirmed: nothing run (pass --yes to confirm ahead)")
            return 2
    state = _run_with_progress(exp, engine, args, str(path), text)
    err.print(state.line(), highlight=False)
    if state.stopped:
        err.print(state.stopped)
        return 3
    if state.failed:
        err.print(f"{state.failed} cell(s) failed: see `personafm runs`; run again to retry them")
        return 1
    err.print(f"done: compare the arms with `personafm compare {exp.spec.name} --db {args.db}`")
    return 0


def _confirm() -> bool:
    if not sys.stdin.isatty():
        return False
    return input("spend it? [y/N] ").strip().lower() in ("y", "yes")


def _run_with_progress(
    exp: Experiment, engine: Any, args: argparse.Namespace, path: str, text: str
) -> GridState:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    kwargs: dict[str, Any] = {
        "workers": args.workers, "ray_address": args.ray, "max_cost_usd": args.max_cost,
        "log_dir": args.log_dir, "file_path": path, "file_text": text,
    }  # fmt: skip
    try:
        if args.quiet:
            return run_experiment(exp, engine, args.db, **kwargs)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(), console=err, transient=False,
        ) as bar:  # fmt: skip
            task = bar.add_task(exp.spec.name, total=len(exp.cells), line="")

            def show(state: GridState) -> None:
                bar.update(task, completed=state.done + state.failed, line=state.line())

            return run_experiment(exp, engine, args.db, on_update=show, **kwargs)
    except RuntimeError as exc:  # Ray missing, ...
        raise ExperimentError(str(exc)) from None


def resolve(engine: Any, ref: str) -> tuple[str, str, list[str], str]:
    """(experiment id, control, metrics, primary) for a file, name, id or ``latest``."""
    row = None
    if ref != "latest" and (Path(ref).exists() or ref.endswith(".toml")):
        exp, _, _ = load_experiment(ref)
        row = find_experiment(engine, exp.id)
    else:
        row = find_experiment(engine, ref)
        if row is None and ref != "latest":
            try:
                exp, _, _ = load_experiment(ref)  # a bundled experiment's name
                row = find_experiment(engine, exp.id)
            except ScenarioError:
                row = None
    if row is None:
        raise ExperimentError(f"no experiment {ref[:80]!r} in this database: run it first")
    return row.id, row.control, json.loads(row.metrics_json), row.primary_metric


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.compare import compare_runs
    from analysis.compare_report import compare_table, write_compare_report

    engine = open_store(args.db)
    exp_id, control, metrics, primary = resolve(engine, args.experiment)
    arms = runs_by_arm(engine, exp_id)
    if control not in arms or len(arms) < 2:
        raise ExperimentError(
            f"experiment {exp_id} has finished runs in {len(arms)} arm(s) "
            f"({', '.join(arms) or 'none'}): run `personafm experiment` to finish the grid"
        )
    comparison = compare_runs(engine, arms, control, metrics, primary, seed=args.seed)
    console = out
    console.print(compare_table(comparison))
    for d in comparison.divergence:
        p = "–" if d["p_value"] is None else f"{d['p_value']:.3f}"
        stat = "–" if d["statistic"] is None else f"{d['statistic']:.4f}"
        console.print(
            f"talk divergence {d['a']} vs {d['b']}: energy {stat}, p {p} (runs permuted)",
            highlight=False,
            markup=False,
        )
    if args.json:
        args.json.write_text(json.dumps(comparison.to_json(), indent=2) + "\n", "utf-8")
        err.print(f"-> {args.json}")
    if args.html:
        write_compare_report(comparison, args.html, f"experiment {exp_id}")
        err.print(f"-> {args.html}")
    return 0
