"""What every hosted-API provider shares: setup checks, single attempts, failure text.

A subclass builds the SDK call (``request_kwargs``, ``_send``), says which
errors are worth retrying (``classify``) and reads the answer (``_read``).
A ``HostedProvider`` makes one attempt per call; retries are a wrapper composed
around it (``sim.models.wrappers.Retry``, through :class:`~sim.models.retry.Attempts`,
which it implements). ``complete`` never raises: a failed call becomes a response
with ``ok=False`` and an error that names the exception, status and attempts, never
the key.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import httpx2

from sim.models.base import ModelRequest, ModelResponse, ProviderError
from sim.models.retry import NO_RETRY, complete_with_retries, describe_failure

NO_KEY = "not-needed"  # what a loopback server that checks no key is sent
TOOL_DESCRIPTION = "Submit your next turn on air as the station's DJ. Fill in every field."


class HostedProvider:
    default_label: ClassVar[str] = "hosted"
    missing_key_hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        label: str | None = None,
        max_concurrency: int = 8,
        timeout_s: float = 60.0,
        http_client: httpx2.Client | None = None,
    ) -> None:
        label = label or self.default_label
        if not api_key or not api_key.strip():
            raise ProviderError(f"the {label} provider needs an api_key{self.missing_key_hint}")
        if timeout_s <= 0:
            raise ProviderError("timeout_s must be positive")
        self.name = label
        self.max_concurrency = max_concurrency
        self.base_url = base_url
        self._api_key = api_key
        self._client: Any = self._make_client(api_key, base_url, timeout_s, http_client)

    # -- what a subclass provides ------------------------------------------------------------
    # the SDK's client class (``openai.OpenAI``, ``anthropic.Anthropic``)
    client_class: Any = None

    def _make_client(
        self, api_key: str, base_url: str | None, timeout_s: float, http_client: Any
    ) -> Any:
        """The SDK client, with the SDK's own retries off (the ``Retry`` wrapper retries)."""
        return self.client_class(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
            http_client=http_client,
        )

    def request_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        raise NotImplementedError

    def _send(self, kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    @staticmethod
    def classify(exc: BaseException) -> tuple[bool, float | None]:
        raise NotImplementedError

    def _read(self, request: ModelRequest, answer: Any) -> tuple[str, int, int, str | None]:
        """(text, input tokens, output tokens, finish reason) of an SDK answer."""
        raise NotImplementedError

    # -- single attempts (``sim.models.retry.Attempts``) -------------------------------------
    def prepare(self, request: ModelRequest) -> dict[str, Any]:
        return self.request_kwargs(request)

    def send(self, prepared: dict[str, Any]) -> Any:
        return self._send(prepared)

    def read(self, request: ModelRequest, answer: Any) -> tuple[str, int, int, str | None]:
        return self._read(request, answer)

    def failure(self, exc: BaseException, attempts: int) -> str:
        return describe_failure(exc, attempts, self._api_key)

    # -- shared ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the SDK client's connection pool (and a passed ``http_client``)."""
        self._client.close()

    @property
    def secrets(self) -> tuple[str, ...]:
        """What the dispatcher must keep out of every stored response (the key)."""
        return () if self._api_key == NO_KEY else (self._api_key,)

    def __repr__(self) -> str:  # keeps the key out of reprs and logs
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"

    def complete(self, request: ModelRequest) -> ModelResponse:
        """One attempt (wrap in ``sim.models.wrappers.Retry`` for more)."""
        return complete_with_retries(self, request, NO_RETRY, rng=random.Random(0))
