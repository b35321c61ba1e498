"""Cross-cutting behaviour as wrappers composed around any provider, never built into one.

Each wrapper implements the provider interface (``sim.models.base.Provider``) and holds
an inner provider. A run's model calls go through this stack, outermost first:

====================  ==========================================================
``Replaying``         answers from a recorded run (re-run, fork, resume), marked
                      ``source="replay"``; the rest go on, live
``CostCap``           adds up what the live calls cost; ``over_budget`` at the limit
``Routes``            each request to its route's provider; a batch goes out together
``ConcurrencyLimit``  per route: at most ``max_concurrency`` calls at once
``ChaosProvider``     per route, with ``[model.chaos]``: seeded faults (``sim.models.chaos``)
``Retry``             per route, for providers that make single attempts (hosted):
                      backoff with jitter, ``Retry-After``
base provider         what the registry's factory made (``sim.models.registry``)
====================  ==========================================================

Two functions compose it, here and nowhere else: :func:`wrap_route` builds one route's
provider (chaos, retries, base) when the run's providers are made
(``personafm.providers``), so a caller may substitute or wrap them; :func:`compose`
puts the run-wide layers around the routes when the world is built
(``personafm.world``), where the run's clock and recording are known.

Why this order: a recorded answer must cost nothing and call nothing, so replay is
outermost; the cost cap counts only what really went out; a chaos fault (a hung call,
a latency spike) holds its route's concurrency slot as a slow provider would; an
injected 429/5xx burst is armed once per call and met by the retries inside it, as a
real one would be (see ``ChaosTransport``).

**Batches.** The dispatcher hands over the requests of one simulated instant at once
(:func:`complete_batch`). ``Replaying`` and ``CostCap`` handle a batch on the
simulation thread in the order the requests were raised (which recorded answer a
caller gets, and the sum of costs, never depend on which thread finished first);
``Routes`` sends what is left together, on each route's own threads, and returns the
answers in the same order.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from sim.models.base import HoldsInner, ModelRequest, ModelResponse, Provider
from sim.models.prices import PriceTable
from sim.models.retry import DEFAULT_RETRY, Attempts, RetryPolicy, complete_with_retries
from sim.replay import Replay

BeforeSend = Callable[[Sequence[ModelRequest]], None]

# Not looked up on the inner provider: a wrapper's batch and submit are its own (a batch
# method found on the inner one would bypass the wrapper).
_OWN = frozenset({"inner", "complete_batch", "submit"})


def complete_batch(provider: Provider, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
    """``provider``'s answers to ``requests`` (raised at one instant), in their order:
    through its ``complete_batch`` when it has one, else one ``complete`` after another."""
    batch: Callable[[Sequence[ModelRequest]], list[ModelResponse]] | None = getattr(
        provider, "complete_batch", None
    )
    if batch is not None:
        return batch(requests)
    return [provider.complete(request) for request in requests]


class Wrapper(HoldsInner):
    """A provider holding another: its ``name``, ``max_concurrency``, ``secrets`` and any
    other public attribute (counters, ``over_budget``...) are the inner one's unless the
    wrapper has its own; ``close`` closes the inner one."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.max_concurrency: int = inner.max_concurrency

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self.inner.complete(request)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _OWN:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:  # the inner repr keeps keys out
        return f"{type(self).__name__}({self.inner!r})"


# -- per route -------------------------------------------------------------------------------


