"""Market benchmark: the stress scenario (100 scripted stations x 7 days) with 100,000
listeners, against the same run with the audience held fixed.

The fixed run has the whole market (mail, sponsors, negotiations, contracts,
royalties) but a constant audience per station, so the difference is what
simulating the listener population costs. Target (issue #3): simulated <= 2x fixed,
i.e. the audience costs at most as much as everything else.

    .venv/bin/python bench/market.py [--hours H] [--listeners N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from economy.contracts import ContractRow
from economy.listeners import MessageRow
from economy.ratings_book import RatingsRow
from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from sim.store import open_store


def one_run(mode: str, hours: float, listeners: int, fixed_aqh: int) -> dict[str, Any]:
    overrides = {
        "run.hours": hours,
        "audience.mode": mode,
        "audience.listeners": listeners,
        "audience.fixed_aqh": fixed_aqh,
    }
    scenario, _, _ = load_scenario("stress", overrides)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        result = run_scenario(scenario, engine=engine, log_dir=Path(tmp) / "logs")
        wall = time.perf_counter() - start
        with engine.connect() as conn:
            counts = {
                name: conn.execute(
                    select(func.count()).select_from(t).where(t.c.run_id == result.run_id)
                ).scalar_one()
                for name, t in (
                    ("ratings rows", RatingsRow.__table__),  # type: ignore[attr-defined]
                    ("messages", MessageRow.__table__),  # type: ignore[attr-defined]
                    ("contracts", ContractRow.__table__),  # type: ignore[attr-defined]
                )
            }
            rt = RatingsRow.__table__  # type: ignore[attr-defined]
            mean_aqh = conn.execute(
                select(func.avg(rt.c.aqh)).where(rt.c.run_id == result.run_id)
            ).scalar_one()
        engine.dispose()
    return {"wall": wall, "events": result.events, "mean_aqh": mean_aqh or 0.0, **counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hours", type=float, default=168.0)
    ap.add_argument("--listeners", type=int, default=100_000)
    args = ap.parse_args()
    simulated = one_run("simulated", args.hours, args.listeners, 0)
    # hold the audience at the simulated run's mean, so mail and deals see the same scale
    fixed = one_run("fixed", args.hours, args.listeners, round(simulated["mean_aqh"]))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"stress: 100 stations x {args.hours:g} h, {args.listeners:,} listeners")
    for name, r in (("simulated", simulated), ("fixed", fixed)):
        print(
            f"{name:<10} wall {r['wall']:6.1f} s   events {r['events']:,}   "
            f"mean AQH {r['mean_aqh']:.1f}   messages {r['messages']:,}   "
            f"contracts {r['contracts']:,}   ratings rows {r['ratings rows']:,}"
        )
    print(f"audience cost     {simulated['wall'] - fixed['wall']:.1f} s")
    print(f"ratio sim / fixed {simulated['wall'] / fixed['wall']:.2f}x   (target <= 2x)")
    print(f"peak RSS          {peak_mib:,.0f} MiB (both runs, one process)")


if __name__ == "__main__":
    main()
