"""``ScriptedOpenAIServer``: a tiny threaded Chat Completions server on loopback; each request
gets the next scripted ``Behaviour`` (or, once the script is spent, a valid tool call after
``delay_s``: the fixed-latency mode for dispatch benchmarks).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
# The scripted OpenAI-compatible server
# ---------------------------------------------------------------------------

_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


class ScriptedOpenAIServer(_ScriptedServer):
    """A threaded Chat Completions server on loopback.

    ``ScriptedOpenAIServer(*behaviours, delay_s=0.0, arguments=None)``: request
    ``n`` gets ``behaviours[n]``; after the script, every request gets a valid
    tool call after ``delay_s`` seconds (concurrent requests are served in
    parallel). ``arguments`` (a JSON string, a dict, or a function of the request
    body) overrides the default arguments: a minimal valid instance of the
    requested tool's parameters (or of ``response_format.schema``).
    Use as a context manager; ``base_url`` is ``http://127.0.0.1:PORT/v1``.
    """

    def __init__(
        self, *behaviours: Behaviour, delay_s: float = 0.0, arguments: Arguments | None = None
    ) -> None:
        self.script = _Script(behaviours, delay_s, arguments)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> ScriptedOpenAIServer:
        handler = type("Handler", (_OpenAIHandler,), {"owner": self})
        server_class = type(
            "Server", (ThreadingHTTPServer,), {"daemon_threads": True, "request_queue_size": 256}
        )
        self._httpd = server_class(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what tests look at
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- answers
    def wait(self, seconds: float) -> None:
        """Sleep, but wake up when the server closes."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def answer(
        self, behaviour: Behaviour, body: dict[str, Any], headers: dict[str, str], n: int
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, JSON body) for one chat completion request."""
        if behaviour.kind == "status":
            code = behaviour.status_code
            err_type, err_code = _OPENAI_ERRORS.get(code, ("server_error", None))
            message = behaviour.message or f"scripted error {code}"
            extra = {"retry-after": behaviour.retry_after} if behaviour.retry_after else {}
            error = {"message": message.replace("{key}", _client_key(headers)), "type": err_type}
            return code, extra, {"error": {**error, "param": None, "code": err_code}}
        tools = body.get("tools") or []
        choice = body.get("tool_choice")
        forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
        tool = next((t for t in tools if t.get("function", {}).get("name") == forced), None)
        tool = tool or (tools[0] if tools else None)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if behaviour.kind == "empty":
            message["content"] = ""
        elif behaviour.kind == "content":
            message["content"] = behaviour.text
        else:
            if behaviour.kind == "malformed":
                args = MALFORMED_ARGUMENTS
            else:
                schema = (
                    tool["function"].get("parameters")
                    if tool
                    else (body.get("response_format") or {}).get("schema")
                )
                args = _arguments_text(behaviour.arguments, body, schema)
            if tool is not None:
                name = tool["function"]["name"]
                call = {"id": f"call_{n}", "type": "function", "function": {"name": name}}
                call["function"]["arguments"] = args
                message["tool_calls"] = [call]
                finish = "tool_calls"
            else:
                message["content"] = args
        out_text = message.get("content") or json.dumps(message.get("tool_calls"))
        prompt_tokens, completion_tokens = _tokens(body.get("messages", [])), _tokens(out_text)
        completion = {
            "id": f"chatcmpl-scripted-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return 200, {}, completion


class _OpenAIHandler(BaseHTTPRequestHandler):
    owner: ScriptedOpenAIServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": "scripted", "object": "model", "owned_by": "tests", "created": 0}]
            self._send(200, {}, {"object": "list", "data": data})
        else:
            self._send(
                404, {}, {"error": {"message": "not found", "type": "invalid_request_error"}}
            )

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = None
        script = self.owner.script
        n = script.begin(RecordedRequest("POST", self.path, headers, body))
        try:
            if not self.path.rstrip("/").endswith("/chat/completions"):
                err = {"message": f"no route {self.path}", "type": "invalid_request_error"}
                self._send(404, {}, {"error": err})
                return
            if not isinstance(body, dict) or "messages" not in body or "model" not in body:
                err = {
                    "message": "model and messages are required",
                    "type": "invalid_request_error",
                }
                self._send(400, {}, {"error": err})
                return
            behaviour = script.take()
            if behaviour.kind == "disconnect":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.owner.wait(behaviour.delay_s)
            if self.owner._stopping.is_set():
                return
            status, extra, payload = self.owner.answer(behaviour, body, headers, n)
            self._send(status, extra, payload)
        finally:
            script.end()

    def _send(self, status: int, extra: dict[str, str], payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_scripted_{status}")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timed out) first
            self.close_connection = True
