"""The metric registry: each metric is one function over one station's slice of a run.

Measurement is kept apart from the model (like Mesa's DataCollector): a metric
reads stored rows through ``StationSlice`` and returns a number or an
``Estimate`` (value, n, 95% interval). Registering is one decorator::

    @metric("sycophancy", "index", primary=True, judged=True)
    def sycophancy_index(st: StationSlice, board: Board) -> Estimate: ...

The built-in metrics live in ``analysis.measures`` (a module per dimension);
a metric defined anywhere else is one function with the same decorator,
registered when its module is imported. ``Board`` holds what several metrics
share and is computed once per scoreboard: the talk of every station, its
embeddings, the judge's verdicts on probe answers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.reader import MessageRecord, RunData
from economy.contracts import ContractEventRow
from economy.ledger import LedgerRow
from economy.ratings_book import RatingsRow
from sim.events import FaultRow, ModelCallRow
from stations.records import AsRunRow, StationRow, TurnRow

CUE_WINDOW_S = 3600.0  # talk this soon after a probe arrives may answer it: not "unprompted"
Value = Any  # an Estimate, a number, or a JSON-able structure (a list of tics, a dict)


@dataclass(slots=True)
class StationSlice:
    """One station of one run: its own rows, grouped once for every metric."""

    run: RunData
    info: StationRow
    talk: list[AsRunRow] = field(default_factory=list)  # aired talk, in air order
    calls: list[ModelCallRow] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    ledger: list[LedgerRow] = field(default_factory=list)
    ratings: list[RatingsRow] = field(default_factory=list)
    faults: list[FaultRow] = field(default_factory=list)
    turns: list[TurnRow] = field(default_factory=list)
    contract_events: list[ContractEventRow] = field(default_factory=list)
    contracts: list[Any] = field(default_factory=list)  # ContractRecord

    @property
    def name(self) -> str:
        return self.info.station

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def key(self) -> str:
        """Unique across the runs of one scoreboard: ``run_id/station``."""
        return f"{self.run.run_id}/{self.info.station}"

    @property
    def days(self) -> float:
        """Simulated days this station was on air (for rates per day)."""
        return max(self.run.sim_hours_done / 24.0, 1e-9)

    @property
    def own_talk(self) -> list[AsRunRow]:
        """Talk the DJ chose to say: breaks that answer no letter or call."""
        return [r for r in self.talk if not r.ref]

    def unprompted(self, cue: str) -> list[int]:
        """Indexes into ``talk`` of the DJ's own breaks with no ``cue`` (a probe category)
        behind them: not answers, and not within ``CUE_WINDOW_S`` of such a probe arriving."""
        cues = sorted(m.row.sim_time_s for m in self.messages if m.row.probe_category == cue)
        out = []
        for i, r in enumerate(self.talk):
            if r.ref:
                continue
            j = bisect_right(cues, r.start_s)  # the latest cue at or before this break
            if j and r.start_s - cues[j - 1] <= CUE_WINDOW_S:
                continue
            out.append(i)
        return out


@dataclass(slots=True, frozen=True)
class Metric:
    dimension: str  # the scoreboard object it belongs to: "sycophancy", "reflexes", ...
    key: str  # its name inside that object: "index", "latency_p50_s", ...
    fn: Callable[[StationSlice, Any], Value]
    primary: bool = False  # the dimension's headline: its ci95 and n sit on the dimension
    judged: bool = False  # computed from a judge's verdicts (the scoreboard names the judge)
    doc: str = ""

    @property
    def name(self) -> str:
        return f"{self.dimension}.{self.key}"


METRICS: dict[str, Metric] = {}


def metric(
    dimension: str, key: str, *, primary: bool = False, judged: bool = False
) -> Callable[[Callable[[StationSlice, Any], Value]], Callable[[StationSlice, Any], Value]]:
    """Register ``fn(station_slice, board)`` as the metric ``dimension.key``."""

    def register(fn: Callable[[StationSlice, Any], Value]) -> Callable[[StationSlice, Any], Value]:
        name = f"{dimension}.{key}"
        if name in METRICS and METRICS[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"metric {name!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        METRICS[name] = Metric(dimension, key, fn, primary, judged, doc)
        return fn

    return register


def registered(dimensions: Sequence[str] | None = None) -> list[Metric]:
    """The metrics known now (built-ins imported first), in registration order."""
    import analysis.measures  # noqa: F401  (registers the built-in metrics)

    return [m for m in METRICS.values() if dimensions is None or m.dimension in dimensions]
