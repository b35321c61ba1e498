"""Provider fault injection: a ``chaos`` wrapper that makes any provider misbehave on purpose.

Set per model in a scenario (``[model.chaos]``, ``[stations.model.chaos]``), it
wraps the live provider of a route and, call by call, injects latency spikes,
timeouts, hung calls, 429/5xx bursts with a ``Retry-After``, truncated or
schema-violating answers, and outage windows (simulated hours in which every
call fails: a provider that dies mid-run and comes back).

Why it is safe for exact re-runs: a fault only changes the *response*, and the
dispatcher records every response (``ok=False`` with the error, or the mangled
text). A re-run answers from that recording and calls no provider, so no chaos
is injected twice. Whether a fault hits depends only on a seed and on the call
itself (its caller and request hash), never on which thread got there first or
on what came before, so the same scenario and seed inject the same faults, and a
resumed run the same as the uninterrupted one.

Every injected fault says what it was: a failed call's error starts with
``chaos: <kind>:`` (the station logs it as a ``model_error`` fault with that
detail), a mangled answer has ``finish_reason = "chaos:<kind>"`` in
``model_calls``. Against a hosted provider, 429/5xx bursts are served at the HTTP
level (:class:`ChaosTransport`), so the real retry path (the ``Retry`` wrapper inside
this one, ``sim.models.wrappers``), with its ``Retry-After`` handling, answers them; a
burst its retries absorb is counted as ``recovered``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import httpx2
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.models.base import HoldsInner, ModelRequest, ModelResponse, Provider
from sim.rng import derive_seed

log = logging.getLogger(__name__)

MAX_HOURS = 24 * 366  # as far as a run may go
# The faults drawn once per call, at most one of them (so each fires at its own rate).
EXCLUSIVE = ("timeout", "hung", "http_429", "http_5xx", "truncated", "schema_violation")
FAULT_KINDS = ("outage", "latency_spike", *EXCLUSIVE)
HTTP_STATUS = {"http_429": 429, "http_5xx": 503}
HTTP_REASON = {429: "Too Many Requests", 503: "Service Unavailable"}

Outcome = Literal["failed", "mangled", "delayed", "recovered"]


class OutageWindow(BaseModel):
    """Simulated hours ``[start_h, end_h)`` in which the provider is down."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    start_h: float = Field(ge=0, le=MAX_HOURS, description="Hour (from the run's start) it dies.")
    end_h: float = Field(ge=0, le=MAX_HOURS, description="Hour it is back (not included).")

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        """``[start_h, end_h]``, as a scenario writes it, is the same window."""
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError(f"an outage is [start_h, end_h], got {len(data)} numbers")
            return {"start_h": data[0], "end_h": data[1]}
        return data

    @model_validator(mode="after")
    def _check(self) -> OutageWindow:
        if self.end_h <= self.start_h:
            raise ValueError(
                f"an outage must end after it starts (got {self.start_h:g} to {self.end_h:g} h)"
            )
        return self

    def covers(self, now_s: float) -> bool:
        return self.start_h * 3600.0 <= now_s < self.end_h * 3600.0


def _rate(what: str) -> Any:
    return Field(0.0, ge=0, le=1, description=f"Chance per call of {what}.")


class ChaosSettings(BaseModel):
    """``[model.chaos]``: faults injected into this model's calls (testing only)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    latency_spike: float = _rate("an extra delay of spike_s (real seconds) before the call")
    spike_s: float = Field(
        0.5, ge=0, le=5, description="latency_spike: the extra delay, in real seconds."
    )
    timeout: float = _rate("failing at once as a timed-out call")
    hung: float = _rate("hanging hang_s real seconds, then failing as a timeout")
    hang_s: float = Field(
        2.0, ge=0, le=10, description="hung: how long a hung call hangs, in real seconds."
    )
    http_429: float = _rate(
        "a burst of 429 Too Many Requests (hosted: at the HTTP level, through the retries)"
    )
    http_5xx: float = _rate(
        "a burst of 503 Service Unavailable (hosted: at the HTTP level, through the retries)"
    )
    retry_after_s: float = Field(
        1.0, ge=0, le=10, description="http_429/http_5xx: the Retry-After the server sends."
    )
    burst_max: int = Field(
        2,
        ge=1,
        le=20,
        description="http_429/http_5xx: a burst fails 1 to burst_max attempts in a row; "
        "one longer than max_retries fails the call.",
    )
    truncated: float = _rate("the answer cut in half")
    schema_violation: float = _rate("a JSON answer replaced by JSON that does not match the schema")
    outages: list[OutageWindow] = Field(
        default_factory=list,
        max_length=100,
        description="Windows in simulated hours, [[start_h, end_h], ...], in which every "
        "call fails (the provider is down, then back).",
    )

    @model_validator(mode="after")
    def _check(self) -> ChaosSettings:
        total = sum(getattr(self, kind) for kind in EXCLUSIVE)
        if total > 1 + 1e-9:
            named = " + ".join(EXCLUSIVE)
            raise ValueError(
                f"chaos: {named} add up to {total:g}; at most one fault per call (<= 1)"
            )
        return self

    @property
    def active(self) -> bool:
        return bool(self.outages) or any(getattr(self, k) > 0 for k in FAULT_KINDS[1:])

    def outage_at(self, now_s: float) -> OutageWindow | None:
        return next((w for w in self.outages if w.covers(now_s)), None)

    def pick(self, u: float) -> str | None:
        """The exclusive fault that a uniform draw ``u`` in [0, 1) lands on, if any."""
        edge = 0.0
        for kind in EXCLUSIVE:
            edge += getattr(self, kind)
            if u < edge:
                return kind
        return None


@dataclass(frozen=True, slots=True)
class Injection:
    """One injected fault: who, when (simulated seconds), what, and what became of the call."""

    station: str
    sim_time_s: float
    kind: str
    outcome: Outcome
    detail: str = ""


class ChaosTransport(httpx2.BaseTransport):
    """An HTTP transport that serves an armed burst of error responses, then the real server.

    :class:`ChaosProvider` arms it in the calling thread just before the wrapped
    provider's call (the SDK sends from that same thread), so a burst meets the
    retries around the provider and their ``Retry-After`` handling, exactly as a real
    one would.
    """

    def __init__(self, inner: httpx2.BaseTransport | None = None) -> None:
        self._inner = inner or httpx2.HTTPTransport(
            limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
        )
        self._local = threading.local()
        self._lock = threading.Lock()
        self.served = 0  # error responses served, over the run

    def arm(self, statuses: Iterable[int], retry_after_s: float) -> None:
        self._local.burst = list(statuses)
        self._local.retry_after = f"{retry_after_s:g}"

    def disarm(self) -> int:
        """Clear this thread's burst; return how many of its responses were never served."""
        left = len(getattr(self._local, "burst", None) or [])
        self._local.burst = []
        return left

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        burst = getattr(self._local, "burst", None)
        if not burst:
            return self._inner.handle_request(request)
        status = burst.pop(0)
        with self._lock:
            self.served += 1
        reason = HTTP_REASON.get(status, "error")
        message = f"chaos: injected {status} {reason}"
        body = {"type": "error", "error": {"type": "chaos", "message": message}}
        headers = {"retry-after": self._local.retry_after}
        return httpx2.Response(status, headers=headers, json=body, request=request)

    def close(self) -> None:
        self._inner.close()


def _unbound_clock() -> float:
    raise RuntimeError("chaos: no simulated clock bound (build_world binds env.now)")


class ChaosProvider(HoldsInner):
    """Wraps ``inner`` and injects the faults ``settings`` asks for; never raises.

    ``callers`` overrides ``settings`` for the named callers (a station's call sign;
    None: no chaos for it), so stations sharing a route can differ. ``clock`` gives
    the simulated now in seconds (outage windows); ``rng`` seeds every draw.
    ``transport``: the :class:`ChaosTransport` inside ``inner``'s HTTP client, if
    any, for real 429/5xx bursts; without one they are failed responses.
    """

    def __init__(
        self,
        inner: Provider,
        settings: ChaosSettings | None,
        rng: random.Random,
        clock: Callable[[], float] = _unbound_clock,
        *,
        callers: Mapping[str, ChaosSettings | None] | None = None,
        transport: ChaosTransport | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.inner = inner
        self.settings = settings
        self.callers = dict(callers or {})
        self.clock = clock
        self.transport = transport
        self.name = f"{inner.name}+chaos"
        self.max_concurrency = inner.max_concurrency
        self._seed = rng.getrandbits(63)
        self._sleep = sleep
        self._lock = threading.Lock()
        self.injections: list[Injection] = []

    # -- what callers see of the wrapped provider (``HoldsInner``: its secrets, close) ----
    def __getattr__(self, name: str) -> Any:  # counters and the like of the wrapped provider
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"ChaosProvider({self.inner!r})"

    def tally(self, outcome: str | None = None) -> Counter[str]:
        """Injected faults by kind (only those with ``outcome``, if given)."""
        with self._lock:
            return Counter(i.kind for i in self.injections if outcome in (None, i.outcome))

    # -- the call --------------------------------------------------------------------------
    def settings_for(self, caller: str) -> ChaosSettings | None:
        return self.callers.get(caller, self.settings)

    def complete(self, request: ModelRequest) -> ModelResponse:
        cfg = self.settings_for(request.station)
        if cfg is None or not cfg.active:
            return self.inner.complete(request)
        rng = self._call_rng(request)
        now = self.clock()
        window = cfg.outage_at(now)
        if window is not None:
            why = f"provider down (simulated hours {window.start_h:g} to {window.end_h:g})"
            return self._failed(request, now, "outage", why)
        slept = 0.0
        if rng.random() < cfg.latency_spike:
            self._record(request, now, "latency_spike", "delayed", f"{cfg.spike_s:g}s")
            self._sleep(cfg.spike_s)
            slept = cfg.spike_s
        kind = cfg.pick(rng.random())
        burst = rng.randint(1, cfg.burst_max)
        if kind == "timeout":
            return self._failed(request, now, kind, "no answer within the time limit", slept)
        if kind == "hung":
            self._sleep(cfg.hang_s)
            why = f"hung for {cfg.hang_s:g}s without an answer, then timed out"
            return self._failed(request, now, kind, why, slept + cfg.hang_s)
        if kind in HTTP_STATUS:
            return self._http_burst(request, now, kind, burst, cfg.retry_after_s, slept)
        response = self.inner.complete(request)
        response = replace(response, latency_s=response.latency_s + slept)
        if kind is None or not response.ok:
            return response
        if kind == "truncated":
            text = response.text[: len(response.text) // 2]
            detail = f"{len(response.text)} -> {len(text)} characters"
        elif request.output == "json":  # schema_violation (words have no schema to break)
            text = violating_json(request.schema)
            detail = "JSON that does not match the schema"
        else:
            return response
        self._record(request, now, kind, "mangled", detail)
        return replace(response, text=text, finish_reason=f"chaos:{kind}")

    def _http_burst(
        self,
        request: ModelRequest,
        now: float,
        kind: str,
        burst: int,
        retry_after_s: float,
        slept: float,
    ) -> ModelResponse:
        status = HTTP_STATUS[kind]
        what = f"{status} {HTTP_REASON[status]} (Retry-After {retry_after_s:g}s)"
        if self.transport is None:  # no HTTP under this provider: the call just fails
            return self._failed(request, now, kind, what, slept)
        self.transport.arm([status] * burst, retry_after_s)
        try:
            response = self.inner.complete(request)
        finally:
            left = self.transport.disarm()
        served = burst - left
        response = replace(response, latency_s=response.latency_s + slept)
        if not response.ok and response.error and "chaos:" in response.error:
            error = f"chaos: {kind}: {what}, burst of {served}: {response.error}"
            self._record(request, now, kind, "failed", error)
            return replace(response, error=error)
        # the provider's retries outlasted the burst (or something real failed after it)
        self._record(request, now, kind, "recovered", f"{what}, burst of {served} retried")
        return response

    def _failed(
        self, request: ModelRequest, now: float, kind: str, why: str, latency_s: float = 0.0
    ) -> ModelResponse:
        error = f"chaos: {kind}: {why}"
        self._record(request, now, kind, "failed", error)
        return ModelResponse(text="", latency_s=latency_s, ok=False, error=error)

    def _record(
        self, request: ModelRequest, now: float, kind: str, outcome: Outcome, detail: str
    ) -> None:
        with self._lock:
            self.injections.append(Injection(request.station, now, kind, outcome, detail))
        log.info("chaos %s (%s) for %s at t=%.1fs: %s", kind, outcome, request.station, now, detail)

    def _call_rng(self, request: ModelRequest) -> random.Random:
        """This call's draws: from the seed, the caller and the request (what it sees).

        Not a stream shared in call order: concurrent calls reach here in whatever order
        their threads run, and a resumed or forked run starts mid-way; a draw keyed by
        the call itself is the same in all of these.
        """
        return random.Random(derive_seed(self._seed, request.station, request.request_hash()))


def violating_json(schema: Mapping[str, Any]) -> str:
    """A JSON object that breaks ``schema``: every property of the wrong type, plus an extra."""
    out: dict[str, Any] = {"not_a_turn": True}
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            out[str(name)] = _wrong_value(sub)
    return json.dumps(out)


_JSON_TYPES: tuple[tuple[str, Any], ...] = (
    ("integer", 12345),
    ("string", "chaos"),
    ("array", ["chaos"]),
    ("object", {"chaos": True}),
)


def _wrong_value(schema: Any) -> Any:
    allowed = schema.get("type") if isinstance(schema, Mapping) else None
    names = {allowed} if isinstance(allowed, str) else set(allowed or ())
    if "integer" in names:
        names.add("number")
    for name, value in _JSON_TYPES:
        if name not in names and not (name == "integer" and "number" in names):
            return value
    return None


def bind_clock(providers: Mapping[str, object], clock: Callable[[], float]) -> None:
    """Give every chaos wrapper in ``providers`` the run's simulated clock (outage windows)."""
    for provider in providers.values():
        if isinstance(provider, ChaosProvider):
            provider.clock = clock
