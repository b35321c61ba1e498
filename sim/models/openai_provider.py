"""OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, llama.cpp server...).

A structured turn is a *forced tool call*: the turn schema becomes the
parameters of one function tool and ``tool_choice`` names it, so the model must
answer with arguments matching the schema. Servers that constrain decoding
through ``response_format`` instead (llama.cpp, vLLM) can use
``structured="json"``.
"""

from __future__ import annotations

from typing import Any

import openai

from sim.models.base import ModelRequest, ProviderError
from sim.models.hosted import TOOL_DESCRIPTION, HostedProvider
from sim.models.retry import classify_status

STRUCTURED_MODES = ("tool", "json")


def classify_openai_error(exc: BaseException) -> tuple[bool, float | None]:
    """Retry rate limits, 5xx, timeouts and connection errors; honour Retry-After."""
    if isinstance(exc, openai.APIStatusError):
        return classify_status(exc.status_code, exc.response.headers)
    if isinstance(exc, openai.APIConnectionError):  # APITimeoutError is a subclass
        return True, None
    return False, None


class OpenAIProvider(HostedProvider):
    """Structured turns through the official ``openai`` SDK; never raises from ``complete``."""

    classify = staticmethod(classify_openai_error)

    default_label = "openai"
    missing_key_hint = " (any string for a local server)"

    def __init__(self, *, structured: str = "tool", **settings: Any) -> None:
        """``settings``: those of ``HostedProvider``; ``structured``: tool | json."""
        if structured not in STRUCTURED_MODES:
            raise ProviderError(f"structured must be one of {STRUCTURED_MODES}, not {structured!r}")
        super().__init__(**settings)
        self.structured = structured

    client_class = openai.OpenAI

    def request_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        """The ``chat.completions.create`` arguments for ``request``."""
        kwargs: dict[str, Any] = {"model": request.model, "messages": request.full_messages()}
        if request.output == "text":
            pass  # plain words: no tool, no format
        elif self.structured == "tool":
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

    def _send(self, kwargs: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**kwargs)

    def _read(self, request: ModelRequest, completion: Any) -> tuple[str, int, int, str | None]:
        usage = getattr(completion, "usage", None)
        choices = getattr(completion, "choices", None) or []
        choice = choices[0] if choices else None
        text = _answer_text(choice, request.tool_name) if choice is not None else ""
        return (
            text,
            int(getattr(usage, "prompt_tokens", 0) or 0),
            int(getattr(usage, "completion_tokens", 0) or 0),
            getattr(choice, "finish_reason", None),
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
