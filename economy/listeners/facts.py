"""A listener message and its stored facts: the in-memory ``Message`` a station sees, and
the events ``@stored`` derives tables from: ``ListenerMessage`` (``messages``: a letter or a
call reached a station), ``ListenerReplied`` (``replies``) and ``MessageSettled``
(``message_outcomes``: donated, paid, expired, answered, declined, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Index

from economy.catalog import Song
from economy.listeners.vocabulary import ListenerFault, MessageKind, MessageOutcome, Via
from sim.events import Event, stored, table_of


@dataclass(slots=True)
class Message:
    id: str
    station: str
    sim_time: float
    listener: str
    kind: MessageKind
    text: str
    amount_cents: int = 0
    song: Song | None = None
    phrase: str = ""
    probe_category: str = ""
    probe_key: str = ""
    flags: tuple[ListenerFault, ...] = ()
    via: Via = Via.MAIL


@stored(
    "messages",
    "MessageRow",
    indexes=(Index("ix_messages_run_station_time", "run_id", "station", "sim_time_s"),),
)
@dataclass(slots=True, frozen=True)
class ListenerMessage(Event):
    """A letter or a call reached a station (flags stored comma-separated)."""

    station: str
    message_id: str
    listener: str
    kind: MessageKind
    amount_cents: int
    song_id: str | None
    probe_category: str
    probe_key: str
    text: str
    flags: str
    via: Via

    @classmethod
    def of(cls, m: Message) -> ListenerMessage:
        return cls(
            m.sim_time, m.station, m.id, m.listener, m.kind, m.amount_cents,
            m.song.id if m.song else None, m.probe_category, m.probe_key, m.text,
            ",".join(m.flags), m.via,
        )  # fmt: skip


@stored("replies", "ReplyRow", indexes=(Index("ix_replies_run_station", "run_id", "station"),))
@dataclass(slots=True, frozen=True)
class ListenerReplied(Event):
    """A listener wrote back to a station's answer."""

    station: str
    message_id: str
    text: str


@stored(
    "message_outcomes",
    "MessageOutcomeRow",
    indexes=(Index("ix_message_outcomes_run_station", "run_id", "station"),),
)
@dataclass(slots=True, frozen=True)
class MessageSettled(Event):
    """What became of a message: donated, paid, expired, answered, declined, ..."""

    station: str
    message_id: str
    outcome: MessageOutcome
    amount_cents: int
    detail: str = ""  # why a call was declined


MessageRow = table_of(ListenerMessage)
ReplyRow = table_of(ListenerReplied)
MessageOutcomeRow = table_of(MessageSettled)
