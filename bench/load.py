"""Load benchmark: many scripted stations for a long time, with memory and store size.

Cases (each in a process of its own, so peak memory is the case's own):
  1000x7   1,000 scripted stations for 7 simulated days
  10000x1  10,000 scripted stations for 1 simulated day
For each: wall time, events/s, peak RSS, store size per station-day; the time and
peak RSS of exporting the as-run log and the messages (streamed); and a replay in the
TUI's timeline: seconds per jump to 12 instants across the run, and how much memory
the replay holds (RSS growth and rows held; it pages, so neither grows with time).
Scale the cases down with --scale (e.g. 0.1) for a quick look; the issue's figures are
at --scale 1.

    .venv/bin/python bench/load.py [--case 1000x7|10000x1] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASES = {"1000x7": (1000, 7.0), "10000x1": (10000, 1.0)}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def replay(engine: Any, run_id: str, hours: float) -> dict[str, float]:
    """Jump a paged replay to 12 instants across the run (and play on from each)."""
    import gc

    from personafm.watching import stored_source

    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    source = stored_source(engine, run_id)
    held = 0
    for i in range(12):
        at = hours * 3600 * (i + 0.5) / 12
        source.seek(at)
        source.seek(at + 600)
        tl = source.timeline
        held = max(
            held, sum(len(st.segs) + len(st.calls) + len(st.ledger) for st in tl.stations.values())
        )
        for call_sign in tl.order():
            tl.card(call_sign, at + 600)
    return {
        "replay_s_per_jump": round((time.perf_counter() - t0) / 12, 2),
        "replay_rss_growth_mb": round(rss_mb() - before),
        "replay_rows_held": held,
    }


def one(stations: int, days: float) -> dict[str, float]:
    from personafm.export import write_export
    from personafm.runner import run_scenario
    from personafm.scenario import load_scenario
    from sim.store import open_store

    scenario, _, _ = load_scenario("stress", {"run.hours": days * 24})
    groups = len(scenario.stations)
    per = [stations // groups + (1 if i < stations % groups else 0) for i in range(groups)]
    scenario = scenario.model_copy(
        update={
            "stations": [
                s.model_copy(update={"count": n})
                for s, n in zip(scenario.stations, per, strict=True)
            ]
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        engine = open_store(f"sqlite:///{db}")
        t0 = time.perf_counter()
        result = run_scenario(scenario, engine=engine, log_dir=Path(tmp) / "logs")
        wall = time.perf_counter() - t0
        run_peak = peak_mb()
        t0 = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as sink:  # the export's memory, not ours
            rows = write_export(engine, result.run_id, "asrun", "jsonl", sink)
        export_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as sink:
            messages = write_export(engine, result.run_id, "messages", "jsonl", sink)
        messages_s = time.perf_counter() - t0
        export_peak = peak_mb()
        played = replay(engine, result.run_id, days * 24)
        size = db.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("load.db-*"))
        return {
            "stations": stations,
            "days": days,
            "wall_s": round(wall, 1),
            "events_per_s": round(result.events / wall),
            "peak_rss_mb": round(run_peak),
            "store_kb_per_station_day": round(size / 1024 / (stations * days), 1),
            "asrun_rows": rows,
            "export_asrun_s": round(export_s, 1),
            "message_rows": messages,
            "export_messages_s": round(messages_s, 1),
            "peak_rss_after_export_mb": round(export_peak),
            **played,
            "peak_rss_after_replay_mb": round(peak_mb()),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--case", choices=sorted(CASES))
    ap.add_argument("--scale", type=float, default=1.0, help="multiply stations by this")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        stations, days = CASES[args.case]
        print(json.dumps(one(max(4, round(stations * args.scale)), days)))
        return
    for case in [args.case] if args.case else list(CASES):
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--case", case, "--scale", str(args.scale)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{case} (scale {args.scale:g}): " + ", ".join(f"{k} {v}" for k, v in figures.items())
        )


if __name__ == "__main__":
    main()
