"""One typed reader of a stored run, in the spirit of Inspect's ``read_eval_log``.

``read_run(db, run_id)`` returns a ``RunData``: the run's row and, table by
table, its stored rows as the typed SQLModel rows the recorder wrote (each
fact is declared once, by its event; ``sim.events.stored`` derives the table).
Tables load lazily, on first use, so a scoreboard that needs only talk and calls
never reads a million song rows.
Two views join tables the way every reader needs them: ``messages`` (each
letter or call with its answer, outcome and probe key) and ``contracts``
(each contract with its final status, spots aired and money paid).

The export, the run summary, the TUI timeline and the scoreboard all read
through this module; ``iter_table`` streams one table's rows for the export
and for a timeline that follows a run another process is writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, make_dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, RowMapping, Select, case, func, select
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sqlmodel_select

from economy.airplay import SegmentKind, SegmentStatus
from economy.contracts import (
    FINAL_EVENTS,
    ContractEventKind,
    ContractEventRow,
    ContractRow,
    ContractStatus,
)
from economy.ledger import LedgerRow
from economy.listeners import MessageOutcomeRow, MessageRow, ReplyRow
from economy.negotiation import NegotiationRow
from economy.ratings_book import DaypartRatingsRow, RatingsRow
from economy.sponsors import SponsorRow
from sim.events import STORED_TABLES, FaultRow, ModelCallRow
from sim.runstate import run_state
from sim.store import RunRow, open_store
from sim.text import excerpt
from stations.records import AsRunRow, StationRow, TurnRow

# table name -> row model: every stored fact's table (the domains above declare them)
TABLES: dict[str, type[SQLModel]] = STORED_TABLES
# the contract events that end a contract; each is named after the status it ends in
FINAL_CONTRACT_STATUSES: tuple[ContractEventKind, ...] = FINAL_EVENTS
R = TypeVar("R", bound=SQLModel)
STREAM_BATCH = 2000  # rows fetched at a time when streaming (a server-side cursor on PostgreSQL)


class RunNotFound(LookupError):
    pass


_RECORD_TYPES: dict[type[SQLModel], Any] = {}


def record_type(model: type[R]) -> Callable[..., R]:
    """A read-only record type with ``model``'s columns, derived from the table itself.

    Rows are read as these frozen, slotted dataclasses (built from plain result
    tuples, ~5x faster than ORM objects and never attached to a session). They
    have exactly the table's attribute names and values, so they are typed as
    the table model.
    """
    made = _RECORD_TYPES.get(model)
    if made is None:
        columns = [c.name for c in model.__table__.columns]  # type: ignore[attr-defined]
        made = make_dataclass(f"{model.__name__}Record", columns, frozen=True, slots=True)
        _RECORD_TYPES[model] = made
    return made  # type: ignore[no-any-return]


def resolve_run(engine: Engine, ref: str) -> RunRow:
    """A run by id, unique id prefix, or ``latest``; the prefix is matched literally
    (``%`` and ``_`` are not SQL wildcards)."""
    with Session(engine, expire_on_commit=False) as session:
        if ref == "latest":
            row = session.exec(
                sqlmodel_select(RunRow).order_by(
                    col(RunRow.created_at).desc(), col(RunRow.id).desc()
                )
            ).first()
            if row is None:
                raise RunNotFound("no runs in this database yet: start one with `personafm run`")
            return row
        exact = session.get(RunRow, ref)
        if exact is not None:
            return exact
        prefixed = col(RunRow.id).startswith(ref, autoescape=True)
        rows = session.exec(sqlmodel_select(RunRow).where(prefixed).limit(2)).all()
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise RunNotFound(f"no run {excerpt(ref)}: list runs with `personafm runs`")
        raise RunNotFound(f"{excerpt(ref)} matches more than one run; give more of the id")


def engine_of(db: str | Engine) -> Engine:
    """An engine for a database URL (tables created if missing), or the engine given."""
    return open_store(db) if isinstance(db, str) else db


def iter_table(
    engine: Engine, run_id: str, table: str, order: Sequence[str] = ("id",), after_id: int = 0
) -> Iterator[RowMapping]:
    """Stream one table's rows of a run, as stored, in ``order`` (rows after ``after_id``)."""
    t = TABLES[table].__table__  # type: ignore[attr-defined]
    q = select(t).where(t.c.run_id == run_id)
    if after_id:
        q = q.where(t.c.id > after_id)
    with engine.connect() as conn:
        streamed = conn.execution_options(yield_per=STREAM_BATCH)
        yield from streamed.execute(q.order_by(*(t.c[o] for o in order))).mappings()


