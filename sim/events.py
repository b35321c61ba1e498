"""Typed events: everything that happens in a run is one of these.

A stored fact is declared once, as an event dataclass decorated with ``@stored``:
the decorator derives its SQLModel table (one column per field, ``sim_time``
under ``time_column``, plus the base's ``id``, ``run_id`` and ``station``) and
sets it as the event's ``table``. ``row()`` is the fields as a dict; the recorder
adds ``run_id`` and writes rows in batches, the event log writes the same dict,
and the typed run reader and the exports read the derived table. Domain packages
declare their own facts; the kernel persists any of them without knowing what
they mean. Column options (a wider integer, an index) go in the field's
metadata through ``column()``.

A ``Fault``'s kind is a member of a ``StrEnum`` that the module raising it owns
(``stations.faults.StationFault``, ``economy.billing.BillingFault``, ...); each
such enum registers itself with ``@fault_kinds``, so ``FAULT_KINDS`` lists every
fault kind there is once those modules are imported.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, fields
from dataclasses import field as dataclass_field
from enum import Enum, StrEnum
from functools import cache
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from sim.store import StationRecord

K = TypeVar("K", bound=StrEnum)
E = TypeVar("E", bound="Event")

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
        ``time_column``: exactly the columns ``@stored`` derived from the fields.
        """
        out = {name: getattr(self, name) for name in _field_names(type(self))}
        if self.time_column:
            out[self.time_column] = self.sim_time
        return out

    @property
    def event_type(self) -> str:
        return type(self).__name__


# every stored fact's table, by table name, in import order (filled by ``@stored``)
STORED_TABLES: dict[str, type[SQLModel]] = {}


def column(default: Any = MISSING, **options: Any) -> Any:
    """A dataclass field whose stored column takes SQLModel ``Field`` options
    (``sa_type=BigInteger``, ``index=True``)."""
    return dataclass_field(default=default, metadata={"column": options})


_SCALARS = (str, int, float, bool)


def _column_type(hint: Any, where: str) -> Any:
    """The column type of a field's type hint: enums are stored as their values."""
    if get_origin(hint) in (Union, types.UnionType):
        (inner,) = (a for a in get_args(hint) if a is not type(None))
        return _column_type(inner, where) | None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return str
    if hint in _SCALARS:
        return hint
    raise TypeError(f"{where}: a stored field must be str, int, float, bool or an enum, not {hint}")


def stored(
    tablename: str,
    name: str,
    indexes: Sequence[Index] = (),
    base: type[SQLModel] = StationRecord,
    dedupe: bool = False,
) -> Callable[[type[E]], type[E]]:
    """Class decorator for an event dataclass: derive its table, named ``name`` (the
    SQLModel class) and ``tablename`` (in the database), and set it as ``table``.

    ``base`` gives the leading columns (``StationRecord``: id, run_id, station;
    ``RunRecord``: id, run_id; ``SQLModel``: none, so a field must be the primary key).
    ``dedupe``: rows already stored are skipped on insert (content-addressed tables).
    """

    def derive(cls: type[E]) -> type[E]:
        hints = get_type_hints(cls)
        inherited = set(base.model_fields)
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {
            "__module__": cls.__module__,
            "__qualname__": name,
            "__tablename__": tablename,
            "__annotations__": annotations,
            "__doc__": f"The stored ``{cls.__name__}`` events (derived by ``@stored``).",
        }
        if indexes:
            namespace["__table_args__"] = tuple(indexes)
        if dedupe:
            namespace["dedupe_on_insert"] = True
            annotations["dedupe_on_insert"] = ClassVar[bool]
        for f in fields(cls):
            column_name = cls.time_column if f.name == "sim_time" else f.name
            if column_name is None or column_name in inherited:
                continue
            annotations[column_name] = _column_type(hints[f.name], f"{cls.__name__}.{f.name}")
            options = dict(f.metadata.get("column", {}))
            if f.default is not MISSING:
                options["default"] = f.default
            if options:
                namespace[column_name] = Field(**options)
        if tablename in STORED_TABLES:
            raise ValueError(f"{cls.__name__}: table {tablename!r} is already declared")
        cls.table = STORED_TABLES[tablename] = type(base)(name, (base,), namespace, table=True)
        return cls

    return derive


def table_of(event: type[Event]) -> Any:
    """The table ``@stored`` derived for ``event`` (typed ``Any``: its columns are the
    event's fields, which a static checker cannot see through the derivation)."""
    if event.table is None:
        raise TypeError(f"{event.__name__} is not stored")
    return event.table


@stored("faults", "FaultRow", indexes=(Index("ix_faults_run_station", "run_id", "station"),))
@dataclass(slots=True, frozen=True)
class Fault(Event):
    """Something went wrong and automation took over (never a crash)."""

    station: str
    kind: StrEnum  # a member of a registered fault-kind enum (``fault_kinds``)
    detail: str


@stored("blobs", "BlobRow", base=SQLModel, dedupe=True)
@dataclass(slots=True, frozen=True)
class BlobStored(Event):
    """A content-addressed text (system prompt, schema), stored once across runs."""

    sha256: str = column(primary_key=True)
    text: str

    time_column: ClassVar[str | None] = None


@stored(
    "model_calls",
    "ModelCallRow",
    indexes=(
        Index("ix_model_calls_run_seq", "run_id", "seq"),
        Index("ix_model_calls_run_station_time", "run_id", "station", "sim_time_s"),
    ),
)
@dataclass(slots=True, frozen=True)
class ModelCalled(Event):
    """One model call: the request's fingerprint and the response, as the dispatcher
    resolved it (``source``: live, or replay when served from a recorded run)."""

    seq: int
    station: str
    provider: str
    model: str
    system_prompt_sha256: str
    schema_sha256: str
    request_hash: str
    messages_json: str | None = None
    params_json: str = "{}"
    response_text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    ok: bool = True
    error: str | None = None
    finish_reason: str | None = None
    cost_usd: float | None = None  # None: the model has no price in the table
    source: str = "live"  # live | replay (served from a recorded run)


FaultRow = table_of(Fault)
BlobRow = table_of(BlobStored)
ModelCallRow = table_of(ModelCalled)
