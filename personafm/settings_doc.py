"""The reference of every scenario setting (docs/settings.md), generated from the models.

The pydantic models are the single source of each setting's type, range, default
and description; this module renders them as Markdown tables (one per section of
a scenario file) and reads a field's numeric bounds for others (the CLI bounds its
flags with the ranges of the settings they override). A test keeps the committed
file equal to :func:`render_settings_doc`. Regenerate it with::

    .venv/bin/python -m personafm.settings_doc > docs/settings.md
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from personafm.scenario import Scenario
from sim.rng import MAX_SEED

HEADER = """\
# Scenario settings

Every setting a scenario file (TOML) may hold, with its type, its allowed range and its
default. Numbers must be finite (`inf` and `nan` are refused). `[]` marks an array of
tables (`[[stations]]`, `[[listeners.probes]]`). A station's `[stations.model]` starts
from the scenario's `[model]` and overrides it field by field.

Generated from the pydantic models by `python -m personafm.settings_doc`; do not edit by
hand (a test checks that this file is current).
"""


@dataclass(frozen=True, slots=True)
class Bounds:
    """A closed or open interval; ``None`` is unbounded on that side."""

    lower: Any = None
    lower_inclusive: bool = True
    upper: Any = None
    upper_inclusive: bool = True

    def contains(self, value: Any) -> bool:
        if self.lower is not None and not (
            value >= self.lower if self.lower_inclusive else value > self.lower
        ):
            return False
        return self.upper is None or (
            value <= self.upper if self.upper_inclusive else value < self.upper
        )

    def words(self) -> str:
        """E.g. ``greater than 0 and at most 8,784``, for an error message."""
        parts = []
        if self.lower is not None:
            op = "at least" if self.lower_inclusive else "greater than"
            parts.append(f"{op} {_number(self.lower)}")
        if self.upper is not None:
            op = "at most" if self.upper_inclusive else "less than"
            parts.append(f"{op} {_number(self.upper)}")
        return " and ".join(parts) or "any number"

    def describe(self) -> str:
        """E.g. ``0 < x ≤ 8,784``; empty when unbounded."""
        parts = []
        if self.lower is not None:
            parts.append(f"{_number(self.lower)} {'≤' if self.lower_inclusive else '<'} ")
        if self.lower is not None or self.upper is not None:
            parts.append("x")
        if self.upper is not None:
            parts.append(f" {'≤' if self.upper_inclusive else '<'} {_number(self.upper)}")
        return "".join(parts)


def bounds_of(metadata: Iterable[Any]) -> Bounds:
    """The bounds the constraints in a field's metadata (``Ge``, ``Gt``, ``Le``, ``Lt``) set."""
    b = Bounds()
    for m in metadata:
        if isinstance(m, at.Ge):
            b = Bounds(m.ge, True, b.upper, b.upper_inclusive)
        elif isinstance(m, at.Gt):
            b = Bounds(m.gt, False, b.upper, b.upper_inclusive)
        elif isinstance(m, at.Le):
            b = Bounds(b.lower, b.lower_inclusive, m.le, True)
        elif isinstance(m, at.Lt):
            b = Bounds(b.lower, b.lower_inclusive, m.lt, False)
    return b


def field_bounds(model: type[BaseModel], name: str) -> Bounds:
    return bounds_of(model.model_fields[name].metadata)


@dataclass(frozen=True, slots=True)
class SettingRow:
    path: str
    type: str
    range: str
    default: str
    description: str


def setting_rows(model: type[BaseModel] = Scenario) -> Iterator[SettingRow]:
    """One row per setting reachable from ``model``, depth first, in field order."""
    yield from _rows(model, "", {})


def render_settings_doc() -> str:
    """docs/settings.md: the header, then one table per section of a scenario file."""
    sections: dict[str, list[SettingRow]] = {}
    for row in setting_rows():
        head = row.path.split(".")[0].removesuffix("[]")
        is_table = "." in row.path or row.type in ("table", "array of tables")
        sections.setdefault(head if is_table else "", []).append(row)
    out = [HEADER]
    for name, rows in sorted(sections.items(), key=lambda kv: kv[0] != ""):
        if not name:
            title = "Top level"
        elif rows[0].type == "array of tables":
            title = f"`[[{name}]]`"
        else:
            title = f"`[{name}]`"
        out.append(f"## {title}\n")
        out.append("| Setting | Type | Range | Default | Description |")
        out.append("|---|---|---|---|---|")
        for r in rows:
            description = r.description.replace("<", "&lt;")  # not an HTML tag
            cells = (f"`{r.path}`", r.type, r.range, r.default, description)
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)


