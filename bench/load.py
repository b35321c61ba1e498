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


SHOWN = 24  # cards a big terminal shows at once; the rest are never read


def _rows_held(st: Any) -> int:
    lists = (st.segs, st.words, st.calls, st.ledger, st.ratings, st.messages, st.faults)
    return sum(len(rows) for rows in lists)


def replay(engine: Any, run_id: str, hours: float) -> dict[str, float]:
    """Jump a paged replay to 12 instants across the run; at each, draw the cards a
    screen shows and step through 10 segments, as a user scrubbing would."""
    import gc

    from personafm.watching import stored_source

    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    source = stored_source(engine, run_id)
    tl = source.timeline
    held = 0
    for i in range(12):
        at = hours * 3600 * (i + 0.5) / 12
        source.seek(at)
        for _ in range(10):
            source.step(1)
        for call_sign in tl.order()[:SHOWN]:
            tl.card(call_sign, source.now())
        held = max(held, sum(_rows_held(st) for st in tl.stations.values()))
    return {
        "replay_s_per_jump": round((time.perf_counter() - t0) / 12, 2),
        "replay_rss_growth_mb": round(rss_mb() - before),
        "replay_rows_held": held,
    }


def one(stations: int, days: float, keep: Path | None) -> None:
    """Run the case (or reuse the run kept in ``keep``), then export and replay it; print
    the figures so far as a JSON line after each phase (a killed case still reports)."""
    from personafm.export import write_export
    from personafm.runner import run_scenario
    from personafm.scenario import load_scenario
    from sim.store import RunRow, open_store

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
    figures: dict[str, Any] = {"stations": stations, "days": days}

    def report(**more: Any) -> None:
        figures.update(more)
        print(json.dumps(figures), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / f"load-{stations}x{days:g}.db"
        reuse = db.exists()
        engine = open_store(f"sqlite:///{db}")
        if reuse:
            with engine.connect() as conn:
                run = conn.execute(RunRow.__table__.select()).mappings().first()  # type: ignore[attr-defined]
            assert run is not None and run["status"] == "finished", f"{db}: no finished run"
            run_id, wall, events = run["id"], run["wall_s"], run["events"]
        else:
            t0 = time.perf_counter()
            result = run_scenario(scenario, engine=engine, log_dir=Path(tmp) / "logs")
            run_id, wall, events = result.run_id, time.perf_counter() - t0, result.events
        size = db.stat().st_size + sum(p.stat().st_size for p in folder.glob(f"{db.name}-*"))
        report(
            wall_s=round(wall, 1), events_per_s=round(events / wall), reused=reuse,
            peak_rss_mb=None if reuse else round(peak_mb()),
            store_kb_per_station_day=round(size / 1024 / (stations * days), 1),
        )  # fmt: skip
        for what in ("asrun", "messages"):
            t0 = time.perf_counter()
            with open(os.devnull, "w", encoding="utf-8") as sink:  # the export's memory only
                rows = write_export(engine, run_id, what, "jsonl", sink)
            report(**{f"{what}_rows": rows, f"export_{what}_s": round(time.perf_counter() - t0, 1),
                      "peak_rss_after_exports_mb": round(peak_mb())})  # fmt: skip
        report(**replay(engine, run_id, days * 24), peak_rss_after_replay_mb=round(peak_mb()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--case", choices=sorted(CASES))
    ap.add_argument("--scale", type=float, default=1.0, help="multiply stations by this")
    ap.add_argument("--keep", type=Path, help="keep each case's database here, and reuse it")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        stations, days = CASES[args.case]
        one(max(4, round(stations * args.scale)), days, args.keep)
        return
    for case in [args.case] if args.case else list(CASES):
        command = [sys.executable, __file__, "--child", "--case", case, "--scale", str(args.scale)]
        if args.keep:
            command += ["--keep", str(args.keep)]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        figures = json.loads(lines[-1]) if lines else {}
        status = "" if out.returncode == 0 else f" [stopped early: exit {out.returncode}]"
        print(
            f"{case} (scale {args.scale:g}){status}: "
            + ", ".join(f"{k} {v}" for k, v in figures.items()),
            flush=True,
        )
        if out.returncode:
            sys.stderr.write(out.stderr[-2000:])


if __name__ == "__main__":
    main()
