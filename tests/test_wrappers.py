"""Cross-cutting behaviour as wrappers around a toy provider defined here: retries,
concurrency limits, the cost cap, record and replay, chaos, and their composition."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Generator
from typing import Any

import simpy

from sim.bus import EventBus
from sim.dispatch import Dispatcher
from sim.events import ModelCalled
from sim.models.base import ModelRequest, ModelResponse
from sim.models.chaos import ChaosProvider, ChaosSettings
from sim.models.prices import Price, PriceTable
from sim.models.retry import RetryPolicy, classify_status
from sim.models.wrappers import (
    ConcurrencyLimit,
    CostCap,
    Replaying,
    Retry,
    Routes,
    complete_batch,
    compose,
    wrap_route,
)
from sim.replay import RecordedCall, Replay
from sim.runloop import run_until


def request(station: str = "KTOY", text: str = "hi", seed: int = 1) -> ModelRequest:
    return ModelRequest(
        station=station,
        provider="toy",
        model="toy-1",
        system="You are a DJ.",
        messages=[{"role": "user", "content": text}],
        schema={"type": "object"},
        params={"seed": seed},
    )


class Toy:
    """Answers ``"<station>: <message>"`` after ``delay_s``; counts calls and the most
    that ran at once."""

    name = "toy"

    def __init__(self, max_concurrency: int = 4, delay_s: float = 0.0) -> None:
        self.max_concurrency = max_concurrency
        self.delay_s = delay_s
        self.calls: list[str] = []
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def complete(self, request: ModelRequest) -> ModelResponse:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.calls.append(request.station)
        time.sleep(self.delay_s)
        with self._lock:
            self.in_flight -= 1
        text = f"{request.station}: {request.messages[-1]['content']}"
        return ModelResponse(text=text, input_tokens=1000, output_tokens=500)


class HTTPError(Exception):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.headers = headers or {}


class ToyAPI(Toy):
    """A toy that makes single attempts (``sim.models.retry.Attempts``): each send takes
    the next scripted outcome (an HTTP status to fail with, or 200), then answers."""

    def __init__(self, *script: int | tuple[int, dict[str, str]]) -> None:
        super().__init__(max_concurrency=2)
        self.script = list(script)
        self.sent = 0

    def prepare(self, request: ModelRequest) -> Any:
        return request

    def send(self, prepared: Any) -> Any:
        self.sent += 1
        step = self.script.pop(0) if self.script else 200
        status, headers = step if isinstance(step, tuple) else (step, {})
        if status != 200:
            raise HTTPError(status, headers)
        return Toy.complete(self, prepared)

    def read(self, request: ModelRequest, answer: Any) -> tuple[str, int, int, str | None]:
        return answer.text, answer.input_tokens, answer.output_tokens, "stop"

    @staticmethod
    def classify(exc: BaseException) -> tuple[bool, float | None]:
        if isinstance(exc, HTTPError):
            return classify_status(exc.status_code, exc.headers)
        return False, None

    def failure(self, exc: BaseException, attempts: int) -> str:
        return f"{type(exc).__name__}, {exc}, after {attempts} attempts"

    def complete(self, request: ModelRequest) -> ModelResponse:  # one attempt, never raises
        try:
            return Toy.complete(self, self.send(request))
        except HTTPError as exc:
            return ModelResponse(text="", ok=False, error=self.failure(exc, 1))


# -- retries -----------------------------------------------------------------------------------


def test_retry_honours_retry_after_on_429_then_succeeds() -> None:
    slept: list[float] = []
    api = ToyAPI((429, {"retry-after": "2"}), 503)
    policy = RetryPolicy(max_retries=3, base_delay_s=0.5, jitter=0.0)
    provider = Retry(api, policy, seed=1, sleep=slept.append)
    response = provider.complete(request())
    assert response.ok and response.text == "KTOY: hi" and response.finish_reason == "stop"
    assert api.sent == 3 and slept == [2.0, 1.0]  # Retry-After, then the backoff (0.5 * 2)
    assert (provider.calls, provider.retries, provider.failures) == (1, 2, 0)


def test_retry_gives_up_and_does_not_retry_client_errors() -> None:
    slept: list[float] = []
    api = ToyAPI(500, 500, 500, 400)
    provider = Retry(api, RetryPolicy(max_retries=2, base_delay_s=0.0), sleep=slept.append)
    failed = provider.complete(request())
    assert not failed.ok and failed.text == ""
    assert failed.error == "HTTPError, HTTP 500, after 3 attempts"
    assert api.sent == 3 and len(slept) == 2
    refused = provider.complete(request())  # 400: not worth retrying
    assert refused.error == "HTTPError, HTTP 400, after 1 attempts" and api.sent == 4
    assert (provider.calls, provider.retries, provider.failures) == (2, 2, 2)
    assert isinstance(wrap_route(ToyAPI(), retry=RetryPolicy()), Retry)
    plain = Toy()
    assert wrap_route(plain, retry=RetryPolicy()) is plain  # no single attempts: no retries


# -- concurrency -------------------------------------------------------------------------------


def test_concurrency_limit_bounds_calls_from_any_threads() -> None:
    toy = Toy(max_concurrency=3, delay_s=0.05)
    limited = ConcurrencyLimit(toy)
    threads = [
        threading.Thread(target=limited.complete, args=(request(f"K{i}"),)) for i in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(toy.calls) == 12 and toy.peak == 3


def test_a_batch_goes_out_together_bounded_per_route_and_answers_in_order() -> None:
    # calls long enough to overlap on a busy machine: the peaks show they went together
    fast, slow = Toy(max_concurrency=4, delay_s=0.2), Toy(max_concurrency=2, delay_s=0.2)
    sent: list[list[str]] = []
    model = compose(
        {"fast": fast, "slow": slow}, before_send=lambda rs: sent.append([r.station for r in rs])
    )
    requests = [request(f"F{i}") for i in range(8)] + [request(f"S{i}") for i in range(4)]
    for r in requests[8:]:
        r.route = "slow"
    for r in requests[:8]:
        r.route = "fast"
    requests.append(request("X"))  # no provider for its route ("toy")
    answers = complete_batch(model, requests)
    assert [a.text for a in answers[:12]] == [f"{r.station}: hi" for r in requests[:12]]
    assert answers[12].error == "unknown provider 'toy'" and not answers[12].ok
    assert fast.peak == 4 and slow.peak == 2  # concurrent, each within its own bound
    assert sent == [[r.station for r in requests]]  # the wait hook heard of them first
    model.close()  # type: ignore[attr-defined]


def test_one_at_a_time_routes_are_called_in_raise_order_in_this_thread() -> None:
    local = Toy(max_concurrency=1, delay_s=0.0)
    answers = complete_batch(compose({"toy": local}), [request(f"K{i}") for i in range(5)])
    assert local.calls == [f"K{i}" for i in range(5)] and local.peak == 1
    assert all(a.ok for a in answers)


# -- the cost cap ------------------------------------------------------------------------------

PRICES = PriceTable({"toy:toy-1": Price(1.0, 2.0)}, "test")  # $ per million tokens


def test_cost_cap_adds_up_live_calls_and_reports_over_budget() -> None:
    toy = Toy()
    capped = CostCap(Routes({"toy": toy}), PRICES, limit_usd=0.0055)
    assert not capped.over_budget
    for i in range(2):  # each call: 1000 in, 500 out -> $0.002
        capped.complete(request(seed=i))
    assert capped.cost_usd == 0.004 and not capped.over_budget
    capped.complete(request(seed=3))
    assert abs(capped.cost_usd - 0.006) < 1e-12 and capped.over_budget
    # through the stack: recorded answers cost nothing, only live calls count
    recorded = Replay([RecordedCall(1, "KTOY", 0.0, request().request_hash(), ModelResponse("x"))])
    model = compose(
        {"toy": toy}, clock=lambda: 0.0, prices=PRICES, cost_limit_usd=1.0, replay=recorded
    )
    complete_batch(model, [request()])
    assert model.cost_usd == 0.0 and not model.over_budget  # type: ignore[attr-defined]


def test_the_cost_cap_stops_live_calls_at_the_next_instant() -> None:
    env = simpy.Environment()
    toy = Toy()
    model = compose(
        {"toy": toy}, clock=lambda: env.now, prices=PRICES, cost_limit_usd=0.005
    )  # the third call reaches it
    dispatcher = Dispatcher(env, EventBus(), model, prices=PRICES)

    def station(name: str) -> Generator[simpy.Event, Any, None]:
        for turn in range(10):
            yield dispatcher.ask(request(name, f"turn {turn}"))
            yield env.timeout(60)

    env.process(station("KTOY"))
    run_until(env, 3600, dispatcher, should_stop=lambda: dispatcher.over_budget)
    assert dispatcher.over_budget and len(toy.calls) == 3 and dispatcher.live_calls == 3


# -- record and replay -------------------------------------------------------------------------


def recording(*requests: ModelRequest) -> Replay:
    """Each request recorded with the answer ``recorded <n>`` (its caller's n-th call)."""
    calls, counts = [], Counter[str]()
    for seq, r in enumerate(requests, start=1):
        answer = ModelResponse(f"recorded {counts[r.station]}")
        calls.append(RecordedCall(seq, r.station, 60.0 * seq, r.request_hash(), answer))
        counts[r.station] += 1
    return Replay(calls)


def test_replay_serves_recorded_answers_then_goes_live() -> None:
    now = [0.0]
    toy = Toy()
    first, second, third = (request(text=f"turn {i}") for i in range(3))
    replay = recording(first, second, third)
    model = Replaying(Routes({"toy": toy}), replay, until_s=100.0, clock=lambda: now[0])
    answer = model.complete(first)
    assert (answer.text, answer.source) == ("recorded 0", "replay") and toy.calls == []
    now[0] = 60.0
    assert model.complete(request(text="changed")).text == "recorded 1"  # before until_s: any
    assert replay.first_divergence is not None  # ...but the difference is noted
    now[0] = 120.0
    live = model.complete(third)
    assert (live.text, live.source) == ("KTOY: turn 2", "live") and toy.calls == ["KTOY"]
    assert replay.served == 2


def test_a_fork_is_answered_from_the_recording_while_requests_match() -> None:
    toy = Toy()
    first, second = request(text="turn 0"), request(text="turn 1")
    other = request("KOTH", "turn 0")
    replay = recording(first, other, second)
    model = compose(
        {"toy": toy}, clock=lambda: 500.0, replay=replay, replay_until_s=0.0, replay_matching=True
    )
    answers = complete_batch(model, [first, other])
    assert [(a.text, a.source) for a in answers] == [
        ("recorded 0", "replay"),
        ("recorded 0", "replay"),
    ]
    (changed,) = complete_batch(model, [request(text="something else")])
    assert (changed.source, changed.text) == ("live", "KTOY: something else")
    (after,) = complete_batch(model, [second])  # recorded, but its caller left: it stays live
    assert (after.source, after.text) == ("live", "KTOY: turn 1")
    assert toy.calls == ["KTOY", "KTOY"]
    assert replay.served_after_fork == 2 and replay.live_callers == ["KTOY"]


def test_the_dispatcher_stores_the_source_the_replay_wrapper_gives() -> None:
    env = simpy.Environment()
    bus = EventBus()
    calls: list[ModelCalled] = []
    bus.subscribe(calls.append, ModelCalled)  # type: ignore[arg-type]
    first, second = request(text="turn 0"), request(text="turn 1")
    model = compose(
        {"toy": Toy()}, clock=lambda: env.now, replay=recording(first), replay_until_s=30.0
    )
    dispatcher = Dispatcher(env, bus, model)

    def station() -> Generator[simpy.Event, Any, None]:
        yield dispatcher.ask(first)
        yield env.timeout(60)
        yield dispatcher.ask(second)

    env.process(station())
    run_until(env, 600, dispatcher)
    assert [(c.source, c.response_text) for c in calls] == [
        ("replay", "recorded 0"),
        ("live", "KTOY: turn 1"),
    ]
    assert dispatcher.live_calls == 1 and dispatcher.calls == 2


# -- chaos, and the whole stack ----------------------------------------------------------------


def test_chaos_injects_faults_around_the_retries() -> None:
    api = ToyAPI()
    settings = ChaosSettings(timeout=1.0)

    def chaos(inner: Any) -> ChaosProvider:
        return ChaosProvider(inner, settings, random.Random(3), lambda: 0.0)

    provider = wrap_route(api, retry=RetryPolicy(max_retries=2), chaos=chaos)
    assert isinstance(provider, ChaosProvider) and isinstance(provider.inner, Retry)
    response = provider.complete(request())
    assert not response.ok and response.error is not None
    assert response.error.startswith("chaos: timeout:") and api.sent == 0
    assert provider.tally() == {"timeout": 1}
    down = ChaosSettings(outages=[[0, 1]])  # type: ignore[list-item]
    outage = ChaosProvider(Toy(), down, random.Random(3), lambda: 1800.0)
    assert (
        outage.complete(request()).error == "chaos: outage: provider down (simulated hours 0 to 1)"
    )


def test_the_whole_stack_composes_in_order() -> None:
    api = ToyAPI(429)
    slept: list[float] = []
    route = Retry(api, RetryPolicy(max_retries=1, base_delay_s=0.0), sleep=slept.append)
    first = request(text="turn 0")
    model = compose(
        {"toy": route},
        clock=lambda: 0.0,
        prices=PRICES,
        cost_limit_usd=10.0,
        replay=recording(first),
        replay_until_s=0.0,
        replay_matching=True,
    )
    assert isinstance(model, Replaying) and isinstance(model.inner, CostCap)
    routes = model.inner.inner
    assert isinstance(routes, Routes) and isinstance(routes.providers["toy"], ConcurrencyLimit)
    recorded, live = complete_batch(model, [first, request("KNEW", "hello")])
    assert recorded.source == "replay" and recorded.text == "recorded 0"
    assert live.source == "live" and live.ok and live.text == "KNEW: hello"
    assert api.sent == 2 and len(slept) == 1  # the 429 was retried
    assert model.cost_usd == 0.002  # type: ignore[attr-defined]
