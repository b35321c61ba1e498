"""Experiment benchmark: how the grid scales with workers, and what Ray costs per cell.

1. 64 scripted cells (scenarios/traits.toml for 12 simulated hours, 2 arms x 32 seeds)
   on 1 worker (this process) vs a pool of 2: wall time and speedup (target >= 1.7x
   on 2 cores).
2. Per-cell overhead of Ray vs the process pool: 8 tiny cells (15 simulated minutes)
   on each, 2 workers; Ray's start-up is shown apart.
3. 4 local-model cells (the default scenario, one station, 6 simulated minutes) on
   1 worker with the thread rule (2 threads), 2 workers with the rule (1 thread each),
   and 2 workers x 2 threads (the rule broken: 4 threads on 2 cores).

Several workers need a server database: a throwaway PostgreSQL is started here.

    .venv/bin/python bench/experiment.py [--only scale|ray|local]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from personafm.experiments.runner import run_experiment
from personafm.experiments.spec import parse_experiment
from personafm.pgserver import new_database, throwaway_postgres
from sim.store import open_store


def grid(name: str, scenario: str, hours: float, seeds: int, extra: str = "") -> str:
    return f"""
name = "{name}"
scenario = "{scenario}"
replicates = {seeds}
metrics = ["reflexes.words_per_break"]
patch = {{ run = {{ hours = {hours} }} {extra} }}
[[arms]]
name = "a"
[[arms]]
name = "b"
[arms.set]
"run.start" = 2026-01-06T06:00:00
"""


def timed(text: str, url: str, tmp: Path, **kwargs: object) -> tuple[float, int]:
    exp = parse_experiment(text, "bench")
    engine = open_store(url)
    t0 = time.perf_counter()
    state = run_experiment(exp, engine, url, log_dir=tmp / "logs", **kwargs)  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    engine.dispose()
    assert state.done == state.total, state.line()
    return wall, state.total


def scale(pg: str, tmp: Path) -> None:
    text = grid("scale", "traits", 12, 32)
    one, n = timed(text, new_database(pg, "scale1"), tmp, workers=1)
    two, _ = timed(text, new_database(pg, "scale2"), tmp, workers=2)
    print(f"{n} scripted cells: 1 worker {one:.1f} s ({one / n:.2f} s/cell), "
          f"2 workers {two:.1f} s; speedup {one / two:.2f}x (target >= 1.7x)")  # fmt: skip


def ray_overhead(pg: str, tmp: Path) -> None:
    import ray

    text = grid("tiny", "traits", 0.25, 4)
    pool, n = timed(text, new_database(pg, "tinypool"), tmp, workers=2)
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    start = time.perf_counter() - t0
    try:
        on_ray, _ = timed(text, new_database(pg, "tinyray"), tmp, workers=2, ray_address="local")
    finally:
        ray.shutdown()
    print(f"{n} tiny cells on 2 workers: pool {pool:.1f} s ({pool / n:.2f} s/cell, worker "
          f"start-up included), Ray {on_ray:.1f} s ({on_ray / n:.2f} s/cell); Ray start-up "
          f"{start:.1f} s apart; Ray - pool per cell: {(on_ray - pool) / n:+.2f} s")  # fmt: skip


def local(pg: str, tmp: Path) -> None:
    one_station = (
        ', stations = [{ call_sign = "KALF", name = "Alpha FM", city = "Portland", seed = 1 }]'
    )
    text = grid("local", "default", 0.1, 2, one_station)
    runs = [
        ("1 worker x 2 threads (rule)", {"workers": 1}),
        ("2 workers x 1 thread (rule)", {"workers": 2}),
        ("2 workers x 2 threads (4 on 2 cores)", {"workers": 2, "threads": 2}),
    ]
    for i, (label, kwargs) in enumerate(runs):
        wall, n = timed(text, new_database(pg, f"local{i}"), tmp, **kwargs)
        print(f"{n} local-model cells, {label}: {wall:.1f} s ({wall / n:.1f} s/cell)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", choices=("scale", "ray", "local"))
    args = ap.parse_args()
    with throwaway_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        for name, part in (("scale", scale), ("ray", ray_overhead), ("local", local)):
            if args.only in (None, name):
                part(pg, Path(tmp))


if __name__ == "__main__":
    main()