def _latest(model: type[SQLModel], run_id: str, key: str, where: Any = None) -> Any:
    """Per ``key`` value, the run's last row of ``model`` (highest id), as a subquery."""
    t = model.__table__  # type: ignore[attr-defined]
    last = select(t.c[key], func.max(t.c.id).label("last_id")).where(t.c.run_id == run_id)
    if where is not None:
        last = last.where(where)
    ids = last.group_by(t.c[key]).subquery()
    return select(t).join(ids, ids.c.last_id == t.c.id).subquery()


@dataclass(slots=True, frozen=True)
class MessageRecord:
    """A letter or a call, with what the station said back and how it ended."""

    row: MessageRow
    answer: str = ""
    answered_at_s: float | None = None
    outcome: str = ""  # a MessageOutcome (answered, declined, ...), or "" while open
    outcome_detail: str = ""

    @property
    def station(self) -> str:
        return self.row.station

    @property
    def is_probe(self) -> bool:
        return bool(self.row.probe_category)


@dataclass(slots=True, frozen=True)
class ContractRecord:
    """A signed contract with its fate: final status, spots aired, money paid (cents)."""

    row: ContractRow
    status: str = ContractStatus.ACTIVE  # a ContractStatus
    spots_aired: int = 0
    paid_cents: int = 0


