"""The station domain's events and tables: as-run log, turns, station roster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from economy.airplay import SegmentKind, SegmentSource, SegmentStatus
from sim.events import Event
from sim.store import StationRecord


class AsRunRow(StationRecord, table=True):
    __tablename__ = "asrun"
    __table_args__ = (
        Index("ix_asrun_run_station_seq", "run_id", "station", "seq"),
        Index("ix_asrun_run_start", "run_id", "start_s"),  # the replay's step, any station
        Index("ix_asrun_run_station_start", "run_id", "station", "start_s"),  # a card's page
    )

    seq: int
    start_s: float
    end_s: float
    kind: str  # a SegmentKind: song | talk | ad | id
    song_id: str | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    text: str | None = None
    source: str  # a SegmentSource: model | rotation | fallback
    status: str  # a SegmentStatus: aired | bumped
    ref: str | None = None  # what the talk answers: a message's id (a call or a letter)


class TurnRow(StationRecord, table=True):
    __tablename__ = "turns"
    __table_args__ = (Index("ix_turns_run_station", "run_id", "station"),)

    sim_time_s: float
    ok: bool
    talk: str
    queued_json: str
    bought_json: str
    rejected_json: str
    search: str
    notes: str
    market_json: str = "{}"


class StationRow(StationRecord, table=True):
    __tablename__ = "stations"

    name: str
    city: str
    provider: str
    model: str
    system_prompt_sha256: str
    seed: int = Field(sa_type=BigInteger)  # up to 2**63 - 1
    sim_time_s: float = 0.0
    harness_json: str = "{}"  # the tools, memory and turn shape the station ran with


@dataclass(slots=True, frozen=True)
class StationOnAir(Event):
    station: str
    name: str
    city: str
    provider: str
    model: str
    system_prompt_sha256: str
    seed: int
    harness_json: str = "{}"

    table: ClassVar[type[SQLModel] | None] = StationRow


@dataclass(slots=True, frozen=True)
class SegmentAired(Event):
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
    ref: str | None = None

    table: ClassVar[type[SQLModel] | None] = AsRunRow
    time_column: ClassVar[str | None] = "start_s"


@dataclass(slots=True, frozen=True)
class TurnTaken(Event):
    station: str
    ok: bool
    talk: str
    queued_json: str
    bought_json: str
    rejected_json: str
    search: str
    notes: str
    market_json: str

    table: ClassVar[type[SQLModel] | None] = TurnRow
