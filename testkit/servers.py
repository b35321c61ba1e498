"""Servers for provider tests, all on loopback (the test machines have no internet).

* ``llama_server()``: the real OpenAI-compatible ``llama_cpp.server`` serving the
  bundled SmolLM2 GGUF; ``llama_server_fixture()`` wraps it as a pytest fixture.
* ``ScriptedOpenAIServer``: a tiny Chat Completions server; each request gets the
  next scripted ``Behaviour`` (or, once the script is spent, a valid tool call
  after ``delay_s``: the fixed-latency mode for dispatch benchmarks).
* ``ScriptedAnthropic``: an ``httpx2.MockTransport`` handler speaking the Messages
  API wire format, scripted the same way and recording what it was sent.

Usage::

    llama_server_url = llama_server_fixture()  # module level: a session fixture

    def test_x(llama_server_url: str) -> None:
        provider = OpenAIProvider(api_key="sk-local", base_url=llama_server_url)

    with ScriptedOpenAIServer(Behaviour.status(429, retry_after="1"), Behaviour.ok()) as srv:
        provider = OpenAIProvider(api_key="sk-test", base_url=srv.base_url)

    with ScriptedOpenAIServer(delay_s=0.2) as srv:  # every request: a tool call after 0.2 s
        ...
        assert srv.max_in_flight > 1

    mock = ScriptedAnthropic(Behaviour.status(529), Behaviour.ok())
    provider = AnthropicProvider(api_key="sk-ant-test", http_client=mock.client())
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import httpx2

LLAMA_MODEL_ALIAS = "smollm2"

# ---------------------------------------------------------------------------
# The real llama.cpp server
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def llama_server_command(model_path: str | Path, port: int, n_threads: int = 1) -> list[str]:
    """The command line ``llama_server`` runs.

    No ``--chat_format``: the default handler (the GGUF's own chat template)
    honours ``tool_choice`` by compiling the named tool's ``parameters`` into a
    grammar, and ``response_format={"type": "json_object", "schema": ...}`` the
    same way. ``--interrupt_requests False`` keeps concurrent requests from
    cutting each other short. One thread by default: llama.cpp's threads spin
    on barriers, so on a small machine that is also running other work (tests
    in parallel) two threads can be 20x slower than one.
    """
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        LLAMA_MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(n_threads),
        "--n_threads_batch",
        str(n_threads),
        "--interrupt_requests",
        "False",
        "--verbose",
        "False",
    ]


@contextlib.contextmanager
def llama_server(
    model_path: str | Path | None = None,
    *,
    n_threads: int = 1,
    startup_timeout_s: float = 90.0,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield its base URL.

    The URL is ``http://127.0.0.1:PORT/v1`` (the ``base_url`` for the openai SDK);
    the served model is called ``smollm2`` (any model name is accepted). The
    server is terminated on exit; its log goes to a temporary file whose tail is
    shown if it fails to start. ``extra_args`` are appended to the command line
    (e.g. ``["--chat_format", "chatml"]``).
    """
    if model_path is None:
        from sim.models.local import smollm2_path

        model_path = smollm2_path()
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
        prefix="llama-server-", suffix=".log", delete=False
    )
    proc = subprocess.Popen(
        [*llama_server_command(model_path, port, n_threads), *extra_args],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama server exited ({proc.returncode}):\n{_tail(log_file)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama server not up after {startup_timeout_s}s:\n{_tail(log_file)}"
                )
            # URLError and dropped connections are OSErrors: not up yet
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{base_url}/models", timeout=1) as reply,
            ):
                if reply.status == 200:
                    break
            time.sleep(0.2)
        yield base_url
    finally:
        stop_process(proc)
        log_file.close()
        with contextlib.suppress(OSError):
            os.unlink(log_file.name)


def stop_process(proc: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    """Terminate ``proc``; kill it if it has not ended after ``grace_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(log_file: Any, chars: int = 3000) -> str:
    log_file.flush()
    return Path(log_file.name).read_text(errors="replace")[-chars:]


def llama_server_available() -> bool:
    """Whether ``llama_cpp.server`` and its web stack are importable."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings")
    )


def llama_server_fixture(name: str = "llama_server_url", scope: Any = "session") -> Any:
    """A pytest fixture (default name ``llama_server_url``) yielding the server's base URL.

    Assign it at module level: ``llama_server_url = llama_server_fixture()``.
    Skips when ``llama-cpp-python[server]`` is missing, unless ``CI`` is set.
    """

    import pytest

    @pytest.fixture(scope=scope, name=name)
    def _llama_server_url() -> Iterator[str]:
        if not llama_server_available():
            if os.environ.get("CI"):
                pytest.fail("llama-cpp-python[server] is not installed")
            pytest.skip("llama-cpp-python[server] is not installed")
        with llama_server() as url:
            yield url

    return _llama_server_url


# ---------------------------------------------------------------------------
# Scripted behaviours, shared by the OpenAI server and the Anthropic transport
# ---------------------------------------------------------------------------