# -- walking the models -----------------------------------------------------------------
def _rows(model: type[BaseModel], prefix: str, seen: dict[type, str]) -> Iterator[SettingRow]:
    seen.setdefault(model, prefix.rstrip("."))
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        tp, optional = _strip_none(field.annotation)
        nested = _model_in(tp)
        if nested is not None:
            listed = get_origin(tp) is list
            here = f"{path}[]" if listed else path
            if nested in seen:  # the same table documented elsewhere: point there
                yield SettingRow(here, "table", "", _default(field), _join(
                    field.description, f"Same fields as `{seen[nested]}`."
                ))  # fmt: skip
                continue
            if listed:
                length = _length(field.metadata)
                yield SettingRow(here, "array of tables", length, _default(field),
                                 field.description or "")  # fmt: skip
            elif optional:
                yield SettingRow(here, "table", "", _default(field), field.description or "")
            yield from _rows(nested, f"{here}.", seen)
            continue
        yield SettingRow(
            path=path,
            type=_type_name(tp),
            range=_range(tp, field.metadata),
            default=_default(field),
            description=field.description or "",
        )


def _strip_none(tp: Any) -> tuple[Any, bool]:
    """(``X``, True) for ``X | None``; (``tp``, False) otherwise."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _model_in(tp: Any) -> type[BaseModel] | None:
    """The model a field holds directly or as a list of them."""
    if get_origin(tp) is list:
        tp = get_args(tp)[0]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


def _unannotated(tp: Any) -> tuple[Any, list[Any]]:
    """(the bare type, its constraints) for ``Annotated[T, Field(...)]``."""
    if get_origin(tp) is Annotated:
        base, *extra = get_args(tp)
        meta: list[Any] = []
        for m in extra:
            meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
        return base, meta
    return tp, []


_NAMES = {float: "float", int: "integer", str: "string", bool: "boolean", datetime: "datetime"}


def _type_name(tp: Any) -> str:
    tp, _ = _unannotated(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return "string"
    if origin is list:
        return f"array of {_type_name(args[0])}"
    if origin is tuple:
        return f"array of {len(args)} {_type_name(args[0])}"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    return _NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _range(tp: Any, metadata: list[Any]) -> str:
    tp, inner = _unannotated(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return " or ".join(f"`{json.dumps(a)}`" for a in args)
    if origin in (list, tuple, dict):
        item = args[1] if origin is dict else args[0]
        each = _range(item, [])
        parts = [f"each {each}"] if each else []
        if origin is list and (length := _length(metadata)):
            parts.append(length)
        return "; ".join(parts)
    meta = [*inner, *metadata]
    if tp is str:
        parts = []
        if length := _length(meta, "characters"):
            parts.append(length)
        parts += [f"matches `{m.pattern}`" for m in meta if getattr(m, "pattern", None)]
        return "; ".join(parts)
    return bounds_of(meta).describe()


def _length(metadata: Iterable[Any], unit: str = "items") -> str:
    lo = next((m.min_length for m in metadata if isinstance(m, at.MinLen)), 0)
    hi = next((m.max_length for m in metadata if isinstance(m, at.MaxLen)), None)
    if hi is None:
        return f"at least {lo:,} {unit.removesuffix('s') if lo == 1 else unit}" if lo else ""
    return f"{lo:,}–{hi:,} {unit}" if lo else f"at most {hi:,} {unit}"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return ""
    return "not set" if value is None else f"`{_toml(value)}`"


def _toml(value: Any) -> str:
    """A default as it would be written in a scenario file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _number(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if value == MAX_SEED:
        return f"{value:,} (2^63 − 1)"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    print(render_settings_doc(), end="")
