"""The tic catalog: phrases a station over-uses against the other stations on the board.

Phrases are word 2- to 4-grams of the DJ's own talk (names masked; answers to
listeners are left out, as their words follow the listener's). Each station's counts
are compared with every other station's by the weighted log-odds ratio with an
informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), the prior being all
stations' talk pooled. A phrase is a tic when z > 3 and it is heard in at least
``MIN_BREAKS`` breaks (and 1% of the station's); a shorter phrase that is part of
a longer tic said nearly as often is folded into it. ``catchphrase`` is the UI's
live badge: the phrase most repeated in the last breaks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.board import NAME
from analysis.metrics import StationSlice, metric
from analysis.stats import log_odds_arrays

Z_MIN = 3.0
MIN_BREAKS = 5
MIN_SHARE = 0.01
PRIOR_TOTAL = 1000.0  # α0: how strongly the pooled talk shrinks a station's rates
TOP = 10
FOLD = 0.8  # a sub-phrase said at most 1/FOLD as often as a longer tic is part of it
_WORD = re.compile(r"[a-z']+")
NAME_TOKEN = NAME.strip("<>")  # what the name mask leaves as a token


def _catalog(board: Any) -> dict[str, list[dict[str, Any]]]:
    if "tics" in board.cache:
        return board.cache["tics"]  # type: ignore[no-any-return]
    from sklearn.feature_extraction.text import CountVectorizer  # heavy: only when needed

    own = {st.key: _own(st, board) for st in board.slices}
    docs = [text for st in board.slices for _, text in own[st.key]]
    out: dict[str, list[dict[str, Any]]] = {st.key: [] for st in board.slices}
    if not docs:
        board.cache["tics"] = out
        return out
    vec = CountVectorizer(ngram_range=(2, 4), token_pattern=r"[a-z0-9']+", min_df=MIN_BREAKS)
    try:
        matrix = vec.fit_transform(docs).tocsc()
    except ValueError:  # no phrase heard MIN_BREAKS times anywhere
        board.cache["tics"] = out
        return out
    phrases = vec.get_feature_names_out()
    named = np.array([NAME_TOKEN in p.split() for p in phrases])  # "<name>": not a phrase
    total = np.asarray(matrix.sum(axis=0)).ravel().astype(float)
    prior = total / total.sum() * PRIOR_TOTAL
    at = 0
    for st in board.slices:
        n = len(own[st.key])
        rows = matrix[at : at + n].tocsc() if n else None
        at += n
        if rows is None:
            continue
        mine = np.asarray(rows.sum(axis=0)).ravel().astype(float)
        breaks = np.diff((rows > 0).tocsc().indptr)  # breaks containing each phrase
        _, z = log_odds_arrays(mine, mine.sum(), total - mine, total.sum() - mine.sum(), prior)
        need = max(MIN_BREAKS, MIN_SHARE * n)
        picked = np.flatnonzero((z > Z_MIN) & (breaks >= need) & ~named)
        found = [
            {"phrase": str(phrases[j]), "z": float(z[j]), "count": int(mine[j]),
             "breaks": int(breaks[j]), "col": j}
            for j in picked
        ]  # fmt: skip
        found = _fold(found)
        found.sort(key=lambda t: (-t["z"], t["phrase"]))
        for tic in found[:TOP]:
            col = rows[:, tic.pop("col")]
            seen = [own[st.key][i][0].start_s for i in col.nonzero()[0]]
            tic["per_day"] = tic["count"] / st.days
            tic["first_seen_s"] = min(seen)
            tic["last_seen_s"] = max(seen)
            out[st.key].append(tic)
    board.cache["tics"] = out
    return out


def _own(st: StationSlice, board: Any) -> list[tuple[Any, str]]:
    """The DJ's own talk (row, masked text): answers echo the listener, not the DJ."""
    texts = board.texts(st)
    return [(r, texts[i]) for i, r in enumerate(st.talk) if not r.ref]


def _fold(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop a phrase contained in a longer one that is said nearly as often."""
    keep = []
    for t in found:
        inside = any(
            t["phrase"] != o["phrase"]
            and f" {t['phrase']} " in f" {o['phrase']} "
            and o["count"] >= FOLD * t["count"]
            for o in found
        )
        if not inside:
            keep.append(t)
    return keep


@metric("tics", "catalog", primary=True)
def tic_catalog(st: StationSlice, board: Any) -> list[dict[str, Any]]:
    """The station's tics: phrase, z, count, breaks, per_day, first and last seen (seconds)."""
    return _catalog(board)[st.key]


def catchphrase(texts: Sequence[str], n: int = 3, min_breaks: int = 3) -> tuple[str, int] | None:
    """The ``n``-word phrase said in the most of ``texts`` (counted once per text), if said in
    ``min_breaks`` or more; ties go to the alphabetically first, so hashing never decides."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = _WORD.findall(text.lower())
        counts.update({" ".join(words[i : i + n]) for i in range(len(words) - n + 1)})
    if not counts:
        return None
    phrase, times = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return (phrase, times) if times >= min_breaks else None
