"""What the scripted servers share: ``Behaviour`` (what to do with one request), the
thread-safe script that hands behaviours out and records the requests (``_Script``), what
tests read from a scripted server (``_ScriptedServer``), and ``schema_instance``, the
smallest value a tool's JSON schema accepts (the default tool arguments).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

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
