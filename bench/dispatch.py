"""Dispatch benchmark (issue #4).

1. Concurrency: N stations (1, 8, 32) raise their turn requests at the same simulated
   instant; the `openai` provider sends them to a loopback OpenAI-compatible server that
   answers after a fixed delay. Prints wall time per instant and the speedup over
   sequential calls (target: >= 0.8 x N at N = 32).
2. Re-run: a local-model run of the default scenario, then `rerun` of it from the
   recorded responses (target: >= 50x faster), checking the as-run is identical.
3. Local model turn time with and without prefix (KV cache) reuse, on the recorded
   requests of that run.

    .venv/bin/python bench/dispatch.py [--delay 0.25] [--hours 0.5] [--turns 12]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import simpy
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from personafm.replaying import rerun
from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from sim.bus import EventBus
from sim.dispatch import Dispatcher
from sim.events import BlobRow, ModelCallRow
from sim.models.base import ModelRequest
from sim.models.local import LocalLlamaProvider
from sim.models.openai_provider import OpenAIProvider
from sim.store import open_store
from stations.turn import turn_schema
from testkit.servers import ScriptedOpenAIServer

SONGS = ["s0001", "s0002", "s0003", "s0004", "s0005", "s0006"]


def _request(station: str) -> ModelRequest:
    return ModelRequest(
        station=station,
        provider="openai",
        model="bench-model",
        system="You are a radio DJ.",
        messages=[{"role": "user", "content": f"Station {station}. Your turn."}],
        schema=turn_schema(SONGS, ["s0100"]),
        params={"temperature": 0.8, "max_tokens": 200, "seed": 1},
        route="bench",
    )


def per_instant(server_url: str, n: int, concurrency: int, instants: int) -> float:
    """Mean wall seconds to resolve one instant at which ``n`` stations ask at once."""
    env = simpy.Environment()
    provider = OpenAIProvider(  # one attempt per call: no retry wrapper
        api_key="bench", base_url=server_url, max_concurrency=concurrency,
    )  # fmt: skip
    dispatcher = Dispatcher(env, EventBus(), {"bench": provider})
    times = []
    for _ in range(instants):
        events = [dispatcher.ask(_request(f"K{i:03d}")) for i in range(n)]
        start = time.perf_counter()
        dispatcher.flush()
        times.append(time.perf_counter() - start)
        assert all(e.value.ok for e in events), [e.value.error for e in events if not e.value.ok]
    dispatcher.close()
    return statistics.mean(times)


def concurrency(delay: float) -> None:
    print(f"1. concurrency: loopback server answering after {delay:.2f} s")
    with ScriptedOpenAIServer(delay_s=delay) as server:
        per_instant(server.base_url, 2, 2, 1)  # warm up the connection pool
        for n in (1, 8, 32):
            together = per_instant(server.base_url, n, max(1, n), instants=5)
            alone = per_instant(server.base_url, n, 1, instants=1 if n > 8 else 2)
            speedup = alone / together
            print(
                f"   N={n:>2}: {together:6.3f} s per instant concurrently, {alone:6.3f} s "
                f"sequentially -> speedup {speedup:5.1f}x ({speedup / n:.2f} x N)"
            )


def rerun_and_prefix(hours: float, turns: int) -> None:
    scenario, _, _ = load_scenario("default", {"run.hours": hours})
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        original = run_scenario(scenario, engine=engine, log_dir=Path(tmp) / "logs")
        first = time.perf_counter() - start
        start = time.perf_counter()
        _, again, comparison = rerun(engine, original.run_id, log_dir=Path(tmp) / "logs")
        second = time.perf_counter() - start
        print(f"2. re-run: default scenario, {hours:g} h, {original.model_calls} local-model calls")
        print(
            f"   original {first:.1f} s, re-run {second:.2f} s -> {first / second:.0f}x faster; "
            f"live calls in the re-run: {again.live_calls}; as-run "
            + ("identical" if comparison.first_difference is None else "DIFFERS")
            + f" ({comparison.rows} rows)"
        )
        requests = _recorded_requests(engine, original.run_id)[:turns]
    print(f"3. local model turn time on {len(requests)} recorded turns (4 stations interleaved)")
    for cached in (False, True):
        provider = LocalLlamaProvider(prefix_cache=cached)
        provider.complete(requests[0])  # load the model; warm up
        latencies = [provider.complete(r).latency_s for r in requests[1:]]
        print(
            f"   prefix reuse {'on ' if cached else 'off'}: mean {statistics.mean(latencies):.2f} s"
            f", median {statistics.median(latencies):.2f} s per turn"
        )


def _recorded_requests(engine: object, run_id: str) -> list[ModelRequest]:
    t, b = ModelCallRow.__table__, BlobRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:  # type: ignore[attr-defined]
        blobs = {r.sha256: r.text for r in conn.execute(select(b))}
        rows = conn.execute(select(t).where(t.c.run_id == run_id).order_by(t.c.seq)).all()
    return [
        ModelRequest(
            station=r.station,
            provider=r.provider,
            model=r.model,
            system=blobs[r.system_prompt_sha256],
            messages=json.loads(r.messages_json),
            schema=json.loads(blobs[r.schema_sha256]),
            params=json.loads(r.params_json),
        )
        for r in rows
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.25, help="server answer delay (s)")
    ap.add_argument("--hours", type=float, default=0.5, help="simulated hours of the local run")
    ap.add_argument("--turns", type=int, default=12, help="recorded turns timed per setting")
    ap.add_argument("--skip-local", action="store_true", help="only the concurrency part")
    args = ap.parse_args()
    concurrency(args.delay)
    if not args.skip_local:
        rerun_and_prefix(args.hours, args.turns)


if __name__ == "__main__":
    main()
