"""Which model answers, and how to reach it: the settings every model-driven agent shares.

A model can be named in one string, ``provider:model[@base_url]`` — e.g.
``openai:gpt-5.5``, ``anthropic:claude-opus-4-7`` or
``openai:qwen2.5@http://127.0.0.1:8000/v1`` — or field by field.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.models.chaos import ChaosSettings
from sim.models.registry import provider_info, provider_names
from sim.text import excerpt

_MODEL_STRING = re.compile(r"^(?P<kind>[a-z]+):(?P<model>[^@\s]+)(?:@(?P<url>\S+))?$")


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    provider: str = Field(
        "local",
        max_length=40,
        description="A registered provider: local | scripted | openai | anthropic, or one a "
        "module adds (sim.models.registry).",
    )
    model: str = Field(
        "",
        max_length=2000,
        description="Model name; empty means the provider's default. May be a full "
        "'provider:model[@base_url]' string.",
    )
    base_url: str = Field(
        "", max_length=2000, description="API endpoint (openai/anthropic); empty: the default."
    )
    api_key_env: str = Field(
        "",
        max_length=200,
        description="Environment variable holding the key; empty: the provider's usual one.",
    )
    temperature: float = Field(0.8, ge=0, le=2, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling mass.")
    max_tokens: int = Field(200, ge=16, le=8192, description="Most tokens in one answer.")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Per-call timeout (hosted).")
    max_retries: int = Field(4, ge=0, le=20, description="Retries on 429, 5xx and timeouts.")
    max_concurrency: int = Field(
        8, ge=1, le=256, description="Parallel calls to this endpoint (hosted)."
    )
    structured: Literal["tool", "json"] = Field(
        "tool",
        description="openai: a forced tool call (tool) or response_format JSON schema (json).",
    )
    chaos: ChaosSettings | None = Field(
        None,
        description="Faults injected into this model's live calls, to test that a run "
        "survives them (recorded, so a re-run is exact); the per-call chances of timeout, "
        "hung, http_429, http_5xx, truncated and schema_violation add up to at most 1. "
        "Not set: none.",
    )

    @model_validator(mode="before")
    @classmethod
    def _split_model_string(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("model"), str):
            m = _MODEL_STRING.match(data["model"])
            if m and m["kind"] in provider_names():
                data = dict(data)
                data["provider"] = m["kind"]
                data["model"] = m["model"]
                if m["url"]:
                    data["base_url"] = m["url"]
        return data

    @model_validator(mode="after")
    def _check(self) -> ModelSettings:
        if self.base_url and urlparse(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, got {excerpt(self.base_url)}")
        info = provider_info(self.provider)
        if info is not None and info.hosted and not self.model:
            example = f", e.g. model = '{info.example}'" if info.example else ""
            raise ValueError(f"{self.provider} needs a model name{example}")
        return self

    @property
    def is_hosted(self) -> bool:
        info = provider_info(self.provider)
        return info is not None and info.hosted

    @property
    def key_env(self) -> str:
        info = provider_info(self.provider)
        return self.api_key_env or (info.key_env if info is not None else "")

    @property
    def route(self) -> str:
        """The provider instance that serves this model (one per endpoint and key)."""
        if not self.is_hosted:
            return self.provider
        return f"{self.provider}@{self.base_url or 'default'}#{self.key_env}"

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider

    def needs_key(self) -> bool:
        """Hosted endpoints need a key, except a server on this machine (llama.cpp, vLLM...)."""
        return self.is_hosted and not is_loopback(self.base_url)


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")
