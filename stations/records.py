"""The station domain's stored facts: as-run log, turns, station roster.

Each is declared once, as an event; ``@stored`` derives its table (``AsRunRow``,
``TurnRow``, ``StationRow``), which readers and exports query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import BigInteger, Index

from economy.airplay import SegmentKind, SegmentSource, SegmentStatus
from sim.events import Event, column, stored, table_of


@stored("stations", "StationRow")
@dataclass(slots=True, frozen=True)
class StationOnAir(Event):
    """A station signed on: who runs it, on which model and prompt, with what harness."""

    station: str
    name: str
    city: str
    provider: str
    model: str
    system_prompt_sha256: str
    seed: int = column(sa_type=BigInteger)  # up to 2**63 - 1
    harness_json: str = "{}"  # the tools, memory and turn shape the station ran with


@stored(
    "asrun",
    "AsRunRow",
    indexes=(
        Index("ix_asrun_run_station_seq", "run_id", "station", "seq"),
        Index("ix_asrun_run_start", "run_id", "start_s"),  # the replay's step, any station
        Index("ix_asrun_run_station_start", "run_id", "station", "start_s"),  # a card's page
    ),
)
@dataclass(slots=True, frozen=True)
class SegmentAired(Event):
    """One segment of the as-run log (starting at ``sim_time``, stored as ``start_s``)."""

    station: str
    seq: int
    end_s: float
    kind: SegmentKind
    source: SegmentSource
    status: SegmentStatus
    song_id: str | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    text: str | None = None
    ref: str | None = None  # what the talk answers: a message's id (a call or a letter)

    time_column: ClassVar[str | None] = "start_s"


@stored("turns", "TurnRow", indexes=(Index("ix_turns_run_station", "run_id", "station"),))
@dataclass(slots=True, frozen=True)
class TurnTaken(Event):
    """One station turn: what the model said and did, and what the harness refused."""

    station: str
    ok: bool
    talk: str
    queued_json: str
    bought_json: str
    rejected_json: str
    search: str
    notes: str
    market_json: str = "{}"


StationRow = table_of(StationOnAir)
AsRunRow = table_of(SegmentAired)
TurnRow = table_of(TurnTaken)
