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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

import simpy

from sim.bus import EventBus
from sim.events import BlobStored, ModelCalled
from sim.models.base import ModelRequest, ModelResponse, Provider, canonical_json, sha256_text
from sim.models.prices import PriceTable
from sim.models.wrappers import complete_batch, compose
from sim.redact import Redactor

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
    """Batches the requests of one instant, sends them together, resolves them in the order
    they were raised, and prices and publishes every call (``ModelCalled``).

    ``model`` answers them: a provider composed by ``sim.models.wrappers.compose`` (replay,
    cost cap, routes and their concurrency limits; ``personafm.world`` builds it), or a
    mapping of routes to providers, composed here with neither replay nor a cost cap.
    Whether a call was answered from a recording is its response's ``source``: only live
    calls count in ``live_calls``. ``over_budget`` is the model's cost cap's (none: False).
    """

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        model: Provider | Mapping[str, Provider],
        record_requests: bool = True,
        prices: PriceTable | None = None,
    ) -> None:
        self.env = env
        self.bus = bus
        self.model: Provider = (
            compose(model, before_send=announce_waits) if isinstance(model, Mapping) else model
        )
        self.record_requests = record_requests
        self.prices = prices
        self.unpriced: set[str] = set()
        self.live_calls = 0
        self.calls = 0
        self._pending: list[tuple[ModelRequest, simpy.Event]] = []
        self._seen_blobs: set[str] = set()
        # Keys are kept out of every response before anyone (a station, the store) sees it.
        self._redact = Redactor(getattr(self.model, "secrets", ()))

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def ask(self, request: ModelRequest) -> simpy.Event:
        event = self.env.event()
        self._pending.append((request, event))
        return event

    @property
    def over_budget(self) -> bool:
        return bool(getattr(self.model, "over_budget", False))

    def flush(self) -> None:
        batch, self._pending = self._pending, []
        responses = complete_batch(self.model, [request for request, _ in batch])
        self.live_calls += sum(1 for response in responses if response.source == "live")
        if self._redact:
            responses = [self._redacted(r) for r in responses]
        for (request, event), response in zip(batch, responses, strict=True):
            self._publish(request, response, *request.fingerprint())
            event.succeed(response)

    def _redacted(self, response: ModelResponse) -> ModelResponse:
        error = self._redact(response.error) if response.error else response.error
        return replace(response, text=self._redact(response.text), error=error)

    def close(self) -> None:
        """Release the model's threads (the route providers stay open: their builder's)."""
        close = getattr(self.model, "close", None)
        if close is not None:
            close()

    def _blob(self, text: str, store: bool = True) -> str:
        """The text's sha256; the text itself is stored once per run if ``store``."""
        sha = sha256_text(text)
        if store and sha not in self._seen_blobs:
            self._seen_blobs.add(sha)
            self.bus.publish(BlobStored(self.env.now, sha, text))
        return sha

    def _price(self, request: ModelRequest, response: ModelResponse) -> float | None:
        if self.prices is None:
            return None
        cost = self.prices.cost(
            request.provider, request.model, response.input_tokens, response.output_tokens
        )
        if cost is None:
            self.unpriced.add(f"{request.provider}:{request.model}")
        return cost

    def _publish(
        self,
        request: ModelRequest,
        response: ModelResponse,
        schema_json: str,
        request_hash: str,
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
                cost_usd=self._price(request, response),
                source=response.source,
            )
        )


def announce_waits(requests: Sequence[ModelRequest]) -> None:
    """Tell this thread's wait hook (``report_waits``), if any, which stations wait on the
    live calls about to be sent (one entry per request)."""
    hook = _wait_hook.get()
    if hook is not None:
        hook([request.station for request in requests])
