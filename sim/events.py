"""Typed events: everything that happens in a run is one of these.

An event that should be stored names its SQLModel ``table`` and returns the
row as a plain dict from ``row()``; the recorder adds ``run_id`` and writes
rows in batches. Domain packages define their own events and tables; the
kernel persists any of them without knowing what they mean.

A ``Fault``'s kind is a member of a ``StrEnum`` that the module raising it owns
(``stations.station.StationFault``, ``economy.billing.BillingFault``, ...); each
such enum registers itself with ``@fault_kinds``, so ``FAULT_KINDS`` lists every
fault kind there is once those modules are imported.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, TypeVar

from sqlmodel import SQLModel

from sim.store import BlobRow, FaultRow

K = TypeVar("K", bound=StrEnum)

# Every fault-kind enum, in import order (see ``fault_kinds``).
FAULT_KINDS: list[type[StrEnum]] = []


def fault_kinds(cls: type[K]) -> type[K]:
    """Class decorator: register ``cls`` (a ``StrEnum``) as a vocabulary of fault kinds."""
    if cls in FAULT_KINDS:
        return cls
    taken = {m.value for other in FAULT_KINDS for m in other}
    clash = sorted(m.value for m in cls if m.value in taken)
    if clash:
        raise ValueError(f"{cls.__name__}: fault kinds {clash} belong to another enum")
    FAULT_KINDS.append(cls)
    return cls


def fault_kind(kind: str) -> StrEnum | None:
    """The registered fault-kind member equal to ``kind`` (a stored string), if any."""
    for cls in FAULT_KINDS:
        member = cls._value2member_map_.get(kind)
        if member is not None:
            return member  # type: ignore[return-value]
    return None


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name != "sim_time")


@dataclass(slots=True, frozen=True)
class Event:
    sim_time: float

    table: ClassVar[type[SQLModel] | None] = None
    # the column that stores ``sim_time`` (None: the table has no such column)
    time_column: ClassVar[str | None] = "sim_time_s"

    def row(self) -> dict[str, Any]:
        """The stored row (without ``run_id``): the fields, with ``sim_time`` under
        ``time_column``. Events whose table differs from their fields override this.
        """
        out = {name: getattr(self, name) for name in _field_names(type(self))}
        if self.time_column:
            out[self.time_column] = self.sim_time
        return out

    @property
    def event_type(self) -> str:
        return type(self).__name__


@dataclass(slots=True, frozen=True)
class Fault(Event):
    """Something went wrong and automation took over (never a crash)."""

    station: str
    kind: StrEnum  # a member of a registered fault-kind enum (``fault_kinds``)
    detail: str

    table: ClassVar[type[SQLModel] | None] = FaultRow


@dataclass(slots=True, frozen=True)
class BlobStored(Event):
    """A content-addressed text (system prompt, schema) first seen in this run."""

    sha256: str
    text: str

    table: ClassVar[type[SQLModel] | None] = BlobRow

    def row(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "text": self.text}