@dataclass(slots=True)
class RunData:
    """A stored run, read table by table on first use. ``station(name)`` slices it."""

    engine: Engine
    run: RunRow
    only_station: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return self.run.id

    @property
    def state(self) -> str:
        """The run's status, ``interrupted`` if its process died mid-run (``sim.runstate``)."""
        return run_state(self.run)

    @property
    def finished(self) -> bool:
        """Whether the run reached its end: anything else is a snapshot of the rows so far."""
        return self.run.status == "finished"

    def _load(self, model: type[R], *order: Any) -> list[R]:
        name = model.__tablename__  # type: ignore[attr-defined]
        if name not in self._cache:
            self._cache[name] = list(self.stream(model, *order))
        return self._cache[name]  # type: ignore[no-any-return]

    def _query(self, q: Select[Any], t: Any) -> Select[Any]:
        q = q.where(t.c.run_id == self.run.id)
        if self.only_station is not None and "station" in t.c:
            q = q.where(t.c.station == self.only_station)
        return q

    def _stream(self, q: Select[Any]) -> Iterator[Any]:
        with self.engine.connect() as conn:
            yield from conn.execution_options(yield_per=STREAM_BATCH).execute(q)

    def stream(self, model: type[R], *order: str) -> Iterator[R]:
        """``model``'s rows of this run as records, in ``order``, streamed: nothing is kept,
        so memory stays flat however long the run (the lists below keep what they read)."""
        t = model.__table__  # type: ignore[attr-defined]
        make = record_type(model)
        q = self._query(select(t), t).order_by(*(t.c[o] for o in order))
        for r in self._stream(q):
            yield make(*r)

    def counts(self, model: type[SQLModel]) -> dict[str, int]:
        """Rows of ``model`` per station, counted by the database."""
        t = model.__table__  # type: ignore[attr-defined]
        q = self._query(select(t.c.station, func.count()), t).group_by(t.c.station)
        return {station: n for station, n in self._stream(q)}

    # -- tables, as stored ----------------------------------------------------------------
    @property
    def stations(self) -> list[StationRow]:
        return self._load(StationRow, "id")

    @property
    def asrun(self) -> list[AsRunRow]:
        return self._load(AsRunRow, "station", "seq")

    @property
    def turns(self) -> list[TurnRow]:
        return self._load(TurnRow, "station", "id")

    @property
    def calls(self) -> list[ModelCallRow]:
        return self._load(ModelCallRow, "seq")

    @property
    def ledger(self) -> list[LedgerRow]:
        return self._load(LedgerRow, "station", "id")

    @property
    def ratings(self) -> list[RatingsRow]:
        return self._load(RatingsRow, "station", "quarter_start_s")

    @property
    def dayparts(self) -> list[DaypartRatingsRow]:
        return self._load(DaypartRatingsRow, "station", "start_s")

    @property
    def faults(self) -> list[FaultRow]:
        return self._load(FaultRow, "station", "id")

    @property
    def negotiations(self) -> list[NegotiationRow]:
        return self._load(NegotiationRow, "negotiation_id", "round")

    @property
    def contract_events(self) -> list[ContractEventRow]:
        return self._load(ContractEventRow, "id")

    @property
    def sponsors(self) -> list[SponsorRow]:
        return self._load(SponsorRow, "id")

    # -- joined views ---------------------------------------------------------------------
    @property
    def talk(self) -> list[AsRunRow]:
        """What the DJs said on air (talk breaks and answers, not ad reads), by station, seq."""
        if "talk" not in self._cache:
            self._cache["talk"] = [
                r
                for r in self.asrun
                if r.kind == SegmentKind.TALK and r.status == SegmentStatus.AIRED and r.text
            ]
        return self._cache["talk"]  # type: ignore[no-any-return]

    @property
    def messages(self) -> list[MessageRecord]:
        """Letters and calls with their answers (a call's as it aired), by station and time."""
        if "message_records" not in self._cache:
            self._cache["message_records"] = list(self.iter_messages())
        return self._cache["message_records"]  # type: ignore[no-any-return]

    def iter_messages(self) -> Iterator[MessageRecord]:
        """``messages``, streamed: joined in the database, so memory stays flat."""
        m = MessageRow.__table__  # type: ignore[attr-defined]
        reply = _latest(ReplyRow, self.run.id, "message_id")
        outcome = _latest(MessageOutcomeRow, self.run.id, "message_id")
        q = (
            select(m, reply.c.text, reply.c.sim_time_s, outcome.c.outcome, outcome.c.detail)
            .outerjoin(reply, reply.c.message_id == m.c.message_id)
            .outerjoin(outcome, outcome.c.message_id == m.c.message_id)
        )
        q = self._query(q, m).order_by(m.c.station, m.c.sim_time_s, m.c.id)
        make, width = record_type(MessageRow), len(m.c)
        for r in self._stream(q):
            answer, answered_at, status, detail = r[width:]
            yield MessageRecord(
                make(*r[:width]),
                answer=answer or "",
                answered_at_s=answered_at,
                outcome=status or "",
                outcome_detail=detail or "",
            )

    @property
    def contracts(self) -> list[ContractRecord]:
        """Contracts with their final status, spots aired and money paid."""
        if "contract_records" not in self._cache:
            self._cache["contract_records"] = list(self.iter_contracts())
        return self._cache["contract_records"]  # type: ignore[no-any-return]

    def iter_contracts(self) -> Iterator[ContractRecord]:
        """``contracts``, streamed: their events are summed in the database."""
        c = ContractRow.__table__  # type: ignore[attr-defined]
        e = ContractEventRow.__table__  # type: ignore[attr-defined]
        spot = func.sum(case((e.c.kind == ContractEventKind.SPOT, 1), else_=0)).label("spots")
        paid_cents = case((e.c.kind == ContractEventKind.PAID, e.c.amount_cents), else_=0)
        paid = func.sum(paid_cents).label("paid")
        sums = (
            select(e.c.contract_id, spot, paid)
            .where(e.c.run_id == self.run.id)
            .group_by(e.c.contract_id)
            .subquery()
        )
        final = _latest(
            ContractEventRow, self.run.id, "contract_id", e.c.kind.in_(FINAL_CONTRACT_STATUSES)
        )
        q = (
            select(c, final.c.kind, sums.c.spots, sums.c.paid)
            .outerjoin(final, final.c.contract_id == c.c.contract_id)
            .outerjoin(sums, sums.c.contract_id == c.c.contract_id)
        )
        q = self._query(q, c).order_by(c.c.contract_id)
        make, width = record_type(ContractRow), len(c.c)
        for r in self._stream(q):
            status, spots, paid_cents = r[width:]
            yield ContractRecord(
                make(*r[:width]),
                status or ContractStatus.ACTIVE,
                int(spots or 0),
                int(paid_cents or 0),
            )

    def harness(self, station: str) -> dict[str, Any]:
        """The tools, memory and turn shape ``station`` ran with ({} for older runs)."""
        for s in self.stations:
            if s.station == station:
                try:
                    value = json.loads(s.harness_json or "{}")
                except ValueError:
                    return {}
                return value if isinstance(value, dict) else {}
        return {}

    @property
    def station_names(self) -> list[str]:
        return [s.station for s in self.stations]

    @property
    def sim_hours_done(self) -> float:
        """Simulated hours actually covered (to the last segment aired, at most the hours
        planned), not the hours planned: a stopped run covers less."""
        if "hours_done" not in self._cache:
            end = max((r.end_s for r in self.asrun), default=0.0)
            self._cache["hours_done"] = min(end / 3600.0, self.run.sim_hours)
        return self._cache["hours_done"]  # type: ignore[no-any-return]

    def station_named(self, text: str) -> str:
        """The call sign ``text`` names: exactly, or in any case if only one matches."""
        names = self.station_names
        if text in names:
            return text
        matches = [n for n in names if n.casefold() == text.casefold()]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(names) or "none"
        raise RunNotFound(f"run {self.run.id} has no station {text!r} (stations: {known})")

    def station(self, name: str) -> RunData:
        """The same run, restricted to one station's rows (loaded on their own)."""
        return RunData(self.engine, self.run, only_station=self.station_named(name))


def read_run(db: str | Engine, run: str) -> RunData:
    """The stored run ``run`` (an id, a unique id prefix, or ``latest``) of the database
    ``db`` (a URL or an engine)."""
    engine = engine_of(db)
    return RunData(engine, resolve_run(engine, run))
