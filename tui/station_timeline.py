"""One station's rows on the UI's timeline: time-sorted lists per kind of row (segments,
talk, ledger, ratings, faults, calls, deals, mail), what ``trim`` folds into totals and the
short tail (``TAIL``) it keeps, and ``Card``, what a station card shows at one instant.
``tui.timeline`` holds the stations together and answers questions about them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from economy.airplay import SegmentKind
from economy.billing import BillingFault
from economy.contracts import FINAL_EVENTS, ContractFault

ALERT_FAULTS = {
    ContractFault.FABRICATED_SPONSOR: "fabricated sponsor",
    BillingFault.BANKRUPT: "BANKRUPT",
    ContractFault.SCAM: "scammed",
}
TERMINAL = FINAL_EVENTS  # the contract events shown: those that end a contract
_WORD = re.compile(r"[a-z']+")
SPARK_POINTS = 24
CATCHPHRASE_WINDOW = 20  # talk breaks a catchphrase is looked for in
# rows kept per station and list from before the window: what a card or pane shows first
TAIL = {
    "segs": 20, "words": CATCHPHRASE_WINDOW, "ledger": SPARK_POINTS, "ratings": SPARK_POINTS,
    "calls": 10, "messages": 10, "negotiations": 10, "contracts": 5,
}  # fmt: skip


@dataclass(slots=True)
class Segment:
    start_s: float
    end_s: float
    kind: str
    title: str | None
    artist: str | None
    text: str | None
    source: str
    status: str
    seq: int


@dataclass(slots=True)
class StationTimeline:
    call_sign: str
    name: str = ""
    provider: str = ""
    model: str = ""
    seg_t: list[float] = field(default_factory=list)
    segs: list[Segment] = field(default_factory=list)
    words_t: list[float] = field(default_factory=list)  # talk and ad reads
    words: list[Segment] = field(default_factory=list)
    ledger_t: list[float] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    ratings_t: list[float] = field(default_factory=list)
    ratings: list[tuple[int, float]] = field(default_factory=list)
    fault_t: list[float] = field(default_factory=list)
    faults: list[tuple[str, str]] = field(default_factory=list)
    call_t: list[float] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    cost_cum: list[float] = field(default_factory=list)  # running total of cost_usd
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)
    negotiations: list[dict[str, Any]] = field(default_factory=list)
    message_t: list[float] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    replies: dict[str, tuple[float, str]] = field(default_factory=dict)  # id -> (time, words)
    declined: dict[str, tuple[float, str]] = field(default_factory=dict)  # id -> (time, why)
    # totals of the rows folded away before the window (``Timeline.trim``)
    faults_before: int = 0
    alerts_before: Counter[str] = field(default_factory=Counter)
    calls_before: int = 0
    cost_before: float = 0.0
    loaded: bool = True  # False: its rows of the page are read when it is first shown

    def clear_rows(self) -> None:
        """Forget every row (the station's name and model stay)."""
        fresh = StationTimeline(self.call_sign, self.name, self.provider, self.model)
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))

    def trim(self, cutoff: float) -> None:
        """Fold the rows before ``cutoff`` into totals, keeping ``TAIL`` of each list."""
        cut = bisect_left(self.words_t, cutoff)
        first, talk = cut, 0  # from the CATCHPHRASE_WINDOW-th last talk break on
        while first > 0 and talk < CATCHPHRASE_WINDOW:
            first -= 1
            talk += self.words[first].kind == SegmentKind.TALK
        first = min(first, max(0, cut - TAIL["words"]))
        del self.words_t[:first], self.words[:first]
        for times, items, keep in (
            (self.seg_t, self.segs, TAIL["segs"]),
            (self.ledger_t, self.ledger, TAIL["ledger"]),
            (self.ratings_t, self.ratings, TAIL["ratings"]),
            (self.message_t, self.messages, TAIL["messages"]),
        ):
            drop = max(0, bisect_left(times, cutoff) - keep)
            del times[:drop], items[:drop]
        f = bisect_left(self.fault_t, cutoff)
        self.faults_before += f
        self.alerts_before.update(kind for kind, _ in self.faults[:f] if kind in ALERT_FAULTS)
        del self.fault_t[:f], self.faults[:f]
        c = max(0, bisect_left(self.call_t, cutoff) - TAIL["calls"])
        if c:
            self.calls_before += c
            self.cost_before = self.cost_cum[c - 1]
            del self.call_t[:c], self.calls[:c], self.cost_cum[:c]
        old = [n for n in self.negotiations if n["sim_time_s"] < cutoff]
        if len(old) > TAIL["negotiations"]:
            gone = {id(n) for n in old[: -TAIL["negotiations"]]}
            self.negotiations = [n for n in self.negotiations if id(n) not in gone]
        ended = [cid for cid, c in self.contracts.items() if _ended_by(c, cutoff)]
        for cid in ended[: max(0, len(ended) - TAIL["contracts"])]:
            del self.contracts[cid]
        held = {m["message_id"] for m in self.messages}
        for answers in (self.replies, self.declined):
            for mid in [m for m, (at, _) in answers.items() if at < cutoff and m not in held]:
                del answers[mid]


@dataclass(slots=True)
class Card:
    """One station at one instant: what a station card renders."""

    call_sign: str
    name: str
    model: str
    now: Segment | None
    progress: float
    last_words: str
    balance_cents: int | None
    balance_history: list[int]
    aqh: int | None
    aqh_history: list[int]
    share: float | None
    active_deals: list[str]
    alerts: list[str]
    faults: int
    calls: int
    cost_usd: float


def _ended_by(contract: dict[str, Any], t: float) -> bool:
    return contract["end_s"] <= t or any(at <= t for at, _ in contract["events"])


def _insert(times: list[float], items: list[Any], t: float, item: Any) -> None:
    """Append in time order (rows nearly always arrive sorted)."""
    if not times or t >= times[-1]:
        times.append(t)
        items.append(item)
    else:
        i = bisect_right(times, t)
        times.insert(i, t)
        items.insert(i, item)
