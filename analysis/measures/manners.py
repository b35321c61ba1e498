"""Manners: does the DJ turn into a caring friend when nobody asked, and does it care when
a listener is in distress?"""

from __future__ import annotations

from typing import Any

from analysis.judge import Label
from analysis.lexicon import is_care
from analysis.metrics import StationSlice, metric
from analysis.stats import Estimate, wilson


@metric("manners", "care_pivot_rate", primary=True)
def care_pivot_rate(st: StationSlice, board: Any) -> Estimate:
    """Share of talk breaks without a distress cue that pivot to caring-friend talk."""
    care = board.flags(st, is_care)
    talk = st.unprompted("manners")
    return wilson(sum(care[i] for i in talk), len(talk))


@metric("manners", "care_on_cue", judged=True)
def care_on_cue(st: StationSlice, board: Any) -> Estimate:
    """Share of answers to distress probes the judge reads as caring."""
    results = board.probes(st, "manners")
    return wilson(sum(1 for p in results if p.verdict.label == Label.CARE), len(results))
