"""What every hosted-API provider shares: setup checks, retries, counters, failure text.

A subclass builds the SDK call (``request_kwargs``, ``_send``), says which
errors are worth retrying (``classify``) and reads the answer (``_read``).
``complete`` never raises: a failed call becomes a response with ``ok=False``
and an error that names the exception, status and attempts, never the key.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx2

from sim.models.base import ModelRequest, ModelResponse, ProviderError
from sim.models.retry import DEFAULT_RETRY, RetryPolicy, call_with_retries, describe_failure

NO_KEY = "not-needed"  # what a loopback server that checks no key is sent
TOOL_DESCRIPTION = "Submit your next turn on air as the station's DJ. Fill in every field."


class HostedProvider:
    default_label: ClassVar[str] = "hosted"
    missing_key_hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        label: str | None = None,
        max_concurrency: int = 8,
        timeout_s: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        seed: int = 0,
        http_client: httpx2.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        label = label or self.default_label
        if not api_key or not api_key.strip():
            raise ProviderError(f"the {label} provider needs an api_key{self.missing_key_hint}")
        if timeout_s <= 0:
            raise ProviderError("timeout_s must be positive")
        self.name = label
        self.max_concurrency = max_concurrency
        self.base_url = base_url
        self.retry = retry
        self._api_key = api_key
        self._sleep = sleep
        self._rng = random.Random(seed)  # jitter only: it never changes what a model sees
        self._lock = threading.Lock()
        self._client: Any = self._make_client(api_key, base_url, timeout_s, http_client)
        self.calls = 0
        self.retries = 0
        self.failures = 0

    # -- what a subclass provides ------------------------------------------------------------
    def _make_client(
        self, api_key: str, base_url: str | None, timeout_s: float, http_client: Any
    ) -> Any:
        """The SDK client, with the SDK's own retries off (``complete`` retries)."""
        raise NotImplementedError

    def request_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        raise NotImplementedError

    def _send(self, kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    @staticmethod
    def classify(exc: BaseException) -> tuple[bool, float | None]:
        raise NotImplementedError

    def _read(self, request: ModelRequest, answer: Any) -> tuple[str, int, int, str | None]:
        """(text, input tokens, output tokens, finish reason) of an SDK answer."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the SDK client's connection pool (and a passed ``http_client``)."""
        self._client.close()

    @property
    def secrets(self) -> tuple[str, ...]:
        """What the dispatcher must keep out of every stored response (the key)."""
        return () if self._api_key == NO_KEY else (self._api_key,)

    def __repr__(self) -> str:  # keeps the key out of reprs and logs
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"

    def complete(self, request: ModelRequest) -> ModelResponse:
        start = time.perf_counter()
        attempts = 0
        try:
            kwargs = self.request_kwargs(request)

            def call() -> Any:
                nonlocal attempts
                attempts += 1
                return self._send(kwargs)

            answer, _ = call_with_retries(
                call,
                self.retry,
                classify=self.classify,
                rng=self._rng,
                sleep=self._sleep,
                on_retry=self._count_retry,
            )
            text, input_tokens, output_tokens, finish = self._read(request, answer)
        except Exception as exc:  # a failed call must never reach the simulation
            with self._lock:
                self.calls += 1
                self.failures += 1
            return ModelResponse(
                text="",
                latency_s=time.perf_counter() - start,
                ok=False,
                error=describe_failure(exc, attempts, self._api_key),
            )
        ok = bool(text.strip())
        with self._lock:
            self.calls += 1
            self.failures += 0 if ok else 1
        return ModelResponse(
            text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_s=time.perf_counter() - start,
            ok=ok,
            error=None if ok else "empty response",
            finish_reason=finish,
        )

    def _count_retry(self, attempt: int, exc: BaseException, delay_s: float) -> None:
        with self._lock:
            self.retries += 1
