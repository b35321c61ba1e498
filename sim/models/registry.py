"""The provider registry: a provider is one module that registers a factory by name, in
the spirit of Inspect's ``@modelapi``.

    @provider("toy", key_env="TOY_API_KEY", hosted=True, example="toy:small-1")
    def toy(setup: ProviderSetup) -> Provider:
        from mypackage.toy import ToyProvider  # imported only when a run uses it
        return ToyProvider(**hosted_kwargs(setup))

The scenario validator (which names exist, which need a model name), the key check
(which variable holds the key, whether one is needed), the dry run and the price lookup
(which cost nothing) ask the registry. Behaviour that applies to any provider (retries
for those that make single attempts, like the SDK-backed ones; concurrency limits, cost
caps, recording and replay, chaos) is composed around the provider it returns, never
built into one (``sim.models.wrappers``). The built-in providers register in
``sim.models.builtin``, loaded on first use; ``scripted`` registers in
``stations.personas``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.models.base import Provider, ProviderError

BUILTIN_MODULES = ("sim.models.builtin",)  # imported on first use of the registry


@dataclass(frozen=True, slots=True)
class ProviderSetup:
    """What a factory gets: the model's settings (a ``ModelSettings``), the run seed, the
    key read from the environment, the callers it will serve, an HTTP transport to send
    through (chaos) and instances the run shares (the local model)."""

    spec: Any
    run_seed: int
    api_key: str = ""
    callers: Mapping[str, Any] = field(default_factory=dict)  # call sign -> its settings
    transport: Any = None
    shared: Mapping[str, Any] = field(default_factory=dict)


Factory = Callable[[ProviderSetup], Provider]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    factory: Factory
    key_env: str = ""  # the variable that usually holds its key ("": it takes none)
    hosted: bool = False  # reached over HTTP: needs a model name and (off loopback) a key
    example: str = ""  # a model string to show in messages
    free: bool = False  # costs nothing whatever the price table says (no price needed)


_REGISTRY: dict[str, ProviderInfo] = {}


def provider(
    name: str, *, key_env: str = "", hosted: bool = False, example: str = "", free: bool = False
) -> Callable[[Factory], Factory]:
    """Register the decorated factory as provider ``name`` (the last registration wins)."""

    def register(factory: Factory) -> Factory:
        _REGISTRY[name] = ProviderInfo(name, factory, key_env, hosted, example, free)
        return factory

    return register


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def provider_names() -> tuple[str, ...]:
    _load_builtins()
    return tuple(_REGISTRY)


def provider_info(name: str) -> ProviderInfo | None:
    _load_builtins()
    return _REGISTRY.get(name)


def build_provider(setup: ProviderSetup) -> Provider:
    """The provider ``setup.spec`` names, made by its registered factory."""
    info = provider_info(setup.spec.provider)
    if info is None:
        known = ", ".join(provider_names())
        raise ProviderError(f"unknown provider {setup.spec.provider!r} (known: {known})")
    return info.factory(setup)


def hosted_kwargs(setup: ProviderSetup) -> dict[str, Any]:
    """The settings every SDK-backed provider takes, from ``setup`` (its HTTP through the
    chaos transport when there is one, so the retries wrapped around it answer its faults).
    Retries are not among them: ``sim.models.wrappers.wrap_route`` composes them."""
    spec = setup.spec
    common: dict[str, Any] = {
        "api_key": setup.api_key,
        "base_url": spec.base_url or None,
        "max_concurrency": spec.max_concurrency,
        "timeout_s": spec.timeout_s,
    }
    if setup.transport is not None:
        import httpx2

        common["http_client"] = httpx2.Client(
            transport=setup.transport, timeout=spec.timeout_s, follow_redirects=True
        )
    return common
