"""Model-call dispatch inside the discrete-event engine.

A station yields ``dispatcher.ask(request)``, a SimPy event. The run loop
(``sim.runloop``) lets every process at the current instant raise its requests;
when the next event lies in the future it calls ``flush()``, which sends the
pending requests together (threads, bounded per provider) and then resolves
them in the order they were raised. Wall time per instant is the slowest call,
and the outcome never depends on which call finished first.

While a batch of live calls runs, the simulation thread waits in ``flush()``. A UI that
wants to say so registers a hook with ``report_waits`` on that thread: the hook gets
the stations whose calls are about to run. It is not an event, so nothing about it is
stored or written to the event log, and a run without a hook pays one lookup per batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

import simpy

from sim.bus import EventBus
from sim.events import BlobStored, ModelCalled
from sim.models.base import ModelRequest, ModelResponse, Provider, canonical_json, sha256_text
from sim.models.prices import PriceTable
from sim.redact import Redactor
from sim.replay import Replay

WaitHook = Callable[[list[str]], None]
_wait_hook: ContextVar[WaitHook | None] = ContextVar("wait_hook", default=None)


@contextmanager
def report_waits(hook: WaitHook) -> Iterator[None]:
    """Within this block, on this thread, ``hook(stations)`` is called before each batch of
    live model calls with the stations (one entry per request) that wait on it."""
    token = _wait_hook.set(hook)
    try:
        yield
    finally:
        _wait_hook.reset(token)


class Dispatcher:
    """Batches the requests of one instant, prices every call, and can serve a recorded run.

    With ``replay``, requests raised before ``replay_until_s`` are answered from the
    recorded responses (no model is called); later ones go to the live providers, or,
    with ``replay_matching`` (a fork), on to the recording while a caller's requests are
    the very ones recorded (``Replay.answer_if_same``).
    ``cost_limit_usd`` makes ``over_budget`` true once live calls have cost that much.
    """

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        providers: Mapping[str, Provider],
        record_requests: bool = True,
        prices: PriceTable | None = None,
        cost_limit_usd: float | None = None,
        replay: Replay | None = None,
        replay_until_s: float = float("inf"),
        replay_matching: bool = False,
    ) -> None:
        self.env = env
        self.bus = bus
        self.providers = dict(providers)
        self.record_requests = record_requests
        self.prices = prices
        self.cost_limit_usd = cost_limit_usd
        self.replay = replay
        self.replay_until_s = replay_until_s
        self.replay_matching = replay_matching
        self.cost_usd = 0.0
        self.unpriced: set[str] = set()
        self.live_calls = 0
        self.calls = 0
        self._pending: list[tuple[ModelRequest, simpy.Event]] = []
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._seen_blobs: set[str] = set()
        # Keys are kept out of every response before anyone (a station, the store) sees it.
        self._redact = Redactor(
            secret for p in self.providers.values() for secret in getattr(p, "secrets", ())
        )

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def ask(self, request: ModelRequest) -> simpy.Event:
        event = self.env.event()
        self._pending.append((request, event))
        return event

    @property
    def over_budget(self) -> bool:
        return self.cost_limit_usd is not None and self.cost_usd >= self.cost_limit_usd

    def flush(self) -> None:
        batch, self._pending = self._pending, []
        requests = [req for req, _ in batch]
        schemas = [req.schema_json() for req in requests]
        hashes = [req.request_hash(sj) for req, sj in zip(requests, schemas, strict=True)]
        now, replay = self.env.now, self.replay
        pairs = zip(requests, hashes, strict=True)
        served: list[ModelResponse | None] = [None] * len(requests)
        if replay is not None and now < self.replay_until_s:
            served = [replay.answer(r, h, now) for r, h in pairs]
        elif replay is not None and self.replay_matching:
            served = [replay.answer_if_same(r, h) for r, h in pairs]
        live = [i for i, response in enumerate(served) if response is None]
        if live:
            hook = _wait_hook.get()
            if hook is not None:
                hook([requests[i].station for i in live])
            for i, response in zip(live, self._execute([requests[i] for i in live]), strict=True):
                served[i] = response
            self.live_calls += len(live)
        responses = [r for r in served if r is not None]
        if self._redact:
            responses = [self._redacted(r) for r in responses]
        went_live = set(live)
        for i, (request, event) in enumerate(batch):
            source = "live" if i in went_live else "replay"
            self._publish(request, responses[i], schemas[i], hashes[i], source)
            event.succeed(responses[i])

    def _redacted(self, response: ModelResponse) -> ModelResponse:
        error = self._redact(response.error) if response.error else response.error
        return replace(response, text=self._redact(response.text), error=error)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools.clear()

    def _execute(self, requests: list[ModelRequest]) -> list[ModelResponse]:
        results: list[ModelResponse | Future[ModelResponse] | None] = [None] * len(requests)
        for i, request in enumerate(requests):
            route = request.route or request.provider
            provider = self.providers.get(route)
            if provider is None:
                results[i] = ModelResponse(text="", ok=False, error=f"unknown provider {route!r}")
            elif provider.max_concurrency <= 1 or len(requests) == 1:
                results[i] = _call(provider, request)
            else:
                results[i] = self._pool(route, provider).submit(_call, provider, request)
        return [r.result() if isinstance(r, Future) else r for r in results]  # type: ignore[union-attr,misc]

    def _pool(self, route: str, provider: Provider) -> ThreadPoolExecutor:
        """One bounded pool per route: each endpoint gets its own concurrency limit."""
        pool = self._pools.get(route)
        if pool is None:
            pool = self._pools[route] = ThreadPoolExecutor(
                max_workers=provider.max_concurrency, thread_name_prefix=f"model-{provider.name}"
            )
        return pool

    def _blob(self, text: str, store: bool = True) -> str:
        """The text's sha256; the text itself is stored once per run if ``store``."""
        sha = sha256_text(text)
        if store and sha not in self._seen_blobs:
            self._seen_blobs.add(sha)
            self.bus.publish(BlobStored(self.env.now, sha, text))
        return sha

    def _price(self, request: ModelRequest, response: ModelResponse, source: str) -> float | None:
        if self.prices is None:
            return None
        cost = self.prices.cost(
            request.provider, request.model, response.input_tokens, response.output_tokens
        )
        if cost is None:
            self.unpriced.add(f"{request.provider}:{request.model}")
        elif source == "live":
            self.cost_usd += cost
        return cost

    def _publish(
        self,
        request: ModelRequest,
        response: ModelResponse,
        schema_json: str,
        request_hash: str,
        source: str,
    ) -> None:
        self.calls += 1
        self.bus.publish(
            ModelCalled(
                sim_time=self.env.now,
                station=request.station,
                seq=self.calls,
                provider=request.provider,
                model=request.model,
                system_prompt_sha256=self._blob(request.system),
                schema_sha256=self._blob(schema_json, store=self.record_requests),
                request_hash=request_hash,
                messages_json=json.dumps(request.messages, ensure_ascii=False)
                if self.record_requests
                else None,
                params_json=canonical_json(request.params),
                response_text=response.text,
                input_tokens=response.input_tokens,
                output_tokens=response.output_tokens,
                latency_s=response.latency_s,
                ok=response.ok,
                error=response.error,
                finish_reason=response.finish_reason,
                cost_usd=self._price(request, response, source),
                source=source,
            )
        )


def _call(provider: Provider, request: ModelRequest) -> ModelResponse:
    try:
        return provider.complete(request)
    except Exception as exc:  # a provider failure is a fault, never a crash
        return ModelResponse(text="", ok=False, error=f"{type(exc).__name__}: {exc}")
