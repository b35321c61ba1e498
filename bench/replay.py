"""UI benchmark (issue #5).

1. Replay of a 30-day, 4-station run (scripted personas, the default scenario's shape):
   time to the first screen (target <= 2 s) and to seek anywhere (target <= 0.5 s).
2. Key-press-to-screen latency while four local-model stations run at max speed in the
   same process (target <= 100 ms): open a station's screen and go back, repeatedly.
3. Wall-clock figures the tests no longer assert (a shared machine makes them flaky):
   the pacer's accuracy at 100x and its cost at max speed; speech ``say`` while the
   queue is full or the audio device hangs, and ``stop`` with work queued (espeak-ng).

    .venv/bin/python bench/replay.py [--days 30] [--presses 10] [--skip-live] [--only-timing]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audio.speech import Speaker
from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from personafm.watching import live_source, stored_source
from sim.store import open_store
from tui.app import PersonaApp
from tui.pacer import Pacer
from tui.station_screen import StationScreen

SIZE = (160, 48)


async def replay(db: str, run_id: str, seeks: int) -> None:
    engine = open_store(db)
    start = time.perf_counter()
    app = PersonaApp(stored_source(engine, run_id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = time.perf_counter() - start
        end = app.source.end_s  # type: ignore[attr-defined]
        rng = random.Random(1)
        times = []
        for _ in range(seeks):
            t = rng.uniform(0, end)
            t0 = time.perf_counter()
            app.seek(t)
            await pilot.pause()
            times.append(time.perf_counter() - t0)
            assert all(c.last is not None for c in app.cards.values())
        t0 = time.perf_counter()
        await pilot.press("1")
        assert isinstance(app.screen, StationScreen) and app.screen.painted_at
        station = app.screen.painted_at - t0
    rows = sum(len(s.segs) for s in app.timeline.stations.values())
    print(f"   first screen      {first:.2f} s   (target <= 2 s; {rows:,} aired segments loaded)")
    print(
        f"   seek anywhere     median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {seeks} seeks (target <= 500 ms)"
    )
    print(f"   station screen    {station * 1000:.0f} ms to open (as-run of the day it shows)")


async def _changed(app: PersonaApp, before: str) -> float:
    while str(app.status_bar.render()) == before:
        await asyncio.sleep(0.001)
    return time.perf_counter()


async def live_latency(presses: int) -> None:
    scenario, _, _ = load_scenario("default", {"run.hours": 24})
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/live.db")
        source = live_source(scenario, engine, log_dir=Path(tmp), speed=float("inf"))
        app = PersonaApp(source)
        async with app.run_test(size=SIZE) as pilot:
            while app.now_s <= 0 or len(app.cards) < 4:  # the model is loaded, stations on air
                await pilot.pause(0.2)
            first: list[float] = []
            latencies = []
            pauses = []
            for i in range(presses):
                t0 = time.perf_counter()
                await pilot.press(str(i % 4 + 1))
                screen = app.screen
                assert isinstance(screen, StationScreen)
                while screen.painted_at is None:
                    await asyncio.sleep(0.001)
                # key sent -> station screen drawn (the first time, it is built)
                (first if i == 0 else latencies).append(screen.painted_at - t0)
                await pilot.pause(0.3)
                await pilot.press("escape")
                await pilot.pause(0.3)
                # pause or resume: time until the status bar says so (watched from a task,
                # since pilot.press itself waits for the whole app to go quiet)
                before = str(app.status_bar.render())
                t0 = time.perf_counter()
                watcher = asyncio.create_task(_changed(app, before))
                await pilot.press("space")
                pauses.append(await watcher - t0)
                await pilot.pause(0.2)
            calls = sum(c.last.calls for c in app.cards.values() if c.last)
            sim_h = app.now_s / 3600
            source.stop()
    for label, values in (
        ("open a station", latencies),
        ("first open (builds)", first),
        ("pause / resume", pauses),
    ):
        values.sort()
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(
            f"   {label:<19} median {statistics.median(values) * 1000:4.0f} ms, p95 "
            f"{p95 * 1000:4.0f} ms, max {values[-1] * 1000:4.0f} ms ({len(values)} presses; "
            "key sent to screen drawn, target <= 100 ms)"
        )
    print(f"   meanwhile         {calls} local-model calls, {sim_h:.2f} simulated hours")


def pacing() -> None:
    """The pacer at 100x over 30 simulated seconds (ideal: 0.30 s), 10 times; at max speed."""
    walls = []
    for _ in range(10):
        pacer = Pacer(speed=100.0)
        start = time.perf_counter()
        pacer.wait(0.0)
        pacer.wait(30.0)
        walls.append(time.perf_counter() - start)
    late = [(w - 0.3) * 1000 for w in walls]
    print(
        f"   pacer at 100x      30 simulated s took median {statistics.median(walls):.3f} s, "
        f"max {max(walls):.3f} s (ideal 0.300 s; late by at most {max(late):.0f} ms)"
    )
    pacer = Pacer(speed=math.inf)
    start = time.perf_counter()
    for i in range(10_000):
        pacer.wait(float(i))
    per_wait = (time.perf_counter() - start) / 10_000
    print(f"   pacer at max       {per_wait * 1e6:.1f} us per wait (never sleeps)")


TWELVE = "Good morning, this is Persona FM with the traffic and weather together."


def speech() -> None:
    """Speech calls the UI thread makes: they must return at once, whatever the engine does."""
    if shutil.which("espeak-ng") is None:
        print("   speech             skipped: espeak-ng is not installed")
        return
    speaker = Speaker(play=False, max_queue=4)
    speaker.start()
    slowest = 0.0
    for i in range(60):
        t0 = time.perf_counter()
        speaker.say(("KPFM", "WXYZ", "KROK")[i % 3], f"Segment {i}: {TWELVE}")
        slowest = max(slowest, time.perf_counter() - t0)
    print(f"   say, queue full    slowest of 60 calls {slowest * 1000:.1f} ms (was tested < 50 ms)")
    t0 = time.perf_counter()
    speaker.stop()
    print(f"   stop, work queued  {(time.perf_counter() - t0) * 1000:.0f} ms (was tested < 1 s)")
    hung = Speaker(player=("sh", "-c", "sleep 30", "sh"))
    hung.start()
    if hung.available:
        hung.say("KPFM", TWELVE)
        deadline = time.monotonic() + 5
        while hung.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the stand-in player is now "playing" for 30 s
        t0 = time.perf_counter()
        for _ in range(20):
            hung.say("WXYZ", TWELVE)
        said = time.perf_counter() - t0
        print(f"   say, device hung   20 calls in {said * 1000:.1f} ms (was tested < 100 ms)")
    t0 = time.perf_counter()
    hung.stop()
    print(f"   stop, device hung  {(time.perf_counter() - t0) * 1000:.0f} ms (was tested < 1 s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--seeks", type=int, default=20)
    ap.add_argument("--presses", type=int, default=16)
    ap.add_argument("--skip-live", action="store_true")
    ap.add_argument("--only-timing", action="store_true", help="only part 3 (seconds)")
    args = ap.parse_args()
    if args.only_timing:
        print("3. pacing and speech")
        pacing()
        speech()
        return
    scenario, _, _ = load_scenario(
        "default",
        {"run.hours": args.days * 24, "model.provider": "scripted", "run.event_log": False},
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/month.db"
        start = time.perf_counter()
        result = run_scenario(scenario, engine=open_store(db), log_dir=Path(tmp))
        print(
            f"1. replay of {args.days:g} days x 4 stations "
            f"(written in {time.perf_counter() - start:.1f} s)"
        )
        asyncio.run(replay(db, result.run_id, args.seeks))
    if not args.skip_live:
        print("2. UI responsiveness while 4 local-model stations run at max speed")
        asyncio.run(live_latency(args.presses))
    print("3. pacing and speech")
    pacing()
    speech()


if __name__ == "__main__":
    main()
