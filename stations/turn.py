"""The structured turn a station's model returns, and its per-request JSON schema.

One pydantic model drives every provider: the local model decodes against its
JSON schema, hosted providers get it as a tool's parameters. For constrained
decoders the schema is narrowed per request: song ids become enums of what the
station may actually queue or buy right now.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class StationTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    talk: str = Field("", max_length=2000, description="What the DJ says on air next.")
    queue: list[str] = Field(
        default_factory=list, max_length=6, description="Song ids from your library to play next."
    )
    buy: list[str] = Field(
        default_factory=list, max_length=3, description="Catalog song ids to buy."
    )
    search: str = Field("", max_length=60, description="Catalog search for the next turn.")
    notes: str = Field("", max_length=500, description="A private note to your future self.")


class TurnError(ValueError):
    """The model's output is not a valid StationTurn."""


@cache
def _base_schema() -> dict[str, Any]:
    schema = StationTurn.model_json_schema()
    schema["required"] = ["talk", "queue", "buy", "search", "notes"]
    return schema


def turn_schema(queue_ids: Sequence[str], buy_ids: Sequence[str]) -> dict[str, Any]:
    """The StationTurn schema with song ids restricted to the given choices."""
    base = _base_schema()
    props = {name: dict(prop) for name, prop in base["properties"].items()}
    # Bounds keep a small model's output short and on task: real talk, 2-4 songs.
    props["talk"].update(minLength=40, maxLength=200)
    props["search"]["maxLength"] = 20
    props["notes"]["maxLength"] = 40
    props["queue"].update(minItems=min(3, len(queue_ids)), maxItems=4, items=_choices(queue_ids))
    props["buy"].update(maxItems=2, items=_choices(buy_ids))
    return {**base, "properties": props}


def _choices(ids: Sequence[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(ids)} if ids else {"type": "string", "maxLength": 8}


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_turn(text: str) -> StationTurn:
    """Parse model output into a StationTurn or raise TurnError with a short reason."""
    stripped = _FENCE.sub("", text.strip()).strip()
    if not stripped:
        raise TurnError("empty output")
    try:
        data = json.loads(stripped, strict=False)  # raw newlines inside strings are fine
    except json.JSONDecodeError as exc:
        raise TurnError(f"not JSON ({exc.msg} at char {exc.pos})") from exc
    if not isinstance(data, dict):
        raise TurnError(f"expected a JSON object, got {type(data).__name__}")
    try:
        return StationTurn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise TurnError(f"{where}: {first['msg']}") from exc
