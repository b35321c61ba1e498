"""Retries for hosted model calls: exponential backoff with jitter, honouring ``Retry-After``.

The SDKs' own retries are switched off (``max_retries=0``) so every retry
happens here, where it is logged and counted and where the delay comes from a
seeded rng instead of the global one. A provider that can make single attempts
(:class:`Attempts`, e.g. ``HostedProvider``) is retried by the ``Retry`` wrapper
(``sim.models.wrappers``), which runs :func:`complete_with_retries`.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from sim.models.base import ModelRequest, ModelResponse
from sim.redact import redact

T = TypeVar("T")

log = logging.getLogger(__name__)

# 408 request timeout, 409 lock conflict, 429 rate limit; every 5xx (Anthropic's 529 included).
RETRYABLE_STATUSES = frozenset({408, 409, 429})

Classifier = Callable[[BaseException], tuple[bool, float | None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before trying a failed call again.

    ``max_retries`` counts retries, so a call is tried at most ``max_retries + 1``
    times. The backoff before retry ``k`` (0-based) is ``base_delay_s * 2**k``
    capped at ``max_delay_s``, then scaled by a factor drawn from
    ``[1 - jitter, 1 + jitter]``. A server's ``Retry-After`` replaces the
    backoff (no jitter), capped at ``max_delay_s``.
    """

    max_retries: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("delays must be >= 0")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")

    def backoff_s(self, retry: int, rng: random.Random) -> float:
        """The jittered exponential delay before retry number ``retry`` (0-based)."""
        capped = min(self.base_delay_s * 2.0 ** min(retry, 1000), self.max_delay_s)
        return capped * (1.0 + self.jitter * rng.uniform(-1.0, 1.0))

    def delay_s(self, retry: int, rng: random.Random, retry_after_s: float | None) -> float:
        if retry_after_s is not None and math.isfinite(retry_after_s):
            return min(max(retry_after_s, 0.0), self.max_delay_s)
        return self.backoff_s(retry, rng)


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_retries=0)  # one attempt


@runtime_checkable
class Attempts(Protocol):
    """A provider whose calls can be retried one attempt at a time (``HostedProvider``).

    ``prepare`` builds a call's arguments once; ``send`` makes one attempt and raises
    what the SDK raises; ``read`` turns the SDK's answer into (text, input tokens,
    output tokens, finish reason); ``classify`` says whether an error is worth retrying
    and how long the server asked to wait; ``failure`` describes a failed call after
    ``attempts`` attempts without the key.
    """

    name: str
    max_concurrency: int

    def complete(self, request: ModelRequest) -> ModelResponse: ...

    def prepare(self, request: ModelRequest) -> Any: ...

    def send(self, prepared: Any) -> Any: ...

    def read(self, request: ModelRequest, answer: Any) -> tuple[str, int, int, str | None]: ...

    def classify(self, exc: BaseException) -> tuple[bool, float | None]: ...

    def failure(self, exc: BaseException, attempts: int) -> str: ...


def complete_with_retries(
    provider: Attempts,
    request: ModelRequest,
    policy: RetryPolicy,
    *,
    rng: random.Random,
    sleep: Callable[[float], object] = time.sleep,
    on_retry: Callable[[int, BaseException, float], object] | None = None,
) -> ModelResponse:
    """``provider``'s answer to ``request``, its attempts retried under ``policy``; never raises.

    A failed call (an error not worth retrying, or the last one) is a response with
    ``ok=False`` and ``provider.failure``'s description; an empty answer is a failure
    too (``"empty response"``, not retried). ``latency_s`` covers every attempt and wait.
    """
    start = time.perf_counter()
    attempts = 0
    try:
        prepared = provider.prepare(request)

        def call() -> Any:
            nonlocal attempts
            attempts += 1
            return provider.send(prepared)

        answer, _ = call_with_retries(
            call, policy, classify=provider.classify, rng=rng, sleep=sleep, on_retry=on_retry
        )
        text, input_tokens, output_tokens, finish = provider.read(request, answer)
    except Exception as exc:  # a failed call must never reach the simulation
        return ModelResponse(
            text="",
            latency_s=time.perf_counter() - start,
            ok=False,
            error=provider.failure(exc, attempts),
        )
    ok = bool(text.strip())
    return ModelResponse(
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_s=time.perf_counter() - start,
        ok=ok,
        error=None if ok else "empty response",
        finish_reason=finish,
    )


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    classify: Classifier,
    rng: random.Random,
    sleep: Callable[[float], object] = time.sleep,
    on_retry: Callable[[int, BaseException, float], object] | None = None,
) -> tuple[T, int]:
    """Call ``fn`` until it succeeds; return ``(result, attempts)``.

    ``classify(exc)`` says whether ``exc`` is worth retrying and how long the
    server asked us to wait (seconds, or None). A non-retryable error, or the
    last error once ``policy.max_retries`` retries are spent, is re-raised.
    ``on_retry(attempt, exc, delay_s)`` is called before each wait.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except Exception as exc:
            retryable, retry_after_s = classify(exc)
            if not retryable or attempt > policy.max_retries:
                raise
            delay = policy.delay_s(attempt - 1, rng, retry_after_s)
            log.info(
                "model call failed (%s, attempt %d); retrying in %.2fs",
                type(exc).__name__,
                attempt,
                delay,
            )
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``retry-after``.

    ``retry-after`` may be a number of seconds or an HTTP date (RFC 9110); a
    date in the past gives 0. Unparseable or absent headers give None.
    """
    if headers is None:
        return None
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            value = float(millis)
        except ValueError:
            pass
        else:
            if math.isfinite(value):
                return max(value / 1000.0, 0.0)
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        return max(value, 0.0) if math.isfinite(value) else None
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def classify_status(
    status: int, headers: Mapping[str, str] | None = None, now: float | None = None
) -> tuple[bool, float | None]:
    """Retry 408/409/429 and 5xx (unless the server says ``x-should-retry: false``)."""
    should = (_header(headers, "x-should-retry") or "").strip().lower() if headers else ""
    if should == "false":
        return False, None
    retryable = should == "true" or status in RETRYABLE_STATUSES or status >= 500
    return retryable, (parse_retry_after(headers, now) if retryable else None)


def describe_failure(exc: BaseException, attempts: int, secret: str | None = None) -> str:
    """A short, key-free error for a failed call: class, HTTP status, attempts, server message.

    e.g. ``RateLimitError, HTTP 429, after 5 attempts: Rate limit reached``. The
    server's message is left out for 401/403, where providers quote the key.
    """
    parts = [type(exc).__name__]
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        parts.append(f"HTTP {status}")
    parts.append(f"after {attempts} attempt{'' if attempts == 1 else 's'}")
    text = ", ".join(parts)
    message = _error_message(exc)
    if message and status not in (401, 403):
        text += f": {message}"
    return redact(text, secret)


def _error_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    message: object = None
    if isinstance(body, Mapping):  # openai: the inner error; anthropic: {"type", "error"}
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, Mapping) else error
    elif isinstance(body, str):
        message = body
    elif not hasattr(exc, "status_code"):
        message = str(exc)
    if not isinstance(message, str):
        return ""
    message = " ".join(message.split())
    return message[:160] + ("..." if len(message) > 160 else "")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts as well as httpx headers."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value
