"""Small builders for the JSON-schema fragments sections add to a turn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import StringConstraints

# An id is short; a longer one is not an id of anything, so it fails validation early.
Id = Annotated[str, StringConstraints(max_length=16)]


def list_of(item_props: dict[str, Any], max_items: int, min_items: int = 0) -> dict[str, Any]:
    """An array of objects with exactly ``item_props`` (all required)."""
    item = {"type": "object", "properties": item_props, "required": list(item_props)}
    out: dict[str, Any] = {"type": "array", "items": item, "maxItems": max_items}
    if min_items:
        out["minItems"] = min_items
    return out


def choices(ids: Sequence[str]) -> dict[str, Any]:
    """Items restricted to ``ids``; with none on offer the list must stay empty (maxItems 0)."""
    return {"type": "string", "enum": list(ids)} if ids else {"type": "string", "maxLength": 8}


def usd(cents: int) -> str:
    return f"${cents / 100:,.2f}"
