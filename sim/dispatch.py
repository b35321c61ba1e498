"""Model-call dispatch inside the discrete-event engine.

A station yields ``dispatcher.ask(request)``, a SimPy event. The run loop
(``sim.runloop``) lets every process at the current instant raise its requests;
when the next event lies in the future it calls ``flush()``, which sends the
pending requests together (threads, bounded per provider) and then resolves
them in the order they were raised. Wall time per instant is the slowest call,
and the outcome never depends on which call finished first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import simpy
from sqlmodel import SQLModel

from sim.bus import EventBus
from sim.events import BlobStored, Event
from sim.models.base import ModelRequest, ModelResponse, Provider, canonical_json, sha256_text
from sim.store import ModelCallRow


@dataclass(slots=True, frozen=True)
class ModelCalled(Event):
    station: str
    seq: int
    provider: str
    model: str
    system_prompt_sha256: str
    schema_sha256: str
    request_hash: str
    messages_json: str | None
    params_json: str
    response: ModelResponse

    table: ClassVar[type[SQLModel] | None] = ModelCallRow

    def row(self) -> dict[str, Any]:
        r = self.response
        return {
            "seq": self.seq,
            "station": self.station,
            "sim_time_s": self.sim_time,
            "provider": self.provider,
            "model": self.model,
            "system_prompt_sha256": self.system_prompt_sha256,
            "schema_sha256": self.schema_sha256,
            "request_hash": self.request_hash,
            "messages_json": self.messages_json,
            "params_json": self.params_json,
            "response_text": r.text,
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "latency_s": r.latency_s,
            "ok": r.ok,
            "error": r.error,
            "finish_reason": r.finish_reason,
        }


class Dispatcher:
    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        providers: Mapping[str, Provider],
        record_requests: bool = True,
    ) -> None:
        self.env = env
        self.bus = bus
        self.providers = dict(providers)
        self.record_requests = record_requests
        self.calls = 0
        self._pending: list[tuple[ModelRequest, simpy.Event]] = []
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._seen_blobs: set[str] = set()

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def ask(self, request: ModelRequest) -> simpy.Event:
        event = self.env.event()
        self._pending.append((request, event))
        return event

    def flush(self) -> None:
        batch, self._pending = self._pending, []
        responses = self._execute([req for req, _ in batch])
        for (request, event), response in zip(batch, responses, strict=True):
            self._publish(request, response)
            event.succeed(response)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools.clear()

    def _execute(self, requests: list[ModelRequest]) -> list[ModelResponse]:
        results: list[ModelResponse | Future[ModelResponse] | None] = [None] * len(requests)
        for i, request in enumerate(requests):
            provider = self.providers.get(request.provider)
            if provider is None:
                results[i] = ModelResponse(
                    text="", ok=False, error=f"unknown provider {request.provider!r}"
                )
            elif provider.max_concurrency <= 1 or len(requests) == 1:
                results[i] = _call(provider, request)
            else:
                results[i] = self._pool(provider).submit(_call, provider, request)
        return [r.result() if isinstance(r, Future) else r for r in results]  # type: ignore[union-attr,misc]

    def _pool(self, provider: Provider) -> ThreadPoolExecutor:
        pool = self._pools.get(provider.name)
        if pool is None:
            pool = self._pools[provider.name] = ThreadPoolExecutor(
                max_workers=provider.max_concurrency, thread_name_prefix=f"model-{provider.name}"
            )
        return pool

    def _blob(self, text: str, store: bool = True) -> str:
        """The text's sha256; the text itself is stored once per run if ``store``."""
        sha = sha256_text(text)
        if store and sha not in self._seen_blobs:
            self._seen_blobs.add(sha)
            self.bus.publish(BlobStored(self.env.now, sha, text))
        return sha

    def _publish(self, request: ModelRequest, response: ModelResponse) -> None:
        self.calls += 1
        schema_json = request.schema_json()
        self.bus.publish(
            ModelCalled(
                sim_time=self.env.now,
                station=request.station,
                seq=self.calls,
                provider=request.provider,
                model=request.model,
                system_prompt_sha256=self._blob(request.system),
                schema_sha256=self._blob(schema_json, store=self.record_requests),
                request_hash=request.request_hash(schema_json),
                messages_json=json.dumps(request.messages, ensure_ascii=False)
                if self.record_requests
                else None,
                params_json=canonical_json(request.params),
                response=response,
            )
        )


def _call(provider: Provider, request: ModelRequest) -> ModelResponse:
    try:
        return provider.complete(request)
    except Exception as exc:  # a provider failure is a fault, never a crash
        return ModelResponse(text="", ok=False, error=f"{type(exc).__name__}: {exc}")
