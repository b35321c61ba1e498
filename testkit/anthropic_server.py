"""``ScriptedAnthropic``: an ``httpx2.MockTransport`` handler speaking the Messages API wire
format, scripted with the same ``Behaviour``s as the OpenAI server and recording what it was
sent.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2

from testkit.scripted import (
    MALFORMED_ARGUMENTS,
    Arguments,
    Behaviour,
    RecordedRequest,
    _arguments_text,
    _client_key,
    _Script,
    _ScriptedServer,
    _tokens,
)

# ---------------------------------------------------------------------------
# The scripted Anthropic Messages API (an httpx2 MockTransport handler)
# ---------------------------------------------------------------------------

_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class ScriptedAnthropic(_ScriptedServer):
    """``POST /v1/messages`` per the Messages API, as an ``httpx2.MockTransport`` handler.

    Checks what the real API checks first (an API key in ``x-api-key`` or
    ``Authorization: Bearer``, ``anthropic-version``, ``model``/``max_tokens``/
    ``messages``, a forced tool that exists) and then plays the script; after
    it, every request gets a ``tool_use`` answer after ``delay_s``. ``sleep``
    raises ``httpx2.ReadTimeout`` (a transport cannot make the client wait out
    its timeout); ``disconnect`` raises ``httpx2.RemoteProtocolError``.
    """

    def __init__(
        self, *behaviours: Behaviour, delay_s: float = 0.0, arguments: Arguments | None = None
    ) -> None:
        self.script = _Script(behaviours, delay_s, arguments)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def client(self, **kwargs: Any) -> httpx2.Client:
        """An ``httpx2.Client`` for ``AnthropicProvider(http_client=...)``."""
        return httpx2.Client(transport=self.transport, **kwargs)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = json.loads(request.content or b"{}")
        except json.JSONDecodeError:
            body = None
        n = self.script.begin(RecordedRequest(request.method, request.url.path, headers, body))
        try:
            return self._handle(request, headers, body, n)
        finally:
            self.script.end()

    def _handle(
        self,
        request: httpx2.Request,
        headers: dict[str, str],
        body: Any,
        n: int,
    ) -> httpx2.Response:
        if request.method != "POST" or request.url.path != "/v1/messages":
            return _anthropic_error(404, f"{request.method} {request.url.path}: not found")
        if not _client_key(headers):
            return _anthropic_error(401, "missing API key (x-api-key or Authorization: Bearer)")
        if not headers.get("anthropic-version"):
            return _anthropic_error(400, "anthropic-version header is required")
        if not isinstance(body, dict):
            return _anthropic_error(400, "the body must be a JSON object")
        for required in ("model", "max_tokens", "messages"):
            if required not in body:
                return _anthropic_error(400, f"{required}: Field required")
        if not isinstance(body["max_tokens"], int) or not body["messages"]:
            return _anthropic_error(400, "max_tokens must be an integer; messages non-empty")
        tools = body.get("tools") or []
        choice = body.get("tool_choice") or {}
        tool = None
        if choice.get("type") == "tool":
            tool = next((t for t in tools if t.get("name") == choice.get("name")), None)
            if tool is None:
                return _anthropic_error(400, f"tool_choice names unknown tool {choice.get('name')}")
        elif tools:
            tool = tools[0]

        behaviour = self.script.take()
        if behaviour.kind == "status":
            message = behaviour.message or f"scripted error {behaviour.status_code}"
            extra = {"retry-after": behaviour.retry_after} if behaviour.retry_after else {}
            return _anthropic_error(
                behaviour.status_code, message.replace("{key}", _client_key(headers)), extra
            )
        if behaviour.kind == "sleep":
            raise httpx2.ReadTimeout("scripted timeout", request=request)
        if behaviour.kind == "disconnect":
            raise httpx2.RemoteProtocolError("scripted disconnect", request=request)
        if behaviour.delay_s > 0:
            time.sleep(behaviour.delay_s)

        content: list[dict[str, Any]]
        stop_reason = "end_turn"
        if behaviour.kind == "empty":
            content = []
        elif behaviour.kind == "content":
            content = [{"type": "text", "text": behaviour.text}]
        elif behaviour.kind == "malformed":
            content = [{"type": "text", "text": MALFORMED_ARGUMENTS}]
        elif tool is None:
            text = _arguments_text(behaviour.arguments, body, {})
            content = [{"type": "text", "text": text}]
        else:
            args = _arguments_text(behaviour.arguments, body, tool.get("input_schema"))
            tool_input = json.loads(args)
            block = {"type": "tool_use", "id": f"toolu_{n:04d}", "name": tool["name"]}
            content = [{**block, "input": tool_input}]
            stop_reason = "tool_use"
        prompt = [body.get("system", ""), body["messages"], tools]
        payload = {
            "id": f"msg_scripted_{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": _tokens(prompt), "output_tokens": _tokens(content)},
        }
        return httpx2.Response(200, json=payload, headers={"request-id": f"req_{n:04d}"})


def _anthropic_error(
    status: int, message: str, extra: dict[str, str] | None = None
) -> httpx2.Response:
    error_type = _ANTHROPIC_ERRORS.get(status, "api_error")
    payload = {"type": "error", "error": {"type": error_type, "message": message}}
    return httpx2.Response(
        status, json=payload, headers={"request-id": "req_error", **(extra or {})}
    )
