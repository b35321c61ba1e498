"""The provider interface: a request goes in, a response comes out, never an exception."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class ModelRequest:
    """One structured-turn request.

    ``context`` carries the same observation in structured form for rule-based
    providers; it is not part of the request hash (the text is what a model sees).
    ``route`` names the provider instance (e.g. ``openai@http://127.0.0.1:8000/v1``)
    when stations of one provider kind use different endpoints or keys.
    """

    station: str
    provider: str
    model: str
    system: str
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    context: Any = None
    tool_name: str = "station_turn"  # the forced tool hosted providers fill in
    route: str = ""  # which provider instance serves it (default: ``provider``)
    # "json": an object matching ``schema`` (a forced tool call, a grammar); "text": plain
    # words said on air, ``schema`` a {"type": "string", "maxLength": ...} bound on them.
    output: Literal["json", "text"] = "json"
    # (schema JSON, request hash), computed once: a request is not changed once built
    _fingerprint: tuple[str, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def full_messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, *self.messages]

    def schema_json(self) -> str:
        return canonical_json(self.schema)

    def fingerprint(self) -> tuple[str, str]:
        """The schema as canonical JSON and the request hash, computed on first use (the
        replay, chaos and the dispatcher all need them for every call)."""
        if self._fingerprint is None:
            schema_json = self.schema_json()
            self._fingerprint = (schema_json, self._hash(schema_json))
        return self._fingerprint

    def request_hash(self) -> str:
        """sha256 of everything the model sees."""
        return self.fingerprint()[1]

    def _hash(self, schema_json: str) -> str:
        seen: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "system": self.system,
            "messages": self.messages,
            "params": self.params,
        }
        if self.output != "json":  # json requests hash as they always have (recorded runs)
            seen["output"] = self.output
        head = canonical_json(seen)
        return sha256_text(head + "\n" + schema_json)


@dataclass(slots=True)
class ModelResponse:
    """A model's answer (or a failure, ``ok=False`` with ``error``).

    ``source`` says where it came from: ``"live"`` (a provider answered) or ``"replay"``
    (a recording did, ``sim.models.wrappers.Replaying``). It is provenance, not content:
    not compared, not shown in reprs.
    """

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    ok: bool = True
    error: str | None = None
    finish_reason: str | None = None
    source: Literal["live", "replay"] = field(default="live", compare=False, repr=False)


class Provider(Protocol):
    """A model backend. ``max_concurrency`` bounds parallel calls; 0 or 1: called inline."""

    name: str
    max_concurrency: int

    def complete(self, request: ModelRequest) -> ModelResponse: ...


class HoldsInner:
    """What every wrapper of a provider does with the one it holds (``inner``): passes its
    secrets on (the dispatcher keeps them out of every response) and closes it."""

    inner: Provider

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(getattr(self.inner, "secrets", ()))

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class ProviderError(Exception):
    """Raised by a provider when it cannot be set up (bad model path, missing key...)."""
