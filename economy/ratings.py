"""Nielsen-style ratings from listening sessions (docs/architecture.md: radio domain, with numbers).

Pure numpy functions, small enough to check by hand. A listening session is one
row of four parallel arrays: ``listener`` (int), ``station`` (int index),
``start_s`` and ``end_s`` (simulated seconds, end exclusive).

- AQH persons: listeners with at least 5 minutes with a station within a quarter hour.
- Cume: distinct listeners credited with a station in any quarter hour of a daypart.
- Share: station AQH / all stations' AQH.
- TSL: AQH persons × quarter hours / cume (here in hours: × 0.25).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

QUARTER_S = 900.0
MIN_CREDIT_S = 300.0
# Session seconds add up in float; don't let 299.9999999 miss a 5-minute credit.
_EPS_S = 1e-6


def quarter_hour_credits(
    listener: ArrayLike,
    station: ArrayLike,
    start_s: ArrayLike,
    end_s: ArrayLike,
    q0: float,
    q1: float,
    n_stations: int,
    min_s: float = MIN_CREDIT_S,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """AQH persons per station in ``[q0, q1)`` and the credited (listener, station) keys.

    Each session is clipped to the quarter; seconds add up per (listener, station)
    pair, so two 3-minute visits to one station in a quarter earn a credit. Keys are
    ``listener * n_stations + station`` (int64, unique, sorted).
    """
    lis = np.asarray(listener, dtype=np.int64)
    sta = np.asarray(station, dtype=np.int64)
    s = np.maximum(np.asarray(start_s, dtype=np.float64), q0)
    e = np.minimum(np.asarray(end_s, dtype=np.float64), q1)
    dur = e - s
    inside = dur > 0
    aqh = np.zeros(n_stations, dtype=np.int64)
    if not inside.any():
        return aqh, np.empty(0, dtype=np.int64)
    keys = lis[inside] * n_stations + sta[inside]
    uniq, inverse = np.unique(keys, return_inverse=True)
    seconds = np.bincount(inverse.ravel(), weights=dur[inside], minlength=len(uniq))
    credited = uniq[seconds >= min_s - _EPS_S]
    aqh += np.bincount(credited % n_stations, minlength=n_stations)
    return aqh, credited


def cume(credited_keys: Iterable[NDArray[np.int64]], n_stations: int) -> NDArray[np.int64]:
    """Distinct listeners per station credited in any of the given quarter hours."""
    parts = [np.asarray(k, dtype=np.int64) for k in credited_keys]
    if not parts:
        return np.zeros(n_stations, dtype=np.int64)
    keys = np.unique(np.concatenate(parts))
    return np.bincount(keys % n_stations, minlength=n_stations).astype(np.int64)


def shares(aqh: ArrayLike) -> NDArray[np.float64]:
    """Each station's AQH over all stations' AQH (all zeros when nobody listens).

    Works on one quarter (shape ``[S]``) or many (``[Q, S]``, share within each quarter).
    """
    a = np.asarray(aqh, dtype=np.float64)
    total = a.sum(axis=-1, keepdims=True)
    return np.divide(a, total, out=np.zeros_like(a), where=total > 0)


def tsl_hours(aqh_by_quarter: ArrayLike, cume: ArrayLike) -> NDArray[np.float64]:
    """Time spent listening per cume listener, in hours (0 where cume is 0).

    Nielsen: TSL = average AQH × quarter hours / cume; average AQH × Q is the sum
    of the quarters' AQH.
    """
    a = np.asarray(aqh_by_quarter, dtype=np.float64)
    c = np.asarray(cume, dtype=np.float64)
    quarter_hours = a.sum(axis=0) if a.ndim == 2 else a
    return np.divide(quarter_hours * 0.25, c, out=np.zeros_like(c), where=c > 0)


@dataclass(slots=True, frozen=True)
class Ratings:
    """Ratings over Q quarter hours for S stations."""

    aqh: NDArray[np.int64]  # [Q, S]
    share: NDArray[np.float64]  # [Q, S]
    cume: NDArray[np.int64]  # [S]
    tsl_hours: NDArray[np.float64]  # [S]


def ratings_from_sessions(
    listener: ArrayLike,
    station: ArrayLike,
    start_s: ArrayLike,
    end_s: ArrayLike,
    quarter_starts: ArrayLike,
    n_stations: int,
) -> Ratings:
    """AQH and share per quarter, and cume and TSL over all the quarters given.

    Each quarter is ``[qs, qs + 900)``.
    """
    lis = np.asarray(listener, dtype=np.int64)
    sta = np.asarray(station, dtype=np.int64)
    s = np.asarray(start_s, dtype=np.float64)
    e = np.asarray(end_s, dtype=np.float64)
    qs = np.asarray(quarter_starts, dtype=np.float64).ravel()
    aqh = np.zeros((len(qs), n_stations), dtype=np.int64)
    keys: list[NDArray[np.int64]] = []
    for i, q0 in enumerate(qs):
        aqh[i], credited = quarter_hour_credits(
            lis, sta, s, e, float(q0), float(q0) + QUARTER_S, n_stations
        )
        keys.append(credited)
    c = cume(keys, n_stations)
    return Ratings(aqh=aqh, share=shares(aqh), cume=c, tsl_hours=tsl_hours(aqh, c))
