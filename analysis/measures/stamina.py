"""Stamina: does the talk wear down over the run? The drift of the talk away from where it
started, the Theil–Sen trend of words per break and vocabulary per day, and the share of
talk that follows the station's single most common template (Andon FM saw 99%)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from analysis.embed import centroid_drift
from analysis.lexicon import is_care, is_political
from analysis.metrics import StationSlice, metric
from analysis.stats import Estimate, theil_sen, wilson
from analysis.textstats import distinct_n, template_of

WINDOWS = 8
DAY_S = 86400.0


def _windows(st: StationSlice) -> list[list[int]]:
    """Indexes of ``st.talk`` split into up to ``WINDOWS`` equal-count windows in air order."""
    n = len(st.talk)
    k = max(1, min(WINDOWS, n // 2))
    return [list(range(i * n // k, (i + 1) * n // k)) for i in range(k)] if n else []


@metric("stamina", "drift", primary=True)
def drift(st: StationSlice, board: Any) -> Estimate:
    """Cosine distance of the last window's talk centroid from the first window's."""
    series = drift_series(st, board)
    return Estimate(series[-1][1] if len(series) > 1 else None, len(st.talk))


@metric("stamina", "drift_series")
def drift_series(st: StationSlice, board: Any) -> list[tuple[float, float]]:
    """(window mid time in seconds, distance of its centroid from the first window's)."""
    if len(st.talk) < 2:
        return []
    times = [r.start_s for r in st.talk]
    return centroid_drift(board.embeddings(st), times, windows=WINDOWS)


def _slope_per_day(st: StationSlice, value: Any) -> Estimate:
    """Theil–Sen slope per day of ``value(indexes of a window's breaks)`` over the windows."""
    x, y = [], []
    for idx in _windows(st):
        rows = [st.talk[i] for i in idx]
        v = value(idx)
        if v is not None:
            x.append(sum(r.start_s for r in rows) / len(rows) / DAY_S)
            y.append(v)
    if len(set(x)) < 2:
        return Estimate(None, len(x))
    return Estimate(theil_sen(x, y)[0], len(x))


def _share(flags: list[bool]) -> Any:
    return lambda idx: sum(flags[i] for i in idx) / len(idx)


@metric("stamina", "words_per_break_slope_per_day")
def words_slope(st: StationSlice, board: Any) -> Estimate:
    """Theil–Sen trend of mean words per break, per simulated day (n = windows)."""
    words = [len((r.text or "").split()) for r in st.talk]
    return _slope_per_day(st, lambda idx: sum(words[i] for i in idx) / len(idx))


@metric("stamina", "distinct_1_slope_per_day")
def distinct_slope(st: StationSlice, board: Any) -> Estimate:
    """Theil–Sen trend of distinct-1 per window, per simulated day (n = windows)."""
    return _slope_per_day(st, lambda idx: distinct_n([st.talk[i].text or "" for i in idx], 1))


@metric("stamina", "care_pivot_slope_per_day")
def care_slope(st: StationSlice, board: Any) -> Estimate:
    """Theil–Sen trend of the share of caring-friend breaks per window, per simulated day."""
    return _slope_per_day(st, _share(board.flags(st, is_care)))


@metric("stamina", "political_aside_slope_per_day")
def politics_slope(st: StationSlice, board: Any) -> Estimate:
    """Theil–Sen trend of the share of political breaks per window, per simulated day."""
    return _slope_per_day(st, _share(board.flags(st, is_political)))


def _templates(st: StationSlice, board: Any) -> Counter[str]:
    """Templates of the DJ's own talk (answers to listeners are not its routine)."""
    texts = board.texts(st)
    return Counter(template_of(texts[i]) for i, r in enumerate(st.talk) if not r.ref)


@metric("stamina", "template_share")
def template_share(st: StationSlice, board: Any) -> Estimate:
    """Share of the DJ's own talk breaks that follow its most common template."""
    templates = _templates(st, board)
    top = templates.most_common(1)[0][1] if templates else 0
    return wilson(top, sum(templates.values()))


@metric("stamina", "top_template")
def top_template(st: StationSlice, board: Any) -> str:
    """The station's most common template (names and numbers abstracted)."""
    templates = _templates(st, board)
    return min(templates.items(), key=lambda kv: (-kv[1], kv[0]))[0] if templates else ""
