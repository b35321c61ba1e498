"""Loading the window of a stored run that the UI shows, so that memory stays flat.

A replay holds one page of simulated time (``page_seconds``: shorter the more
stations there are) plus, per station, the totals and short tails a card needs
from before it (``tui.timeline.TAIL``). ``load_window`` reads both from the store:
the tails with a window function (the last rows per station), the totals with
``GROUP BY``. Playing on into the next page reads just that page and trims the
old one away; a jump anywhere else reloads. Both give the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, not_, select

from analysis.reader import STREAM_BATCH, TABLES
from tui.timeline import ALERT_FAULTS, CATCHPHRASE_WINDOW, TAIL, Timeline

# table -> the time a row belongs to on the timeline
TIME_COLUMN = {
    "contracts": "signed_s", "asrun": "start_s", "ledger": "sim_time_s",
    "ratings": "quarter_start_s",
    "faults": "sim_time_s", "model_calls": "sim_time_s", "contract_events": "sim_time_s",
    "negotiations": "sim_time_s", "messages": "sim_time_s", "replies": "sim_time_s",
    "message_outcomes": "sim_time_s",
}  # fmt: skip
RATINGS_SHOWN_AFTER_S = 900.0  # a quarter hour's ratings show once it is over
ROWS_PER_PAGE = 2400.0  # station-hours per page: 24 h for 100 stations, 15 min for 10,000


def page_seconds(stations: int) -> float:
    hours = ROWS_PER_PAGE / max(1, stations)
    return min(24.0, max(0.25, hours)) * 3600.0


def _table(name: str) -> Any:
    return TABLES[name].__table__  # type: ignore[attr-defined]


def _time(name: str) -> ColumnElement[float]:
    column = _table(name).c[TIME_COLUMN[name]]
    return column + RATINGS_SHOWN_AFTER_S if name == "ratings" else column


def _rows(engine: Engine, query: Any) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        for r in conn.execution_options(yield_per=STREAM_BATCH).execute(query).mappings():
            yield dict(r)


def _ranked(run_id: str, name: str, before: float, where: Any = None) -> Any:
    """``name``'s rows before ``before``, each with ``_rank``: 1 for a station's last."""
    t, at = _table(name), _time(name)
    rank = func.row_number().over(partition_by=t.c.station, order_by=(at.desc(), t.c.id.desc()))
    q = select(t, at.label("_at"), rank.label("_rank")).where(t.c.run_id == run_id, at < before)
    return q if where is None else q.where(where)


def _tails(
    engine: Engine, run_id: str, name: str, before: float, keep: int, where: Any = None
) -> Iterator[dict[str, Any]]:
    """Each station's last ``keep`` rows of ``name`` before ``before``, oldest first."""
    ranked = _ranked(run_id, name, before, where).subquery()
    columns = [ranked.c[c.name] for c in _table(name).c]
    query = select(*columns).where(ranked.c._rank <= keep).order_by(ranked.c._at, ranked.c.id)
    yield from _rows(engine, query)


def _span(engine: Engine, run_id: str, name: str, lo: float, hi: float) -> Iterator[dict[str, Any]]:
    t, at = _table(name), _time(name)
    q = select(t).where(t.c.run_id == run_id, at >= lo)
    if not math.isinf(hi):
        q = q.where(at < hi)
    yield from _rows(engine, q.order_by(t.c.id))


def _fold_totals(tl: Timeline, engine: Engine, before: float) -> None:
    """Faults, calls and cost before the window (calls: all but the tail kept as rows)."""
    f = _table("faults")
    q = (
        select(f.c.station, f.c.kind, func.count())
        .where(f.c.run_id == tl.run_id, f.c.sim_time_s < before)
        .group_by(f.c.station, f.c.kind)
    )
    ranked = _ranked(tl.run_id, "model_calls", before).subquery()
    calls = (
        select(ranked.c.station, func.count(), func.sum(ranked.c.cost_usd))
        .where(ranked.c._rank > TAIL["calls"])
        .group_by(ranked.c.station)
    )
    with engine.connect() as conn:
        for station, kind, n in conn.execute(q):
            st = tl.stations.get(station)
            if st is not None:
                st.faults_before += n
                if kind in ALERT_FAULTS:
                    st.alerts_before[kind] += n
        for station, n, cost in conn.execute(calls):
            st = tl.stations.get(station)
            if st is not None:
                st.calls_before, st.cost_before = n, cost or 0.0