class Retry(Wrapper):
    """Retries ``inner``'s failed attempts under ``policy``: the errors its ``classify``
    calls worth it (429, 5xx, timeouts...), after an exponential, jittered backoff (seeded
    by ``seed``) or the server's ``Retry-After``, waited with ``sleep`` (wall-clock).
    Never raises; a call that fails for good is ``ok=False`` with an error naming the
    exception, status and attempts. Counts ``calls``, ``retries`` and ``failures``."""

    inner: Attempts

    def __init__(
        self,
        inner: Attempts,
        policy: RetryPolicy = DEFAULT_RETRY,
        *,
        seed: int = 0,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        super().__init__(inner)
        self.policy = policy
        self._rng = random.Random(seed)  # jitter only: it never changes what a model sees
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0
        self.failures = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        response = complete_with_retries(
            self.inner,
            request,
            self.policy,
            rng=self._rng,
            sleep=self._sleep,
            on_retry=self._count_retry,
        )
        with self._lock:
            self.calls += 1
            self.failures += 0 if response.ok else 1
        return response

    def _count_retry(self, attempt: int, exc: BaseException, delay_s: float) -> None:
        with self._lock:
            self.retries += 1


class ConcurrencyLimit(Wrapper):
    """At most ``max_concurrency`` calls of ``inner`` run at once, from any threads.

    ``submit`` starts a call on the limit's own pool of ``max_concurrency`` threads, so a
    batch sent together runs that many at a time. With 0 or 1 (a local model, scripted
    personas) nothing is submitted: ``Routes`` calls it in the sending thread, in raise
    order. ``close`` releases the threads, not ``inner`` (its builder closes that).
    """

    def __init__(self, inner: Provider, max_concurrency: int | None = None) -> None:
        super().__init__(inner)
        if max_concurrency is not None:
            self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max(1, self.max_concurrency))
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def complete(self, request: ModelRequest) -> ModelResponse:
        with self._slots:
            return self.inner.complete(request)

    def submit(self, request: ModelRequest) -> Future[ModelResponse]:
        """Start ``complete(request)`` on the limit's threads; its future."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.max_concurrency),
                    thread_name_prefix=f"model-{self.name}",
                )
            return self._pool.submit(self.complete, request)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def wrap_route(
    base: Provider,
    *,
    retry: RetryPolicy | None = None,
    seed: int = 0,
    chaos: Callable[[Provider], Provider] | None = None,
) -> Provider:
    """One route's provider: ``chaos`` (a wrapper factory, if given) around :class:`Retry`
    (with ``retry``, for a ``base`` that makes single attempts) around ``base``."""
    provider: Provider = base
    if retry is not None and isinstance(base, Attempts):
        provider = Retry(base, retry, seed=seed)
    if chaos is not None:
        provider = chaos(provider)
    return provider


# -- run-wide --------------------------------------------------------------------------------


class Routes:
    """Sends each request to its route's provider (``request.route``, else its provider
    name); an unknown route, or a provider that raises, is a failed response.

    A batch goes out together: ``before_send`` (the dispatcher's wait hook) hears of it
    first, then each request, in raise order, is submitted to its route's
    :class:`ConcurrencyLimit` or, for a route of one call at a time (or a batch of one
    request), called in this thread. The answers come back in the requests' order.
    """

    name = "routes"
    max_concurrency = 0

    def __init__(
        self, providers: Mapping[str, Provider], before_send: BeforeSend | None = None
    ) -> None:
        self.providers = dict(providers)
        self.before_send = before_send

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for p in self.providers.values() for s in getattr(p, "secrets", ()))

    def close(self) -> None:
        """Close every route's provider (from :func:`compose`, its concurrency limit)."""
        for provider in self.providers.values():
            close = getattr(provider, "close", None)
            if close is not None:
                close()

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self.complete_batch([request])[0]

    def complete_batch(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        if not requests:
            return []
        if self.before_send is not None:
            self.before_send(requests)
        together = len(requests) > 1
        results: list[ModelResponse | Future[ModelResponse]] = []
        for request in requests:
            route = request.route or request.provider
            provider = self.providers.get(route)
            if provider is None:
                results.append(
                    ModelResponse(text="", ok=False, error=f"unknown provider {route!r}")
                )
            elif (
                together and provider.max_concurrency > 1 and isinstance(provider, ConcurrencyLimit)
            ):
                results.append(provider.submit(request))
            else:
                results.append(_call(provider.complete, request))
        return [_settled(r) for r in results]


class CostCap(Wrapper):
    """Adds up what the calls through it cost (``prices``: by provider, model and tokens;
    unpriced models add nothing) in ``cost_usd``; ``over_budget`` once that reaches
    ``limit_usd``. Answers pass through unchanged: the runner stops the run at its next
    consistent point. A batch is added up in the requests' order (a float sum's order
    is part of its value), only its ``source="live"`` answers.
    """

    def __init__(self, inner: Provider, prices: PriceTable | None, limit_usd: float) -> None:
        super().__init__(inner)
        self.prices = prices
        self.limit_usd = limit_usd
        self.cost_usd = 0.0
        self._lock = threading.Lock()

    @property
    def over_budget(self) -> bool:
        return self.cost_usd >= self.limit_usd

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self.complete_batch([request])[0]

    def complete_batch(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        responses = complete_batch(self.inner, requests)
        for request, response in zip(requests, responses, strict=True):
            if response.source == "live":
                self._charge(request, response)
        return responses

    def _charge(self, request: ModelRequest, response: ModelResponse) -> None:
        if self.prices is None:
            return
        cost = self.prices.cost(
            request.provider, request.model, response.input_tokens, response.output_tokens
        )
        if cost is not None:
            with self._lock:
                self.cost_usd += cost


def _unbound_clock() -> float:
    raise RuntimeError("replay: no simulated clock bound (compose takes clock=)")


class Replaying(Wrapper):
    """Serves a recorded run's answers (``sim.replay.Replay``) instead of calling ``inner``.

    Requests raised before ``until_s`` (simulated seconds, by ``clock``) get the recorded
    answer to their caller's next call, whatever they ask (a re-run; a resume up to its
    checkpoint). Later ones go to ``inner``, live, or with ``matching`` (a fork) on to
    the recording while a caller's requests are the very ones recorded
    (``Replay.answer_if_same``). Recorded answers come back with ``source="replay"``.
    A batch is answered from the recording in raise order, before any of its live calls
    is sent, and those go to ``inner`` as one batch.
    """

    def __init__(
        self,
        inner: Provider,
        replay: Replay,
        *,
        until_s: float = math.inf,
        matching: bool = False,
        clock: Callable[[], float] = _unbound_clock,
    ) -> None:
        super().__init__(inner)
        self.replay = replay
        self.until_s = until_s
        self.matching = matching
        self.clock = clock

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self.complete_batch([request])[0]

    def complete_batch(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        now, replay = self.clock(), self.replay
        recorded: list[ModelResponse | None] = [None] * len(requests)
        if now < self.until_s:
            recorded = [replay.answer(r, r.request_hash(), now) for r in requests]
        elif self.matching:
            recorded = [replay.answer_if_same(r, r.request_hash()) for r in requests]
        live = [i for i, response in enumerate(recorded) if response is None]
        out = [None if r is None else replace(r, source="replay") for r in recorded]
        if live:
            answers = complete_batch(self.inner, [requests[i] for i in live])
            for i, answer in zip(live, answers, strict=True):
                out[i] = answer
        return [r for r in out if r is not None]


def compose(
    routes: Mapping[str, Provider],
    *,
    clock: Callable[[], float] = _unbound_clock,
    prices: PriceTable | None = None,
    cost_limit_usd: float | None = None,
    replay: Replay | None = None,
    replay_until_s: float = math.inf,
    replay_matching: bool = False,
    before_send: BeforeSend | None = None,
) -> Provider:
    """The run's model: ``Replaying`` (with ``replay``) around ``CostCap`` (with
    ``cost_limit_usd``) around ``Routes`` (``before_send``: the dispatcher's wait hook)
    over each route's provider in a ``ConcurrencyLimit``. ``clock``: the simulated now."""
    model: Provider = Routes(
        {route: ConcurrencyLimit(provider) for route, provider in routes.items()}, before_send
    )
    if cost_limit_usd is not None:
        model = CostCap(model, prices, cost_limit_usd)
    if replay is not None:
        model = Replaying(
            model, replay, until_s=replay_until_s, matching=replay_matching, clock=clock
        )
    return model


def _call(
    complete: Callable[[ModelRequest], ModelResponse], request: ModelRequest
) -> ModelResponse:
    try:
        return complete(request)
    except Exception as exc:  # a provider failure is a fault, never a crash
        return _failed(exc)


def _settled(result: ModelResponse | Future[ModelResponse]) -> ModelResponse:
    if isinstance(result, ModelResponse):
        return result
    try:
        return result.result()
    except Exception as exc:
        return _failed(exc)


def _failed(exc: BaseException) -> ModelResponse:
    return ModelResponse(text="", ok=False, error=f"{type(exc).__name__}: {exc}")
