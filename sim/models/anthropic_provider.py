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
from typing import Any

import anthropic

from sim.models.base import ModelRequest
from sim.models.hosted import TOOL_DESCRIPTION, HostedProvider
from sim.models.retry import classify_status

DEFAULT_MAX_TOKENS = 1024  # the Messages API requires max_tokens


def classify_anthropic_error(exc: BaseException) -> tuple[bool, float | None]:
    """Retry 429, 5xx (529 overloaded included), timeouts, connection errors."""
    if isinstance(exc, anthropic.APIStatusError):
        return classify_status(exc.status_code, exc.response.headers)
    if isinstance(exc, anthropic.APIConnectionError | anthropic.RetryableError):
        return True, None
    return False, None


class AnthropicProvider(HostedProvider):
    """Structured turns through ``messages.create``; never raises from ``complete``."""

    classify = staticmethod(classify_anthropic_error)

    default_label = "anthropic"

    client_class = anthropic.Anthropic

    def request_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        """The ``messages.create`` arguments for ``request``."""
        params = request.params
        max_tokens = params.get("max_tokens")
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "max_tokens": int(max_tokens) if max_tokens is not None else DEFAULT_MAX_TOKENS,
        }
        if request.output == "json":  # plain text needs no tool
            kwargs["tools"] = [
                {
                    "name": request.tool_name,
                    "description": request.schema.get("description") or TOOL_DESCRIPTION,
                    "input_schema": request.schema,
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": request.tool_name}
        if request.system:
            kwargs["system"] = request.system
        if params.get("temperature") is not None:
            kwargs["extra_body"] = {"temperature": float(params["temperature"])}
        return kwargs

    def _send(self, kwargs: dict[str, Any]) -> Any:
        return self._client.messages.create(**kwargs)

    def _read(self, request: ModelRequest, message: Any) -> tuple[str, int, int, str | None]:
        usage = getattr(message, "usage", None)
        return (
            _answer_text(getattr(message, "content", None) or [], request.tool_name),
            int(getattr(usage, "input_tokens", 0) or 0),
            int(getattr(usage, "output_tokens", 0) or 0),
            getattr(message, "stop_reason", None),
        )


def _answer_text(blocks: list[Any], tool_name: str) -> str:
    """JSON of the forced tool's input; the text blocks if the model answered in prose."""
    uses = [b for b in blocks if getattr(b, "type", None) == "tool_use"]
    named = [b for b in uses if b.name == tool_name] or uses
    if named:
        return json.dumps(named[0].input, ensure_ascii=False)
    return "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text")
