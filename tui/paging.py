"""Loading the part of a stored run that the UI shows, so that memory and load time stay
flat however many stations and however long the run.

A replay holds one page of simulated time (``page_seconds``: shorter the more stations
there are) and loads a station's part of it only when that station is shown: its rows in
the page plus the totals and short tails a card needs from before it
(``tui.timeline.TAIL``). Each load is a handful of queries on the (run, station, …)
indexes, so a jump costs the same in a 3-station day as in a 10,000-station week; the
cards nobody looks at are never read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select

from analysis.reader import STREAM_BATCH, TABLES
from economy.airplay import SPOKEN, SegmentKind, SegmentStatus
from tui.timeline import ALERT_FAULTS, CATCHPHRASE_WINDOW, TAIL, TERMINAL, StationTimeline, Timeline

# table -> the time a row belongs to on the timeline
TIME_COLUMN = {
    "contracts": "signed_s", "asrun": "start_s", "ledger": "sim_time_s",
    "ratings": "quarter_start_s", "faults": "sim_time_s", "model_calls": "sim_time_s",
    "contract_events": "sim_time_s", "negotiations": "sim_time_s", "messages": "sim_time_s",
    "replies": "sim_time_s", "message_outcomes": "sim_time_s",
}  # fmt: skip
RATINGS_SHOWN_AFTER_S = 900.0  # a quarter hour's ratings show once it is over
ROWS_PER_PAGE = 2400.0  # station-hours per page: 24 h for 100 stations, 15 min for 10,000


def page_seconds(stations: int) -> float:
    hours = ROWS_PER_PAGE / max(1, stations)
    return min(24.0, max(0.25, hours)) * 3600.0


def _table(name: str) -> Any:
    return TABLES[name].__table__  # type: ignore[attr-defined]


def _time(name: str) -> tuple[ColumnElement[float], float]:
    """A row's time column and how long after it the row shows: compare the column with
    ``t - shift``, so the database can use its index (a ratings quarter shows once over)."""
    return _table(name).c[TIME_COLUMN[name]], RATINGS_SHOWN_AFTER_S if name == "ratings" else 0.0


def _rows(engine: Engine, query: Any) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        for r in conn.execution_options(yield_per=STREAM_BATCH).execute(query).mappings():
            yield dict(r)


class StationLoader:
    """Reads one station's part of the window ``[lo, hi)`` of a stored run into a timeline:
    first the totals and tails from before ``lo``, then the rows of the window (only rows
    the timeline has not caught up past, when it follows a run being written)."""

    def __init__(self, timeline: Timeline, engine: Engine) -> None:
        self.timeline = timeline
        self.engine = engine
        self.lo = 0.0
        self.hi = math.inf
        self.loads = 0  # station loads (for tests and benches)

    def __call__(self, st: StationTimeline) -> None:
        tl = self.timeline
        lo = self.lo = max(self.lo, tl.start_s)  # following a run: the window moves on
        self._totals(st)
        a = _table("asrun")
        aired = a.c.status == SegmentStatus.AIRED
        said = aired & a.c.kind.in_(SPOKEN) & (a.c.text != "") & a.c.text.is_not(None)
        talk = aired & (a.c.kind == SegmentKind.TALK) & (a.c.text != "")
        tails: list[tuple[str, int, Any]] = [
            ("asrun", TAIL["segs"], aired), ("asrun", TAIL["words"], said),
            ("asrun", CATCHPHRASE_WINDOW, talk), ("ledger", TAIL["ledger"], None),
            ("ratings", TAIL["ratings"], None), ("model_calls", TAIL["calls"], None),
            ("negotiations", TAIL["negotiations"], None), ("messages", TAIL["messages"], None),
        ]  # fmt: skip
        seen: set[tuple[str, int]] = set()
        held: list[str] = []
        for name, keep, where in tails:
            for row in self._tail(st.call_sign, name, keep, where):
                if (name, row["id"]) not in seen:  # a talk break is in three as-run tails
                    seen.add((name, row["id"]))
                    tl.apply(name, row)
                    if name == "messages":
                        held.append(row["message_id"])
        for name in ("replies", "message_outcomes"):  # the answers to the messages kept
            t = _table(name)
            answers = self._of(st.call_sign, t).where(t.c.sim_time_s < lo, t.c.message_id.in_(held))
            for row in _rows(self.engine, answers.order_by(t.c.id)):
                tl.apply(name, row)
        c, e = _table("contracts"), _table("contract_events")
        for row in _rows(self.engine, self._of(st.call_sign, c).where(c.c.signed_s < lo)):
            tl.apply("contracts", row)
        ended = self._of(st.call_sign, e).where(e.c.sim_time_s < lo, e.c.kind.in_(TERMINAL))
        for row in _rows(self.engine, ended.order_by(e.c.id)):
            tl.apply("contract_events", row)
        for name in TIME_COLUMN:
            t, (at, shift) = _table(name), _time(name)
            q = self._of(st.call_sign, t).where(at >= lo - shift)
            if not math.isinf(self.hi):
                q = q.where(at < self.hi - shift)
            last = tl._last_ids.get(name)
            if last is not None:  # following a run: the rest comes with catch_up
                q = q.where(t.c.id <= last)
            for row in _rows(self.engine, q.order_by(t.c.id)):
                tl.apply(name, row)
        st.trim(lo)  # contracts, negotiations and answers older than the tails
        self.loads += 1

    def _of(self, station: str, t: Any) -> Any:
        return select(t).where(t.c.run_id == self.timeline.run_id, t.c.station == station)

    def _tail(self, station: str, name: str, keep: int, where: Any) -> list[dict[str, Any]]:
        """The station's last ``keep`` rows of ``name`` before the window, oldest first."""
        t, (at, shift) = _table(name), _time(name)
        q = self._of(station, t).where(at < self.lo - shift)
        if where is not None:
            q = q.where(where)
        rows = list(_rows(self.engine, q.order_by(at.desc(), t.c.id.desc()).limit(keep)))
        return rows[::-1]

    def _totals(self, st: StationTimeline) -> None:
        """Faults, calls and cost before the window (calls: all but the tail kept as rows)."""
        f, c = _table("faults"), _table("model_calls")
        kinds = (
            select(f.c.kind, func.count())
            .where(f.c.run_id == self.timeline.run_id, f.c.station == st.call_sign)
            .where(f.c.sim_time_s < self.lo)
            .group_by(f.c.kind)
        )
        older = (
            self._of(st.call_sign, c)
            .where(c.c.sim_time_s < self.lo)
            .order_by(c.c.sim_time_s.desc(), c.c.id.desc())
            .offset(TAIL["calls"])
            .subquery()
        )
        calls = select(func.count(), func.sum(older.c.cost_usd))
        with self.engine.connect() as conn:
            for kind, n in conn.execute(kinds):
                st.faults_before += n
                if kind in ALERT_FAULTS:
                    st.alerts_before[kind] += n
            n, cost = conn.execute(calls).one()
            st.calls_before, st.cost_before = n, cost or 0.0


