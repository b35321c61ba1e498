"""What the UI shows, as a function of simulated time.

Stored rows of a run (as-run, ledger, ratings, faults, calls, contracts,
negotiations, messages) go into per-station, time-sorted lists, whether they
come from the store (replay), from a store another process is writing
(attach) or from the live event bus (watch). ``card(station, t)`` answers
"what did this station look like at time t" with binary searches, so live and
replay share one path.

The timeline holds a window of time, not the whole run: ``trim(cutoff)`` folds
the rows before ``cutoff`` into per-station totals (faults, calls, cost) and
keeps only a short tail of each list (``TAIL``: what a card and a pane show at
the window's start). Memory therefore grows with stations, not with time;
``tui.paging`` loads the window a replay needs from the store.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from analysis.measures.tics import catchphrase
from analysis.reader import iter_table, read_run
from economy.airplay import SPOKEN, SegmentKind, SegmentStatus
from economy.billing import BillingFault
from economy.contracts import FINAL_EVENTS, ContractFault
from economy.listeners import MessageOutcome
from sim.clock import SimClock
from sim.text import printable
from stations.records import AsRunRow

# the stored tables the UI shows, ordered so that a station exists before its rows
SHOWN_TABLES = (
    "stations", "asrun", "ledger", "ratings", "faults", "model_calls", "contracts",
    "contract_events", "negotiations", "messages", "replies", "message_outcomes",
)  # fmt: skip
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


def _shown(value: Any) -> Any:
    return printable(value, one_line=True) if isinstance(value, str) else value


class Timeline:
    def __init__(
        self,
        run_id: str = "",
        name: str = "",
        seed: int = 0,
        start: datetime | None = None,
        hours: float = 0.0,
    ) -> None:
        self.run_id = run_id
        self.name = name
        self.seed = seed
        self.clock = SimClock(start or datetime(2026, 1, 5, 6, 0))
        self.hours = hours
        self.stations: dict[str, StationTimeline] = {}
        self.end_s = 0.0  # the latest time any row refers to
        self.start_s = 0.0  # the window's start: rows before it are folded into totals
        self.version = 0  # bumped whenever rows are dropped or reloaded
        self._last_ids: dict[str, int] = {}
        self._loader: Callable[[StationTimeline], None] | None = None

    # -- building -------------------------------------------------------------------------
    def station(self, call_sign: str) -> StationTimeline:
        st = self.stations.get(call_sign)
        if st is None:
            st = self.stations[call_sign] = StationTimeline(call_sign)
        return st

    def apply(self, table: str, row: dict[str, Any]) -> None:
        """Add one stored row (as the recorder writes it).

        Text is made printable here, once, so no control character or escape
        sequence a model or listener wrote ever reaches the terminal.
        """
        handler = _HANDLERS.get(table)
        if handler is not None:
            handler(self, {k: _shown(v) for k, v in row.items()})

    def trim(self, cutoff: float) -> None:
        """Fold every station's rows before ``cutoff`` into totals (see the module doc)."""
        if cutoff <= self.start_s:
            return
        for st in self.stations.values():
            st.trim(cutoff)
        self.start_s = cutoff
        self.version += 1

    def unload(self, start_s: float, loader: Callable[[StationTimeline], None]) -> None:
        """Forget every station's rows; each is read again by ``loader`` when next shown
        (``view``), for the window that starts at ``start_s`` (``tui.paging``)."""
        for st in self.stations.values():
            st.clear_rows()
            st.loaded = False
        self._loader = loader
        self.start_s = start_s
        self.version += 1

    def view(self, call_sign: str) -> StationTimeline:
        """A station's rows, read first if the page it is on has not been read yet."""
        st = self.stations[call_sign]
        if not st.loaded and self._loader is not None:
            st.loaded = True
            self._loader(st)
        return st

    @classmethod
    def of_run(cls, engine: Engine, run_id: str) -> Timeline:
        """An empty timeline for a stored run, its stations and end known; ``tui.paging``
        loads the window to show."""
        run = read_run(engine, run_id).run
        tl = cls(run_id, _shown(run.name), run.seed, datetime.fromisoformat(run.sim_start),
                 run.sim_hours)  # fmt: skip
        for r in iter_table(engine, run_id, "stations"):
            tl.apply("stations", dict(r))
            tl._last_ids["stations"] = r["id"]
        a = AsRunRow.__table__  # type: ignore[attr-defined]
        aired = a.c.status == SegmentStatus.AIRED
        last = select(func.max(a.c.start_s)).where(a.c.run_id == run_id, aired)
        with engine.connect() as conn:
            tl.end_s = conn.execute(last).scalar() or 0.0
        return tl

    @classmethod
    def from_store(cls, engine: Engine, run_id: str) -> Timeline:
        """The whole stored run, every row (for small runs and tests; the UI pages)."""
        tl = cls.of_run(engine, run_id)
        tl.catch_up(engine)
        return tl

    def catch_up(self, engine: Engine) -> int:
        """Load the run's rows written since the last call (attach: another process writes)."""
        added = 0
        for name in SHOWN_TABLES:
            last = self._last_ids.get(name, 0)
            for r in iter_table(engine, self.run_id, name, after_id=last):
                last = r["id"]
                st = self.stations.get(r["station"]) if "station" in r else None
                if st is not None and not st.loaded:  # read with its page when it is shown
                    if name == "asrun" and r["status"] == SegmentStatus.AIRED:
                        self.end_s = max(self.end_s, r["start_s"])
                    continue
                self.apply(name, dict(r))
                added += 1
            self._last_ids[name] = last
        return added

    # -- reading --------------------------------------------------------------------------
    def order(self) -> list[str]:
        return list(self.stations)

    def card(self, call_sign: str, t: float) -> Card:
        st = self.view(call_sign)
        i = bisect_right(st.seg_t, t)
        now = st.segs[i - 1] if i else None
        progress = 0.0
        if now is not None:
            span = max(1e-9, now.end_s - now.start_s)
            progress = min(1.0, max(0.0, (t - now.start_s) / span))
        w = bisect_right(st.words_t, t)
        last_words = (st.words[w - 1].text or "") if w else ""
        b = bisect_right(st.ledger_t, t)
        balance_history = [
            row["balance_after_cents"] for row in st.ledger[max(0, b - SPARK_POINTS) : b]
        ]
        r = bisect_right(st.ratings_t, t)
        aqh_history = [aqh for aqh, _ in st.ratings[max(0, r - SPARK_POINTS) : r]]
        f = bisect_right(st.fault_t, t)
        c = bisect_right(st.call_t, t)
        return Card(
            call_sign=call_sign,
            name=st.name or call_sign,
            model=st.model,
            now=now,
            progress=progress,
            last_words=last_words,
            balance_cents=balance_history[-1] if balance_history else None,
            balance_history=balance_history,
            aqh=st.ratings[r - 1][0] if r else None,
            aqh_history=aqh_history,
            share=st.ratings[r - 1][1] if r else None,
            active_deals=self.active_deals(call_sign, t),
            alerts=self.alerts(call_sign, t, f),
            faults=st.faults_before + f,
            calls=st.calls_before + c,
            cost_usd=st.cost_cum[c - 1] if c else st.cost_before,
        )

    def active_deals(self, call_sign: str, t: float) -> list[str]:
        out = []
        for c in self.view(call_sign).contracts.values():
            if c["signed_s"] <= t < c["end_s"] and not any(
                kind in TERMINAL and at <= t for at, kind in c["events"]
            ):
                out.append(c["sponsor"])
        return out

    def alerts(self, call_sign: str, t: float, faults_upto: int | None = None) -> list[str]:
        st = self.view(call_sign)
        f = bisect_right(st.fault_t, t) if faults_upto is None else faults_upto
        seen = st.alerts_before + Counter(kind for kind, _ in st.faults[:f] if kind in ALERT_FAULTS)
        out = [
            f"{ALERT_FAULTS[k]} ×{n}" if n > 1 else ALERT_FAULTS[k] for k, n in sorted(seen.items())
        ]
        phrase = self.catchphrase(call_sign, t)
        if phrase:
            out.append(f'catchphrase "{phrase[0]}" ×{phrase[1]}')
        return out

    def catchphrase(
        self, call_sign: str, t: float, window: int = CATCHPHRASE_WINDOW, n: int = 3
    ) -> tuple[str, int] | None:
        """The 3-word phrase most repeated in the last ``window`` talk breaks, if said 3+ times."""
        st = self.view(call_sign)
        w = bisect_right(st.words_t, t)
        talk: list[Segment] = []  # the last ``window`` talk breaks (ad reads are not talk)
        i = w
        while i > 0 and len(talk) < window:
            i -= 1
            if st.words[i].kind == SegmentKind.TALK and st.words[i].text:
                talk.append(st.words[i])
        return catchphrase([seg.text or "" for seg in talk], n=n)

    def segments(self, call_sign: str, t: float) -> list[Segment]:
        st = self.view(call_sign)
        return st.segs[: bisect_right(st.seg_t, t)]

    def rows_until(self, call_sign: str, what: str, t: float) -> list[dict[str, Any]]:
        st = self.view(call_sign)
        times, rows = {
            "ledger": (st.ledger_t, st.ledger),
            "calls": (st.call_t, st.calls),
            "messages": (st.message_t, st.messages),
        }[what]
        return rows[: bisect_right(times, t)]

    def answer(self, call_sign: str, message_id: str, t: float) -> str:
        """What the station had said back to a letter or call by ``t`` (or why it declined)."""
        st = self.view(call_sign)
        said = st.replies.get(message_id)
        if said is not None and said[0] <= t:
            return said[1]
        declined = st.declined.get(message_id)
        if declined is not None and declined[0] <= t:
            return f"(declined: {declined[1]})"
        return ""

    def segment_times(self) -> list[float]:
        """Every segment start, all stations, sorted (for stepping through a replay)."""
        return sorted(t for st in self.stations.values() for t in st.seg_t)


