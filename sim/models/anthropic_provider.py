"""Anthropic Messages API through the official ``anthropic`` SDK.

A structured turn is a forced ``tool_use``: the turn schema is the tool's
``input_schema`` and ``tool_choice`` names the tool; the turn text is the tool
input serialised back to JSON.

Since anthropic 1.0 the SDK has no ``temperature``/``top_p`` keyword arguments,
so the temperature travels in ``extra_body`` (the wire payload is unchanged).
``top_p`` is never sent: recent models reject it together with temperature.
The API has no seed.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2

from sim.models.base import ModelRequest, ModelResponse, ProviderError
from sim.models.retry import (
    DEFAULT_RETRY,
    RetryPolicy,
    call_with_retries,
    classify_status,
    describe_failure,
)

TOOL_DESCRIPTION = "Submit your next turn on air as the station's DJ. Fill in every field."
DEFAULT_MAX_TOKENS = 1024  # the Messages API requires max_tokens


def classify_anthropic_error(exc: BaseException) -> tuple[bool, float | None]:
    """Retry 429, 5xx (529 overloaded included), timeouts, connection errors."""
    if isinstance(exc, anthropic.APIStatusError):
        return classify_status(exc.status_code, exc.response.headers)
    if isinstance(exc, anthropic.APIConnectionError | anthropic.RetryableError):
        return True, None
    return False, None


class AnthropicProvider:
    """Structured turns through ``messages.create``; never raises from ``complete``."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        label: str = "anthropic",
        max_concurrency: int = 8,
        timeout_s: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        seed: int = 0,
        http_client: httpx2.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if not api_key:
            raise ProviderError("the anthropic provider needs an api_key")
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
        self.calls = 0
        self.retries = 0
        self.failures = 0
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,  # retries happen in call_with_retries
            http_client=http_client,
        )

    def close(self) -> None:
        """Close the SDK client's connection pool (and a passed ``http_client``)."""
        self._client.close()

    def __repr__(self) -> str:  # keeps the key out of reprs and logs
        return f"AnthropicProvider(name={self.name!r}, base_url={self.base_url!r})"

    def request_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        """The ``messages.create`` arguments for ``request``."""
        params = request.params
        max_tokens = params.get("max_tokens")
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "max_tokens": int(max_tokens) if max_tokens is not None else DEFAULT_MAX_TOKENS,
            "tools": [
                {
                    "name": request.tool_name,
                    "description": request.schema.get("description") or TOOL_DESCRIPTION,
                    "input_schema": request.schema,
                }
            ],
            "tool_choice": {"type": "tool", "name": request.tool_name},
        }
        if request.system:
            kwargs["system"] = request.system
        if params.get("temperature") is not None:
            kwargs["extra_body"] = {"temperature": float(params["temperature"])}
        return kwargs

    def complete(self, request: ModelRequest) -> ModelResponse:
        start = time.perf_counter()
        attempts = 0
        try:
            kwargs = self.request_kwargs(request)

            def call() -> Any:
                nonlocal attempts
                attempts += 1
                return self._client.messages.create(**kwargs)

            message, _ = call_with_retries(
                call,
                self.retry,
                classify=classify_anthropic_error,
                rng=self._rng,
                sleep=self._sleep,
                on_retry=self._count_retry,
            )
            return self._response(request, message, time.perf_counter() - start)
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

    def _count_retry(self, attempt: int, exc: BaseException, delay_s: float) -> None:
        with self._lock:
            self.retries += 1

    def _response(self, request: ModelRequest, message: Any, latency_s: float) -> ModelResponse:
        usage = getattr(message, "usage", None)
        text = _answer_text(getattr(message, "content", None) or [], request.tool_name)
        ok = bool(text.strip())
        with self._lock:
            self.calls += 1
            self.failures += 0 if ok else 1
        return ModelResponse(
            text=text,
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
            latency_s=latency_s,
            ok=ok,
            error=None if ok else "empty response",
            finish_reason=getattr(message, "stop_reason", None),
        )


def _answer_text(blocks: list[Any], tool_name: str) -> str:
    """JSON of the forced tool's input; the text blocks if the model answered in prose."""
    uses = [b for b in blocks if getattr(b, "type", None) == "tool_use"]
    named = [b for b in uses if b.name == tool_name] or uses
    if named:
        return json.dumps(named[0].input, ensure_ascii=False)
    return "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text")
