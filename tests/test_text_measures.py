"""Reference values for the text measures (``analysis.textstats``) and the talk embeddings
(``analysis.embed``), the building blocks the scoreboard's creativity and stamina rest on.

Small cases are worked by hand in the comments; randomised checks use fixed seeds and small
sizes so the whole file runs in a few seconds.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from analysis.embed import centroid_drift, embed_texts, map_2d
from analysis.textstats import (
    compression_ratio,
    distinct_n,
    mtld,
    ngrams,
    template_of,
    tokens,
)

# --- text measures -----------------------------------------------------------------------------


def test_tokens_and_ngrams() -> None:
    assert tokens("Don't STOP 'til 9 o'clock! ''") == ["don't", "stop", "til", "9", "o'clock"]
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a"], 2) == []


def test_distinct_n() -> None:
    # "a b a b": bigrams ab, ba, ab → 2 distinct of 3
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    # no bigram spans texts: "a b" + "b a" → ab, ba → 2/2 (not ab, bb, ba)
    assert distinct_n(["a b", "b a"], 2) == 1.0
    assert distinct_n(["a", ""], 2) is None
    assert distinct_n(["A a"], 1) == 0.5


def _mtld_slow(toks: list[str], threshold: float = 0.72) -> float | None:
    """Independent MTLD: recompute each segment's TTR from its slice."""

    def factors(seq: list[str]) -> float:
        count, start = 0.0, 0
        for end in range(1, len(seq) + 1):
            seg = seq[start:end]
            if len(set(seg)) / len(seg) <= threshold:
                count += 1
                start = end
        rest = seq[start:]
        ttr = len(set(rest)) / len(rest) if rest else 1.0
        return count + (1 - ttr) / (1 - threshold)

    if len(toks) < 10:
        return None
    f, b = factors(toks), factors(toks[::-1])
    if f == 0 or b == 0:
        return None
    return (len(toks) / f + len(toks) / b) / 2


def test_mtld_by_hand() -> None:
    # "a b a b a b a b a b": each way, TTR hits 2/3 ≤ 0.72 at every 3rd token → 3 factors,
    # leftover "b" (TTR 1) adds 0 → 10/3 both ways.
    assert mtld(["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"]) == pytest.approx(10 / 3)
    # "a b a | a b a | a b a | a b c a": forward 3 factors + leftover TTR 3/4 → 0.25/0.28,
    # 13/3.892857 = 3.33945. Backward "a c b a a | b a a | b a a | b a": TTR 3/5 = 0.6 closes
    # the first, 2/3 the next two, leftover "b a" TTR 1 → 13/3 = 4.33333. Mean 3.83639.
    toks = ["a", "b", "a", "a", "b", "a", "a", "b", "a", "a", "b", "c", "a"]
    assert mtld(toks) == pytest.approx(3.836391, abs=1e-6)
    assert mtld(toks) == pytest.approx(_mtld_slow(toks))


def test_mtld_against_slow_reference() -> None:
    rng = np.random.default_rng(16)
    for size in (10, 37, 120):
        for vocab in (3, 12, 60):
            toks = [f"w{i}" for i in rng.integers(0, vocab, size=size)]
            expected = _mtld_slow(toks)
            got = mtld(toks)
            assert (got is None and expected is None) or got == pytest.approx(expected)
    assert mtld(["a", "b", "c"]) is None  # fewer than 10 tokens
    assert mtld([f"w{i}" for i in range(12)]) is None  # all distinct: no factor


def test_compression_ratio() -> None:
    assert compression_ratio([]) is None
    assert compression_ratio([""]) is None
    texts = ["hello there", "hello again"]
    data = b"hello there\nhello again"
    assert compression_ratio(texts) == len(data) / len(zlib.compress(data, 9))
    rng = np.random.default_rng(17)
    varied = [" ".join(f"w{i}" for i in rng.integers(0, 5000, size=20)) for _ in range(50)]
    canned = ["Great song, you are listening to the best station in town."] * 50
    ratio_canned, ratio_varied = compression_ratio(canned), compression_ratio(varied)
    assert ratio_canned is not None and ratio_varied is not None
    assert ratio_canned > 3 * ratio_varied


