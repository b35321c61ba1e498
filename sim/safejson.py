"""Bounded JSON decoding for text a model wrote.

``json.loads`` on hostile text can recurse until ``RecursionError`` (deep
nesting), spend memory on megabytes of input, and returns ``inf`` and ``nan``
for ``Infinity``, ``NaN`` or ``1e999``. ``loads_bounded`` checks size and
depth before decoding and refuses non-finite numbers, so every failure is one
exception type, ``UnsafeJSON``, with a short reason.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_CHARS = 64_000
MAX_DEPTH = 16


class UnsafeJSON(ValueError):
    """Text that is not a JSON value within the bounds; the message says why."""


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting of ``text``, counted outside string literals."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise UnsafeJSON(f"non-finite number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJSON(f"number {text[:24]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:  # beyond 1e18 nothing in a turn makes sense
        raise UnsafeJSON(f"integer with {len(text)} digits is out of range")
    return int(text)


def loads_bounded(text: str, *, max_chars: int = MAX_CHARS, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``text`` as JSON, or raise ``UnsafeJSON``.

    Raw newlines inside strings are accepted (``strict=False``): small models write them.
    """
    if len(text) > max_chars:
        raise UnsafeJSON(f"{len(text):,} characters (at most {max_chars:,})")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise UnsafeJSON(f"nested {depth} deep (at most {max_depth})")
    try:
        return json.loads(
            text,
            strict=False,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise UnsafeJSON(f"not JSON ({exc.msg} at char {exc.pos})") from None
    except RecursionError:  # unreachable after the depth check; kept as a last guard
        raise UnsafeJSON("nested too deep") from None


def finite_number(value: object, low: float, high: float) -> float | None:
    """``value`` as a float if it is a real, finite number in [low, high]; else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number