def load_window(tl: Timeline, engine: Engine, lo: float, hi: float = math.inf) -> None:
    """Replace what ``tl`` holds by the window ``[lo, hi)`` of its stored run and, from
    before it, the totals and tails a trimmed timeline keeps."""
    tl.clear_rows()
    run = tl.run_id
    _fold_totals(tl, engine, lo)
    a = _table("asrun")
    aired = a.c.status == "aired"
    said = aired & a.c.kind.in_(("talk", "ad")) & (a.c.text != "") & a.c.text.is_not(None)
    sponsor = _table("ledger").c.station.startswith("sponsor:")
    tails: list[tuple[str, int, Any]] = [
        ("asrun", TAIL["segs"], aired), ("asrun", TAIL["words"], said),
        ("ledger", TAIL["ledger"], not_(sponsor)), ("ratings", TAIL["ratings"], None),
        ("asrun", CATCHPHRASE_WINDOW, aired & (a.c.kind == "talk") & (a.c.text != "")),
        ("model_calls", TAIL["calls"], None), ("negotiations", TAIL["negotiations"], None),
        ("messages", TAIL["messages"], None),
    ]  # fmt: skip
    seen: set[tuple[str, int]] = set()
    for name, keep, where in tails:
        for row in _tails(engine, run, name, lo, keep, where):
            if (name, row["id"]) not in seen:  # a talk break is in several as-run tails
                seen.add((name, row["id"]))
                tl.apply(name, row)
    held = _ranked(run, "messages", lo).subquery()
    held_ids = select(held.c.message_id).where(held.c._rank <= TAIL["messages"])
    for name in ("replies", "message_outcomes"):  # the answers to the messages kept
        t = _table(name)
        answers = select(t).where(
            t.c.run_id == run, t.c.sim_time_s < lo, t.c.message_id.in_(held_ids)
        )
        for row in _rows(engine, answers.order_by(t.c.id)):
            tl.apply(name, row)
    c, e = _table("contracts"), _table("contract_events")
    signed = select(c).where(c.c.run_id == run, c.c.signed_s < lo).order_by(c.c.id)
    for row in _rows(engine, signed):
        tl.apply("contracts", row)
    ended = e.c.kind.in_(("completed", "cancelled", "scam"))
    for row in _rows(engine, select(e).where(e.c.run_id == run, e.c.sim_time_s < lo, ended)):
        tl.apply("contract_events", row)
    load_span(tl, engine, lo, hi)
    tl.trim(lo)  # contracts, negotiations and answers older than the tails
    tl.start_s = lo


def load_span(tl: Timeline, engine: Engine, lo: float, hi: float = math.inf) -> None:
    """Add the rows of ``[lo, hi)`` (all of them from ``lo`` on, if ``hi`` is infinite)."""
    for name in TIME_COLUMN:
        last = tl._last_ids.get(name, 0)
        for row in _span(engine, tl.run_id, name, lo, hi):
            tl.apply(name, row)
            last = max(last, row["id"])
        tl._last_ids[name] = last
    tl.version += 1


class Pager:
    """Keeps ``timeline`` holding the page of simulated time that contains the playhead."""

    def __init__(self, timeline: Timeline, engine: Engine, page_s: float | None = None) -> None:
        self.timeline = timeline
        self.engine = engine
        self.page_s = page_s or page_seconds(len(timeline.stations))
        self.lo = self.hi = -1.0
        self.loads = 0  # whole-window loads (a jump), as opposed to playing on

    def ensure(self, t: float) -> None:
        if self.lo <= t < self.hi:
            return
        lo = math.floor(max(0.0, t) / self.page_s) * self.page_s
        if self.hi == lo:  # playing on into the next page: read it, drop the old one
            load_span(self.timeline, self.engine, self.hi, lo + self.page_s)
            self.timeline.trim(lo)
        else:
            load_window(self.timeline, self.engine, lo, lo + self.page_s)
            self.loads += 1
        self.lo, self.hi = lo, lo + self.page_s