def test_template_of() -> None:
    shape = "{tic} {song} is in the books. Next up, {next}. {tic}"
    songs = [
        ("Hey Jude", "Bohemian Rhapsody by Queen"),
        ("Stairway to Heaven", "Africa by Toto"),
        ("Purple Rain", "Smells Like Teen Spirit by Nirvana"),
        ("Dancing Queen", "Take On Me by A-ha"),
    ]
    templates = {template_of(shape.format(tic="Stay tuned!", song=s, next=n)) for s, n in songs}
    assert templates == {"stay tuned <name> is in the books next up <name> stay tuned"}
    assert template_of("It's 7:45 on 98.7 KXRP and I'm Nova.") == (
        "it's <n> on <n> <name> and i'm <name>"
    )
    assert template_of("  ") == ""


# --- embeddings --------------------------------------------------------------------------------


def test_embed_texts_shapes_and_similarity() -> None:
    texts = [
        "great song on the morning show",
        "great song on the evening show",
        "weather today is sunny and warm",
        "weather today is rainy and cold",
        "call the station to win tickets",
        "call the station for free tickets",
    ]
    emb = embed_texts(texts, dim=3, seed=0)
    assert emb.shape == (6, 3)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] and sims[2, 3] > sims[2, 4]
    assert np.array_equal(emb, embed_texts(texts, dim=3, seed=0))


def test_embed_texts_degenerate() -> None:
    assert embed_texts([]).shape == (0, 1)
    assert np.array_equal(embed_texts(["only one"]), np.zeros((1, 1)))
    assert np.array_equal(embed_texts(["!!!", "..."]), np.zeros((2, 1)))  # no vocabulary
    # 25 texts (min_df = 2) of which no word repeats: nothing survives pruning
    unique = [f"word{i}" for i in range(25)]
    assert np.array_equal(embed_texts(unique), np.zeros((25, 1)))


def test_map_2d() -> None:
    rng = np.random.default_rng(18)
    x = rng.normal(size=(60, 5)) * np.array([5.0, 2.0, 0.5, 0.1, 0.1])
    xy = map_2d(x)
    assert xy.shape == (60, 2)
    assert np.allclose(xy.mean(axis=0), 0.0)
    assert xy[:, 0].var() > xy[:, 1].var()
    # sign convention: the loadings are fixed, so the map follows the data's dominant axis
    # (column 0) and negating the data negates the map instead of being undone by the SVD
    assert np.corrcoef(xy[:, 0], x[:, 0])[0, 1] > 0.9
    assert np.allclose(map_2d(-x), -xy)
    assert map_2d(np.zeros((0, 3))).shape == (0, 2)
    assert np.array_equal(map_2d(np.ones((1, 3))), np.zeros((1, 2)))


def test_centroid_drift() -> None:
    # 16 rows: early ones point along e1, late ones along e2, given in shuffled time order
    times = np.arange(16.0)
    x = np.array([[1.0, 0.0] if t < 8 else [0.0, 1.0] for t in times])
    order = np.random.default_rng(19).permutation(16)
    drift = centroid_drift(x[order], list(times[order]), windows=4)
    # windows of 4 rows: t 0–3, 4–7, 8–11, 12–15 → mids 1.5, 5.5, 9.5, 13.5
    assert [m for m, _ in drift] == [1.5, 5.5, 9.5, 13.5]
    assert [d for _, d in drift] == pytest.approx([0.0, 0.0, 1.0, 1.0])
    # 5 rows and 8 windows asked → 5 // 2 = 2 windows of 3 and 2 rows
    assert len(centroid_drift(x[:5], list(times[:5]), windows=8)) == 2
    assert len(centroid_drift(x[:1], [0.0])) == 1
    assert centroid_drift(np.zeros((0, 2)), []) == []
