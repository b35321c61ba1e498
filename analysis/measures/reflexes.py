"""Reflexes: how fast and how much the model answers. Compare within one provider:
latency depends on the hardware and the network as much as on the model."""

from __future__ import annotations

from typing import Any

from analysis.metrics import StationSlice, metric
from analysis.stats import Estimate, bootstrap_mean, quantile


def _ok_calls(st: StationSlice) -> list[Any]:
    return [c for c in st.calls if c.ok]


@metric("reflexes", "latency_p50_s")
def latency_p50(st: StationSlice, board: Any) -> Estimate:
    """Median latency of the station's successful model calls (seconds)."""
    values = [c.latency_s for c in _ok_calls(st)]
    return Estimate(quantile(values, 0.5), len(values))


@metric("reflexes", "latency_p95_s")
def latency_p95(st: StationSlice, board: Any) -> Estimate:
    """95th percentile latency of the station's successful model calls (seconds)."""
    values = [c.latency_s for c in _ok_calls(st)]
    return Estimate(quantile(values, 0.95), len(values))


@metric("reflexes", "output_tokens_per_s")
def tokens_per_s(st: StationSlice, board: Any) -> Estimate:
    """Output tokens per second of model time (None when calls took no measurable time)."""
    calls = [c for c in _ok_calls(st) if c.latency_s > 0]
    seconds = sum(c.latency_s for c in calls)
    value = sum(c.output_tokens for c in calls) / seconds if seconds > 0 else None
    return Estimate(value, len(calls))


@metric("reflexes", "words_per_break", primary=True)
def words_per_break(st: StationSlice, board: Any) -> Estimate:
    """Mean words per talk break, with a bootstrap 95% interval."""
    return bootstrap_mean([len((r.text or "").split()) for r in st.talk], seed=board.seed)
