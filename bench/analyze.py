"""Scoreboard benchmark: ~100,000 talk breaks across 100 scripted stations.

Runs scenarios/stress.toml (100 scripted stations) long enough for ~100k talk
breaks (216 simulated hours), or reuses a stored run (--db URL --run ID), then
times each stage of the scoreboard: reading the run, masking, embedding and
judging (one stage: ``Board.of``), every dimension's metrics, divergence over
all 4,950 station pairs, the map, the JSON and the HTML report.
Target (issue #11): the scoreboard in <= 60 s in all on 2 cores.

    .venv/bin/python bench/analyze.py [--hours 216] [--db URL --run ID] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.reader import read_run
from analysis.report import write_report
from analysis.scoreboard import score
from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from sim.store import open_store

TARGET_S = 60.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hours", type=float, default=216.0)
    ap.add_argument("--db", help="reuse a stored run from this database (with --run)")
    ap.add_argument("--run", help="run id to analyse (with --db)")
    ap.add_argument("--keep", type=Path, help="write scoreboard.json and report.html here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db and args.run:
            engine, run_id = open_store(args.db), args.run
        else:
            scenario, path, text = load_scenario("stress", {"run.hours": args.hours})
            engine = open_store(f"sqlite:///{tmp}/bench.db")
            t0 = time.perf_counter()
            run_id = run_scenario(
                scenario, engine=engine, scenario_path=str(path), scenario_text=text,
                log_dir=Path(tmp) / "logs",
            ).run_id  # fmt: skip
            print(f"simulation (not part of the target): {time.perf_counter() - t0:.1f} s")
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        stages: dict[str, float] = {}
        t_all = time.perf_counter()
        t0 = time.perf_counter()
        data = read_run(engine, run_id)
        talk = len(data.talk)  # reads the as-run log
        stages["read the run"] = time.perf_counter() - t0
        board = score([data])
        stages.update(board.timings_s)
        t0 = time.perf_counter()
        (out / "scoreboard.json").write_text(json.dumps(board.to_json()), "utf-8")
        stages["scoreboard.json"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_report(board, out / "report.html")
        stages["report.html"] = time.perf_counter() - t0
        total = time.perf_counter() - t_all
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(board.stations)} stations, {talk:,} talk breaks, judge {board.judge}")
    for name, seconds in stages.items():
        print(f"  {name:<28} {seconds:7.2f} s")
    print(f"scoreboard in all: {total:.1f} s (target <= {TARGET_S:.0f} s: "
          f"{'met' if total <= TARGET_S else 'MISSED'}), ratio {total / TARGET_S:.2f}; "
          f"peak RSS {peak_mb:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
