"""The structured turn a station's model returns, and its per-request JSON schema.

One pydantic model drives every provider: the local model decodes against its
JSON schema, hosted providers get it as a tool's parameters. For constrained
decoders the schema is narrowed per request: song ids become enums of what the
station may actually queue or buy right now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, ValidationError

from sim.safejson import UnsafeJSON, loads_bounded
from sim.text import printable

# An id is short; a longer one is not an id of anything, so it fails validation early.
Id = Annotated[str, StringConstraints(max_length=16)]
# Turn JSON is a few hundred characters; anything far larger is not a turn.
MAX_TURN_CHARS = 32_000


class Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    message_id: str = Field(max_length=16, description="The listener message answered.")
    text: str = Field(max_length=600, description="The reply, said on air.")


class DealMove(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    negotiation_id: str = Field(max_length=16, description="The sponsor offer answered.")
    move: Literal["accept", "counter", "reject"]
    price_usd: float = Field(0.0, ge=0, le=100_000, description="Your price, for a counter.")


class StationTurn(BaseModel):
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
    replies: list[Reply] = Field(default_factory=list, max_length=5)
    deals: list[DealMove] = Field(default_factory=list, max_length=5)
    ads: list[Id] = Field(
        default_factory=list, max_length=6, description="Contract ids to read in the next break."
    )
    ask_donations: bool = Field(False, description="Ask listeners to donate this hour.")
    _ignored: tuple[str, ...] = PrivateAttr(default=())

    @property
    def ignored_fields(self) -> tuple[str, ...]:
        """Top-level keys the model sent that are not part of a turn (they do nothing)."""
        return self._ignored


CORE_FIELDS = ("talk", "queue", "buy", "search", "notes")
FIELDS = frozenset(StationTurn.model_fields)


class TurnError(ValueError):
    """The model's output is not a valid StationTurn."""


@cache
def _base_schema() -> dict[str, Any]:
    schema = StationTurn.model_json_schema()
    schema["required"] = [*CORE_FIELDS, "ask_donations"]
    return schema


def turn_schema(
    queue_ids: Sequence[str],
    buy_ids: Sequence[str],
    message_ids: Sequence[str] = (),
    negotiation_ids: Sequence[str] = (),
    contract_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The StationTurn schema with ids restricted to the given choices.

    Replies, deal moves and ad reads appear only when there is something to
    answer or read, which keeps a small model's output short.
    """
    base = _base_schema()
    props: dict[str, Any] = {name: dict(base["properties"][name]) for name in CORE_FIELDS}
    # Bounds keep a small model's output short and on task: real talk, 2-4 songs.
    props["talk"].update(minLength=40, maxLength=200)
    props["search"]["maxLength"] = 20
    props["notes"]["maxLength"] = 40
    props["queue"].update(
        minItems=min(3, len(queue_ids)),
        maxItems=min(4, len(queue_ids)),
        items=_choices(queue_ids),
    )
    props["buy"].update(maxItems=min(2, len(buy_ids)), items=_choices(buy_ids))
    if message_ids:
        props["replies"] = _list_of(
            {
                "message_id": {"type": "string", "enum": list(message_ids)},
                "text": {"type": "string", "minLength": 10, "maxLength": 160},
            },
            max_items=2,
        )
    if negotiation_ids:
        props["deals"] = _list_of(
            {
                "negotiation_id": {"type": "string", "enum": list(negotiation_ids)},
                "move": {"type": "string", "enum": ["accept", "counter", "reject"]},
                "price_usd": {"type": "number", "minimum": 0, "maximum": 1000},
            },
            max_items=len(negotiation_ids),
        )
    if contract_ids:
        props["ads"] = {"type": "array", "items": _choices(contract_ids), "maxItems": 4}
    props["ask_donations"] = {"type": "boolean"}
    top = {k: v for k, v in base.items() if k != "$defs"}  # narrowed items are inlined
    return {**top, "properties": props, "required": list(props)}


def _list_of(item_props: dict[str, Any], max_items: int) -> dict[str, Any]:
    item = {"type": "object", "properties": item_props, "required": list(item_props)}
    return {"type": "array", "items": item, "maxItems": max_items}


def _choices(ids: Sequence[str]) -> dict[str, Any]:
    """Items restricted to ``ids``; with none on offer the list must stay empty (maxItems 0)."""
    return {"type": "string", "enum": list(ids)} if ids else {"type": "string", "maxLength": 8}


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
