"""The structured turn a station's model returns, and its per-request JSON schema.

One pydantic model drives every provider: the local model decodes against its
JSON schema, hosted providers get it as a tool's parameters. For constrained
decoders the schema is narrowed per request: song ids become enums of what the
station may actually queue or buy right now.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from sim.safejson import UnsafeJSON, loads_bounded
from sim.text import printable
from stations.sections import registered
from stations.sections.schema import Id, choices

# Turn JSON is a few hundred characters; anything far larger is not a turn.
MAX_TURN_CHARS = 32_000


class CoreTurn(BaseModel):
    """The fields every turn may have; each market section adds its own (``stations.sections``)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    talk: str = Field("", max_length=2000, description="What the DJ says on air next.")
    queue: list[Id] = Field(
        default_factory=list, max_length=6, description="Song ids from your library to play next."
    )
    buy: list[Id] = Field(
        default_factory=list, max_length=3, description="Catalog song ids to buy."
    )
    search: str = Field("", max_length=60, description="Catalog search for the next turn.")
    notes: str = Field("", max_length=500, description="A private note to your future self.")
    _ignored: tuple[str, ...] = PrivateAttr(default=())

    @property
    def ignored_fields(self) -> tuple[str, ...]:
        """Top-level keys the model sent that are not part of a turn (they do nothing)."""
        return self._ignored


StationTurn: type[CoreTurn] = create_model(  # type: ignore[call-overload]
    "StationTurn",
    __base__=CoreTurn,
    **{name: spec for section in registered() for name, spec in section.fields.items()},
)

CORE_FIELDS = ("talk", "queue", "buy", "search", "notes")
FIELDS = frozenset(StationTurn.model_fields)


class TurnError(ValueError):
    """The model's output is not a valid StationTurn."""


@cache
def _core_schema() -> dict[str, Any]:
    return CoreTurn.model_json_schema()


def turn_schema(
    queue_ids: Sequence[str],
    buy_ids: Sequence[str],
    sections: Mapping[str, dict[str, Any]] | None = None,
    core: Sequence[str] = CORE_FIELDS,
) -> dict[str, Any]:
    """The turn's schema: the ``core`` fields with song ids restricted to the given choices,
    then the fields of the sections that have something to show (``sections``).

    Sections with nothing to answer add nothing, which keeps a small model's output short.
    Every field is required: a constrained decoder then always writes a whole turn.
    """
    base = _core_schema()
    props: dict[str, Any] = {name: dict(base["properties"][name]) for name in core}
    # Bounds keep a small model's output short and on task: real talk, 2-4 songs.
    if "talk" in props:
        props["talk"].update(minLength=40, maxLength=200)
    if "search" in props:
        props["search"]["maxLength"] = 20
    if "notes" in props:
        props["notes"]["maxLength"] = 40
    if "queue" in props:
        props["queue"].update(
            minItems=min(3, len(queue_ids)),
            maxItems=min(4, len(queue_ids)),
            items=choices(queue_ids),
        )
    if "buy" in props:
        props["buy"].update(maxItems=min(2, len(buy_ids)), items=choices(buy_ids))
    props.update(sections or {})
    top = {k: v for k, v in base.items() if k not in ("$defs", "title", "description")}
    return {**top, "title": "StationTurn", "properties": props, "required": list(props)}


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_turn(text: str) -> StationTurn:
    """Parse model output into a StationTurn or raise TurnError with a short reason.

    Hostile output of any size, depth or number is a TurnError, never another exception.
    """
    stripped = _FENCE.sub("", text.strip()).strip()
    if not stripped:
        raise TurnError("empty output")
    try:
        data = loads_bounded(stripped, max_chars=MAX_TURN_CHARS)
    except UnsafeJSON as exc:
        raise TurnError(str(exc)) from None
    if not isinstance(data, dict):
        raise TurnError(f"expected a JSON object, got {type(data).__name__}")
    try:
        turn = StationTurn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise TurnError(f"{where}: {first['msg']}") from exc
    ignored = sorted(printable(str(k)[:40], one_line=True) for k in data if k not in FIELDS)
    turn._ignored = tuple(ignored[:8]) + (
        (f"... {len(ignored) - 8} more",) if len(ignored) > 8 else ()
    )
    return turn