# -- row handlers --------------------------------------------------------------------------
def _station(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    st.name, st.provider, st.model = row["name"], row["provider"], row["model"]


def _asrun(tl: Timeline, row: dict[str, Any]) -> None:
    if row["status"] != SegmentStatus.AIRED:
        return
    st = tl.station(row["station"])
    seg = Segment(row["start_s"], row["end_s"], row["kind"], row.get("title"), row.get("artist"),
                  row.get("text"), row["source"], row["status"], row["seq"])  # fmt: skip
    _insert(st.seg_t, st.segs, seg.start_s, seg)
    if seg.kind in SPOKEN and seg.text:
        _insert(st.words_t, st.words, seg.start_s, seg)
    tl.end_s = max(tl.end_s, seg.start_s)


def _ledger(tl: Timeline, row: dict[str, Any]) -> None:
    if row["station"].startswith("sponsor:"):
        return
    st = tl.station(row["station"])
    _insert(st.ledger_t, st.ledger, row["sim_time_s"], row)


def _ratings(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    _insert(st.ratings_t, st.ratings, row["quarter_start_s"] + 900.0, (row["aqh"], row["share"]))


def _fault(tl: Timeline, row: dict[str, Any]) -> None:
    station = row["station"]
    if station and not station.startswith("sponsor:"):  # sponsors' and unknown-id faults
        st = tl.station(station)
        _insert(st.fault_t, st.faults, row["sim_time_s"], (row["kind"], row["detail"]))


def _call(tl: Timeline, row: dict[str, Any]) -> None:
    if row["station"] not in tl.stations:
        return  # sponsors' calls
    st = tl.stations[row["station"]]
    in_order = not st.call_t or row["sim_time_s"] >= st.call_t[-1]
    _insert(st.call_t, st.calls, row["sim_time_s"], row)
    if in_order:
        before = st.cost_cum[-1] if st.cost_cum else st.cost_before
        st.cost_cum.append(before + (row.get("cost_usd") or 0.0))
    else:
        total, st.cost_cum = st.cost_before, []
        for r in st.calls:
            total += r.get("cost_usd") or 0.0
            st.cost_cum.append(total)


def _contract(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    st.contracts[row["contract_id"]] = {
        "sponsor": row["sponsor"],
        "signed_s": row["signed_s"],
        "end_s": row["end_s"],
        "terms": f"{row['spots_per_day']}/day × {row['days']} days at "
        f"${row['price_cents'] / 100:.2f} {'CPM' if row['pricing'] == 'cpm' else 'per spot'}",
        "events": [],
    }


def _contract_event(tl: Timeline, row: dict[str, Any]) -> None:
    contract = tl.station(row["station"]).contracts.get(row["contract_id"])
    if contract is not None and row["kind"] in TERMINAL:  # spots and payments: not shown
        contract["events"].append((row["sim_time_s"], row["kind"]))


def _negotiation(tl: Timeline, row: dict[str, Any]) -> None:
    tl.station(row["station"]).negotiations.append(row)


def _message(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    _insert(st.message_t, st.messages, row["sim_time_s"], row)


def _reply(tl: Timeline, row: dict[str, Any]) -> None:
    tl.station(row["station"]).replies[row["message_id"]] = (row["sim_time_s"], row["text"])


def _outcome(tl: Timeline, row: dict[str, Any]) -> None:
    if row["outcome"] == MessageOutcome.DECLINED:
        st = tl.station(row["station"])
        st.declined[row["message_id"]] = (row["sim_time_s"], row.get("detail") or "")


_HANDLERS = {
    "stations": _station,
    "asrun": _asrun,
    "ledger": _ledger,
    "ratings": _ratings,
    "faults": _fault,
    "model_calls": _call,
    "contracts": _contract,
    "contract_events": _contract_event,
    "negotiations": _negotiation,
    "messages": _message,
    "replies": _reply,
    "message_outcomes": _outcome,
}
