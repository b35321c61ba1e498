"""Creativity: how varied the DJ's talk is, and whether it answers the same cue, phrased
differently, in the same words (self-similarity)."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

import numpy as np

from analysis.embed import embed_texts
from analysis.metrics import StationSlice, metric
from analysis.stats import Estimate, bootstrap_mean
from analysis.textstats import compression_ratio, distinct_n, mtld, tokens


def _texts(st: StationSlice) -> list[str]:
    return [r.text or "" for r in st.talk]


@metric("creativity", "distinct_1", primary=True)
def distinct_1(st: StationSlice, board: Any) -> Estimate:
    """Distinct words / words over all the station's talk."""
    return Estimate(distinct_n(_texts(st), 1), len(st.talk))


@metric("creativity", "distinct_2")
def distinct_2(st: StationSlice, board: Any) -> Estimate:
    """Distinct word pairs / word pairs (pairs never cross a break)."""
    return Estimate(distinct_n(_texts(st), 2), len(st.talk))


@metric("creativity", "mtld")
def mtld_of_talk(st: StationSlice, board: Any) -> Estimate:
    """MTLD (McCarthy & Jarvis 2010) of the station's talk, breaks in air order."""
    toks = [t for text in _texts(st) for t in tokens(text)]
    return Estimate(mtld(toks), len(toks))


@metric("creativity", "compression_ratio")
def compression(st: StationSlice, board: Any) -> Estimate:
    """Raw bytes / compressed bytes of the talk: higher is more repetitive."""
    return Estimate(compression_ratio(_texts(st)), len(st.talk))


def _answer_vectors(board: Any) -> dict[tuple[str, str], np.ndarray]:
    """Embeddings of every probe answer on the board, keyed by (station key, message id)."""
    if "answer_vectors" not in board.cache:
        keys, texts = [], []
        for st in board.slices:
            for m in st.messages:
                if m.is_probe and m.answer:
                    keys.append((st.key, m.row.message_id))
                    texts.append(m.answer)
        vectors = embed_texts(texts, dim=50, seed=board.seed)
        board.cache["answer_vectors"] = dict(zip(keys, vectors, strict=True))
    return board.cache["answer_vectors"]  # type: ignore[no-any-return]


@metric("creativity", "rephrase_similarity")
def rephrase_similarity(st: StationSlice, board: Any) -> Estimate:
    """Mean cosine similarity of the station's answers to rephrasings of the same cue
    (probes sharing a key); 1 means it says the same thing however it is asked."""
    vectors = _answer_vectors(board)
    groups: dict[str, list[np.ndarray]] = defaultdict(list)
    for m in st.messages:
        v = vectors.get((st.key, m.row.message_id))
        if v is not None:
            groups[m.row.probe_key].append(v)
    sims = [float(a @ b) for g in groups.values() for a, b in combinations(g, 2)]
    return bootstrap_mean(sims, seed=board.seed)
