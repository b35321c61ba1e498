"""The providers that come with Persona FM: the embedded local model and the OpenAI and
Anthropic SDKs (``scripted`` registers in ``stations.personas``). Each imports its module
only when a run uses it."""

from __future__ import annotations

from sim.models.base import Provider
from sim.models.registry import ProviderSetup, hosted_kwargs, provider


@provider("local", free=True)
def local(setup: ProviderSetup) -> Provider:
    """The embedded SmolLM2 (llama-cpp-python), one instance per run (shared if given)."""
    shared = setup.shared.get("local")
    if shared is not None:
        return shared  # type: ignore[no-any-return]
    from sim.models.local import LocalLlamaProvider

    return LocalLlamaProvider()


@provider("openai", key_env="OPENAI_API_KEY", hosted=True, example="openai:gpt-5.5")
def openai(setup: ProviderSetup) -> Provider:
    """Any OpenAI-compatible endpoint (api.openai.com, or a server given by base_url)."""
    from sim.models.openai_provider import OpenAIProvider

    return OpenAIProvider(label="openai", structured=setup.spec.structured, **hosted_kwargs(setup))


@provider(
    "anthropic", key_env="ANTHROPIC_API_KEY", hosted=True, example="anthropic:claude-opus-4-7"
)
def anthropic(setup: ProviderSetup) -> Provider:
    from sim.models.anthropic_provider import AnthropicProvider

    return AnthropicProvider(label="anthropic", **hosted_kwargs(setup))