def last_ids(engine: Engine, run_id: str) -> dict[str, int]:
    """The highest row id of each table the timeline shows, for ``run_id`` (0: none)."""
    out = {}
    with engine.connect() as conn:
        for name in TIME_COLUMN:
            t = _table(name)
            out[name] = conn.execute(select(func.max(t.c.id)).where(t.c.run_id == run_id)).scalar()
    return {name: last or 0 for name, last in out.items()}


class Pager:
    """Keeps ``timeline`` holding the page of simulated time that contains the playhead;
    stations load their part of a page when they are first shown (``StationLoader``)."""

    def __init__(self, timeline: Timeline, engine: Engine, page_s: float | None = None) -> None:
        self.timeline = timeline
        self.engine = engine
        self.page_s = page_s or page_seconds(len(timeline.stations))
        self.loader = StationLoader(timeline, engine)
        self.lo = self.hi = -1.0
        self.loads = 0  # pages opened

    def ensure(self, t: float) -> None:
        if self.lo <= t < self.hi:
            return
        self.lo = math.floor(max(0.0, t) / self.page_s) * self.page_s
        self.hi = self.lo + self.page_s
        self.open(self.lo, self.hi)

    def open(self, lo: float, hi: float = math.inf) -> None:
        """Hold ``[lo, hi)`` (from ``lo`` on, if ``hi`` is infinite): every station unloaded,
        each loaded when shown."""
        self.loader.lo, self.loader.hi = lo, hi
        self.timeline.unload(lo, self.loader)
        self.loads += 1

    def next_start(self, t: float, direction: int) -> float | None:
        """The next (or previous) segment start of any station after (before) ``t``."""
        a = _table("asrun")
        edge = func.min(a.c.start_s) if direction > 0 else func.max(a.c.start_s)
        side = a.c.start_s > t if direction > 0 else a.c.start_s < t
        aired = a.c.status == SegmentStatus.AIRED
        q = select(edge).where(a.c.run_id == self.timeline.run_id, aired, side)
        with self.engine.connect() as conn:
            found = conn.execute(q).scalar()
        return None if found is None else float(found)
