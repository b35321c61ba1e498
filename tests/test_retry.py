"""Retries: exponential, capped, jittered backoff from a seeded rng; Retry-After wins."""

from __future__ import annotations

import email.utils
import random
import time
from typing import ClassVar

import pytest

from sim.models.retry import (
    RetryPolicy,
    call_with_retries,
    classify_status,
    describe_failure,
    parse_retry_after,
)
from testkit.servers import SleepRecorder


class Flaky(Exception):
    def __init__(self, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__("flaky")
        self.retryable = retryable
        self.retry_after = retry_after


def classify(exc: BaseException) -> tuple[bool, float | None]:
    if isinstance(exc, Flaky):
        return exc.retryable, exc.retry_after
    return False, None


class Failing:
    """Raises ``errors`` in turn, then returns ``result``; counts its calls."""

    def __init__(self, errors: list[Exception], result: str = "done") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


def test_backoff_is_exponential_capped_and_jittered_within_bounds() -> None:
    policy = RetryPolicy(max_retries=6, base_delay_s=0.5, max_delay_s=4.0, jitter=0.25)
    sleep = SleepRecorder()
    fn = Failing([Flaky() for _ in range(6)])
    assert call_with_retries(fn, policy, classify=classify, rng=random.Random(7), sleep=sleep) == (
        "done",
        7,
    )
    nominal = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]  # base * 2**k, capped at max_delay_s
    assert len(sleep.calls) == 6
    for got, want in zip(sleep.calls, nominal, strict=True):
        assert want * 0.75 <= got <= want * 1.25
    assert len({round(d / w, 9) for d, w in zip(sleep.calls, nominal, strict=True)}) == 6, (
        "each delay has its own jitter"
    )
    # the same seed gives the same delays; another seed gives others
    again = SleepRecorder()
    fn = Failing([Flaky() for _ in range(6)])
    call_with_retries(fn, policy, classify=classify, rng=random.Random(7), sleep=again)
    assert again.calls == sleep.calls
    other = SleepRecorder()
    fn = Failing([Flaky() for _ in range(6)])
    call_with_retries(fn, policy, classify=classify, rng=random.Random(8), sleep=other)
    assert other.calls != sleep.calls


def test_no_jitter_gives_the_exact_sequence() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=0.1, max_delay_s=1.0, jitter=0.0)
    sleep = SleepRecorder()
    call_with_retries(
        Failing([Flaky()] * 5), policy, classify=classify, rng=random.Random(0), sleep=sleep
    )
    assert sleep.calls == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


def test_retry_after_replaces_the_backoff_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=3, base_delay_s=0.5, max_delay_s=10.0, jitter=0.25)
    sleep = SleepRecorder()
    errors = [Flaky(retry_after=3.0), Flaky(retry_after=0.0), Flaky(retry_after=600.0)]
    result, attempts = call_with_retries(
        Failing(errors), policy, classify=classify, rng=random.Random(1), sleep=sleep
    )
    assert (result, attempts) == ("done", 4)
    assert sleep.calls == [3.0, 0.0, 10.0]  # honoured exactly, no jitter; capped at max


def test_parse_retry_after_seconds_millis_and_http_date() -> None:
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)  # "Fri, 15 Jan 2027 08:00:42 GMT"
    assert parse_retry_after({"Retry-After": date}, now=now) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 5, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=now) == 0.0


def test_http_date_retry_after_is_honoured_by_call_with_retries() -> None:
    now = time.time()
    headers = {"Retry-After": email.utils.formatdate(now + 5, usegmt=True)}
    policy = RetryPolicy(max_retries=1, base_delay_s=0.01, max_delay_s=60.0)
    sleep = SleepRecorder()

    def classify_headers(exc: BaseException) -> tuple[bool, float | None]:
        return classify_status(429, headers)

    result = call_with_retries(
        Failing([Flaky()]), policy, classify=classify_headers, rng=random.Random(0), sleep=sleep
    )
    assert result == ("done", 2)
    assert len(sleep.calls) == 1 and 4.0 < sleep.calls[0] <= 5.0


def test_classify_status() -> None:
    for status in (408, 409, 429, 500, 502, 503, 504, 529):
        assert classify_status(status, {})[0], status
    for status in (400, 401, 403, 404, 413, 422):
        assert classify_status(status, {}) == (False, None), status
    assert classify_status(429, {"retry-after": "2"}) == (True, 2.0)
    assert classify_status(400, {"retry-after": "2"}) == (False, None)
    assert classify_status(500, {"x-should-retry": "false"}) == (False, None)
    assert classify_status(400, {"x-should-retry": "true"}) == (True, None)


def test_non_retryable_error_is_raised_at_once() -> None:
    sleep = SleepRecorder()
    fn = Failing([Flaky(retryable=False)])
    with pytest.raises(Flaky):
        call_with_retries(fn, RetryPolicy(), classify=classify, rng=random.Random(0), sleep=sleep)
    assert fn.calls == 1 and sleep.calls == []
    fn = Failing([KeyError("boom")])  # unknown errors are not retried either
    with pytest.raises(KeyError):
        call_with_retries(fn, RetryPolicy(), classify=classify, rng=random.Random(0), sleep=sleep)
    assert fn.calls == 1


def test_exhausted_retries_reraise_the_last_error() -> None:
    errors = [Flaky(retry_after=0.0) for _ in range(4)]
    sleep = SleepRecorder()
    seen: list[tuple[int, float]] = []
    fn = Failing(errors)
    with pytest.raises(Flaky) as info:
        call_with_retries(
            fn,
            RetryPolicy(max_retries=3),
            classify=classify,
            rng=random.Random(0),
            sleep=sleep,
            on_retry=lambda attempt, exc, delay: seen.append((attempt, delay)),
        )
    assert info.value is errors[3]
    assert fn.calls == 4 and len(sleep.calls) == 3
    assert seen == [(1, 0.0), (2, 0.0), (3, 0.0)]
    # no retries at all
    fn = Failing([Flaky()])
    with pytest.raises(Flaky):
        call_with_retries(fn, RetryPolicy(max_retries=0), classify=classify, rng=random.Random(0))
    assert fn.calls == 1


def test_policy_validation_and_failure_text() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.0)

    class Fake(Exception):
        status_code = 429
        body: ClassVar[dict[str, object]] = {
            "error": {"message": "Slow down, key sk-SECRET-123", "type": "rate_limit"}
        }

    text = describe_failure(Fake(), 5, "sk-SECRET-123")
    assert text.startswith("Fake, HTTP 429, after 5 attempts: Slow down")
    assert "sk-SECRET-123" not in text
    assert describe_failure(ValueError("bad"), 1) == "ValueError, after 1 attempt: bad"
