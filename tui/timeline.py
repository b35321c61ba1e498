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

One station's rows are a ``tui.station_timeline.StationTimeline``; how each table's
rows are filed is in ``tui.timeline_rows``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from analysis.measures.tics import catchphrase
from analysis.reader import iter_table, read_run
from economy.airplay import SegmentKind, SegmentStatus
from sim.clock import SimClock
from sim.text import printable
from stations.records import AsRunRow
from tui.station_timeline import (
    ALERT_FAULTS,
    CATCHPHRASE_WINDOW,
    SPARK_POINTS,
    TAIL,
    TERMINAL,
    Card,
    Segment,
    StationTimeline,
)
from tui.timeline_rows import HANDLERS

__all__ = [
    "ALERT_FAULTS",
    "CATCHPHRASE_WINDOW",
    "SHOWN_TABLES",
    "SPARK_POINTS",
    "TAIL",
    "TERMINAL",
    "Card",
    "Segment",
    "StationTimeline",
    "Timeline",
]

# the stored tables the UI shows, ordered so that a station exists before its rows
SHOWN_TABLES = (
    "stations", "asrun", "ledger", "ratings", "faults", "model_calls", "contracts",
    "contract_events", "negotiations", "messages", "replies", "message_outcomes",
)  # fmt: skip


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
        handler = HANDLERS.get(table)
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