Kind = Literal["ok", "status", "sleep", "malformed", "empty", "content", "disconnect"]
Arguments = str | dict[str, Any] | Callable[[dict[str, Any]], str | dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the server does with one request. Build with the classmethods."""

    kind: Kind
    delay_s: float = 0.0
    arguments: Arguments | None = None  # ok: the tool arguments/input (default: from the schema)
    status_code: int = 0
    retry_after: str | None = None
    message: str = ""  # status: the error message; "{key}" becomes the key the client sent
    text: str = ""  # content: the plain answer

    @classmethod
    def ok(cls, arguments: Arguments | None = None, delay_s: float = 0.0) -> Behaviour:
        """A forced tool call with ``arguments`` (default: a minimal instance of the schema)."""
        return cls("ok", delay_s=delay_s, arguments=arguments)

    @classmethod
    def status(cls, code: int, retry_after: str | None = None, message: str = "") -> Behaviour:
        """An error response with the provider's error JSON body (and ``Retry-After``)."""
        return cls("status", status_code=code, retry_after=retry_after, message=message)

    @classmethod
    def sleep(cls, seconds: float) -> Behaviour:
        """Answer only after ``seconds`` (longer than the client timeout); Anthropic: a timeout."""
        return cls("sleep", delay_s=seconds)

    @classmethod
    def malformed(cls) -> Behaviour:
        """A tool call whose arguments are not JSON (Anthropic: a non-JSON text block)."""
        return cls("malformed")

    @classmethod
    def empty(cls) -> Behaviour:
        """No tool call and empty content."""
        return cls("empty")

    @classmethod
    def content(cls, text: str) -> Behaviour:
        """A plain-text answer instead of a tool call."""
        return cls("content", text=text)

    @classmethod
    def disconnect(cls) -> Behaviour:
        """Drop the connection without answering (a connection error)."""
        return cls("disconnect")


MALFORMED_ARGUMENTS = '{"talk": "Good evening, listeners", "queue": ["s0'


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any


class _Script:
    """The thread-safe part both scripted servers share: behaviours, records, concurrency."""

    def __init__(
        self, behaviours: tuple[Behaviour, ...], delay_s: float, arguments: Arguments | None
    ) -> None:
        self._script = list(behaviours)
        self._default = Behaviour.ok(arguments, delay_s=delay_s)
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(1)

    def push(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._script.extend(behaviours)

    def begin(self, record: RecordedRequest) -> int:
        """Record a request; return its number (1-based)."""
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return next(self._ids)

    def take(self) -> Behaviour:
        """The next behaviour (requests the API would reject anyway do not use one)."""
        with self._lock:
            return self._script.pop(0) if self._script else self._default

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    @property
    def count(self) -> int:
        """Requests received so far."""
        with self._lock:
            return len(self.requests)

    @property
    def remaining(self) -> int:
        """Scripted behaviours not used yet."""
        with self._lock:
            return len(self._script)


def _client_key(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    return auth.removeprefix("Bearer ").strip() or headers.get("x-api-key", "")


def _arguments_text(arguments: Arguments | None, body: dict[str, Any], schema: Any) -> str:
    value = arguments(body) if callable(arguments) else arguments
    if value is None:
        value = schema_instance(schema if isinstance(schema, dict) else {})
    return value if isinstance(value, str) else json.dumps(value)


def _tokens(obj: Any) -> int:
    return max(1, len(json.dumps(obj) if not isinstance(obj, str) else obj) // 4)


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


class _ScriptedServer:
    """What tests read from a scripted server: the requests it got, and its script."""

    script: _Script

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.script.requests

    @property
    def count(self) -> int:
        return self.script.count

    @property
    def max_in_flight(self) -> int:
        return self.script.max_in_flight

    def push(self, *behaviours: Behaviour) -> None:
        self.script.push(*behaviours)


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


# ---------------------------------------------------------------------------
# A minimal valid instance of a JSON schema (the default tool arguments)
# ---------------------------------------------------------------------------

FILLER = "You're tuned to the finest music on the dial; stay with us, more great songs are next."


def schema_instance(schema: dict[str, Any]) -> Any:
    """The smallest value ``schema`` accepts (the subset ``stations.turn`` uses).

    Enums give their first values (distinct ones for arrays), required strings
    are filler text cut to the length bounds, arrays have ``minItems`` items.
    """
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return schema_instance(schema[key][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props: dict[str, Any] = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {name: schema_instance(props[name]) for name in required if name in props}
    if kind == "array":
        items = schema.get("items", {})
        n = int(schema.get("minItems", 0))
        choices = items.get("enum") if isinstance(items, dict) else None
        if choices:
            return [choices[i % len(choices)] for i in range(n)]
        return [schema_instance(items) for _ in range(n)]
    if kind == "string":
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        if low == 0:
            return ""
        text = FILLER * (low // len(FILLER) + 1)
        return text[: max(low, min(len(FILLER), high if high is not None else len(FILLER)))]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        value = schema.get("minimum", 0)
        return int(value) if kind == "integer" else float(value)
    if kind == "null":
        return None
    return {}


@dataclass(slots=True)
class SleepRecorder:
    """A ``sleep`` stand-in for providers and ``call_with_retries``: records, sleeps ``cap``."""

    cap: float = 0.0
    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.cap > 0:
            time.sleep(min(seconds, self.cap))
