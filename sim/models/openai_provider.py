"""OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, llama.cpp server...).

A structured turn is a *forced tool call*: the turn schema becomes the
parameters of one function tool and ``tool_choice`` names it, so the model must
answer with arguments matching the schema. Servers that constrain decoding
through ``response_format`` instead (llama.cpp, vLLM) can use
``structured="json"``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai

from sim.models.base import ModelRequest, ModelResponse, ProviderError
from sim.models.retry import (
    DEFAULT_RETRY,
    RetryPolicy,
    call_with_retries,
    classify_status,
    describe_failure,
)

TOOL_DESCRIPTION = "Submit your next turn on air as the station's DJ. Fill in every field."
STRUCTURED_MODES = ("tool", "json")


def classify_openai_error(exc: BaseException) -> tuple[bool, float | None]:
    """Retry rate limits, 5xx, timeouts and connection errors; honour Retry-After."""
    if isinstance(exc, openai.APIStatusError):
        return classify_status(exc.status_code, exc.response.headers)
    if isinstance(exc, openai.APIConnectionError):  # APITimeoutError is a subclass
        return True, None
    return False, None


class OpenAIProvider:
    """Structured turns through the official ``openai`` SDK; never raises from ``complete``."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        label: str = "openai",
        max_concurrency: int = 8,
        timeout_s: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        structured: str = "tool",
        seed: int = 0,
        http_client: httpx2.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if structured not in STRUCTURED_MODES:
            raise ProviderError(f"structured must be one of {STRUCTURED_MODES}, not {structured!r}")
        if not api_key:
            raise ProviderError(
                "the openai provider needs an api_key (any string for a local server)"
            )
        if timeout_s <= 0:
            raise ProviderError("timeout_s must be positive")
        self.name = label
        self.max_concurrency = max_concurrency
        self.base_url = base_url
        self.retry = retry
        self.structured = structured
        self._api_key = api_key
        self._sleep = sleep
        self._rng = random.Random(seed)  # jitter only: it never changes what a model sees
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0
        self.failures = 0
        self._client = openai.OpenAI(
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
        return f"OpenAIProvider(name={self.name!r}, base_url={self.base_url!r})"

    def request_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        """The ``chat.completions.create`` arguments for ``request``."""
        kwargs: dict[str, Any] = {"model": request.model, "messages": request.full_messages()}
        if self.structured == "tool":
            description = request.schema.get("description") or TOOL_DESCRIPTION
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": request.tool_name,
                        "description": description,
                        "parameters": request.schema,
                    },
                }
            ]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": request.tool_name}}
        else:
            kwargs["response_format"] = {"type": "json_object", "schema": request.schema}
        params = request.params
        for key, cast in (("temperature", float), ("top_p", float), ("max_tokens", int)):
            if params.get(key) is not None:
                kwargs[key] = cast(params[key])
        if params.get("seed") is not None:
            kwargs["seed"] = int(params["seed"])
        return kwargs

    def complete(self, request: ModelRequest) -> ModelResponse:
        start = time.perf_counter()
        attempts = 0
        try:
            kwargs = self.request_kwargs(request)

            def call() -> Any:
                nonlocal attempts
                attempts += 1
                return self._client.chat.completions.create(**kwargs)

            completion, _ = call_with_retries(
                call,
                self.retry,
                classify=classify_openai_error,
                rng=self._rng,
                sleep=self._sleep,
                on_retry=self._count_retry,
            )
            return self._response(request, completion, time.perf_counter() - start)
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

    def _response(self, request: ModelRequest, completion: Any, latency_s: float) -> ModelResponse:
        usage = getattr(completion, "usage", None)
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        choices = getattr(completion, "choices", None) or []
        choice = choices[0] if choices else None
        finish_reason = getattr(choice, "finish_reason", None)
        text = _answer_text(choice, request.tool_name) if choice is not None else ""
        ok = bool(text.strip())
        with self._lock:
            self.calls += 1
            self.failures += 0 if ok else 1
        return ModelResponse(
            text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_s=latency_s,
            ok=ok,
            error=None if ok else "empty response",
            finish_reason=finish_reason,
        )


def _answer_text(choice: Any, tool_name: str) -> str:
    """The forced tool call's arguments; plain ``content`` when a server answered without one."""
    message = getattr(choice, "message", None)
    calls = [
        call.function
        for call in (getattr(message, "tool_calls", None) or [])
        if getattr(call, "function", None) is not None
    ]
    named = [f for f in calls if f.name == tool_name] or calls
    if named and named[0].arguments:
        return str(named[0].arguments)
    return str(getattr(message, "content", None) or "")
