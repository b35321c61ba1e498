"""The dispatcher: one batch per instant, fixed resolution order, bounded concurrency."""

from __future__ import annotations

import threading
import time

import simpy

from sim.bus import EventBus
from sim.dispatch import Dispatcher, ModelCalled
from sim.models.base import ModelRequest, ModelResponse
from sim.runloop import run_until


class SlowEcho:
    """Answers with the station name after a delay; counts overlapping calls."""

    name = "slow"

    def __init__(self, max_concurrency: int, delay_s: float) -> None:
        self.max_concurrency = max_concurrency
        self.delay_s = delay_s
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()
        self.finished: list[str] = []

    def complete(self, request: ModelRequest) -> ModelResponse:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        # later stations answer sooner, so completion order differs from request order
        time.sleep(self.delay_s / (1 + int(request.station[1:])))
        with self._lock:
            self.in_flight -= 1
            self.finished.append(request.station)
        return ModelResponse(text=request.station)


def _request(station: str) -> ModelRequest:
    return ModelRequest(station, "slow", "m", "sys", [{"role": "user", "content": "hi"}], {})


def test_same_instant_requests_are_sent_together_and_resolved_in_order() -> None:
    env = simpy.Environment()
    bus = EventBus()
    calls: list[ModelCalled] = []
    bus.subscribe(calls.append, ModelCalled)  # type: ignore[arg-type]
    provider = SlowEcho(max_concurrency=4, delay_s=0.2)
    dispatcher = Dispatcher(env, bus, {"slow": provider})
    resolved: list[tuple[float, str]] = []

    def station(name: str, wait: float):  # type: ignore[no-untyped-def]
        yield env.timeout(wait)
        response = yield dispatcher.ask(_request(name))
        resolved.append((env.now, response.text))

    for i in range(8):
        env.process(station(f"S{i}", 10 if i < 6 else 20))
    run_until(env, 100, dispatcher)

    assert provider.peak == 4  # bounded by the provider, and actually concurrent
    assert provider.finished[:6] != [f"S{i}" for i in range(6)]  # finished out of order...
    assert resolved == [(10, f"S{i}") for i in range(6)] + [(20, "S6"), (20, "S7")]
    assert [c.seq for c in calls] == list(range(1, 9))  # ...but resolved in request order
    assert [c.station for c in calls] == [f"S{i}" for i in range(8)]
    dispatcher.close()


def test_provider_exceptions_and_unknown_providers_become_failed_responses() -> None:
    class Broken:
        name = "broken"
        max_concurrency = 0

        def complete(self, request: ModelRequest) -> ModelResponse:
            raise RuntimeError("boom")

    env = simpy.Environment()
    dispatcher = Dispatcher(env, EventBus(), {"broken": Broken()})
    got: list[ModelResponse] = []

    def proc():  # type: ignore[no-untyped-def]
        got.append((yield dispatcher.ask(ModelRequest("S1", "broken", "m", "s", [], {}))))
        got.append((yield dispatcher.ask(_request("S2"))))

    env.process(proc())
    run_until(env, 10, dispatcher)
    assert [(r.ok, r.error) for r in got] == [
        (False, "RuntimeError: boom"),
        (False, "unknown provider 'slow'"),
    ]
