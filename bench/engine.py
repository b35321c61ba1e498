"""Engine benchmark: scenarios/stress.toml (100 scripted stations x 7 days).

Prints wall time, events/s, peak RSS, rows written, and the ratio of the whole
run to a bare SimPy loop that processes the same number of events.
Targets (issue #2): the stress run in <= 60 s on 2 cores, <= 1 GiB peak RSS.

    .venv/bin/python bench/engine.py [--scenario stress] [--hours H]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from personafm.summary import station_summary
from sim.store import open_store


def bare_simpy(events: int, processes: int = 100) -> float:
    """Wall time for SimPy alone to process ``events`` timeout events."""
    env = simpy.Environment()
    per = events // processes

    def proc(env: simpy.Environment, n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(180)

    for _ in range(processes):
        env.process(proc(env, per))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="stress")
    ap.add_argument("--hours", type=float, default=None)
    args = ap.parse_args()
    overrides = {"run.hours": args.hours} if args.hours else {}
    scenario, path, text = load_scenario(args.scenario, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        result = run_scenario(
            scenario,
            engine=engine,
            scenario_path=str(path),
            scenario_text=text,
            log_dir=Path(tmp) / "logs",
        )
        wall = time.perf_counter() - start
        rows = station_summary(engine, result.run_id)
        db_mb = Path(f"{tmp}/bench.db").stat().st_size / 2**20
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bare = bare_simpy(result.events)
    segments = sum(r["segments"] for r in rows)
    print(f"scenario          {scenario.run.name}: {len(rows)} stations x {scenario.run.hours:g} h")
    print(f"wall time         {wall:.1f} s   (target <= 60 s)")
    print(f"sim events        {result.events:,}   ({result.events / wall:,.0f} events/s)")
    print(f"segments aired    {segments:,}   model calls {result.model_calls:,}")
    print(f"peak RSS          {peak_mib:,.0f} MiB   (target <= 1024 MiB)")
    print(f"database          {db_mb:,.1f} MiB")
    print(f"bare SimPy loop   {bare:.2f} s for the same {result.events:,} events")
    print(f"ratio run / bare  {wall / bare:.1f}x")


if __name__ == "__main__":
    main()
