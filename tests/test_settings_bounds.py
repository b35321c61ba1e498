"""Every numeric setting of a scenario is finite and bounded, and docs/settings.md says how.

The walk below finds every pydantic model reachable from ``Scenario`` and every
number in it (fields, and items of list, tuple and dict fields), so a new
setting without a range (or one that lets ``inf`` or ``nan`` through) fails here.
"""

from __future__ import annotations

import enum
import math
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types as at
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from economy.config import MAX_BALANCE_USD, EconomyConfig, cents
from personafm.scenario import RunSettings, Scenario, ScenarioError, parse_scenario
from personafm.settings_doc import render_settings_doc
from sim.rng import MAX_SEED
from stations.config import StationConfig
from testkit.helpers import scripted_toml

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


@dataclass(frozen=True)
class Leaf:
    """A number in a model: a field, or the items (``container``) of a field."""

    model: type[BaseModel]
    field: str
    kind: type  # int or float
    container: str  # "" | "list" | "tuple" | "dict"
    metadata: tuple[Any, ...]

    @property
    def name(self) -> str:
        return f"{self.model.__name__}.{self.field}" + (
            f"[{self.container}]" * bool(self.container)
        )


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for tp in _types_in(field.annotation):
                if isinstance(tp, type) and issubclass(tp, BaseModel):
                    visit(tp)

    visit(root)
    return seen


def _types_in(tp: Any) -> Iterator[Any]:
    """``tp`` and every type nested in it (unions, containers, Annotated)."""
    yield tp
    for arg in get_args(tp):
        if isinstance(arg, FieldInfo) or not (isinstance(arg, type) or get_args(arg)):
            continue
        yield from _types_in(arg)


def _unwrap(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """(the type without ``| None`` and ``Annotated``, the constraints Annotated carried)."""
    meta: tuple[Any, ...] = ()
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            base, *extra = get_args(tp)
            for m in extra:
                meta += tuple(m.metadata) if isinstance(m, FieldInfo) else (m,)
            tp = base
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta


def _is_number(tp: Any) -> bool:
    return tp in (int, float)


def numeric_leaves(root: type[BaseModel]) -> list[Leaf]:
    leaves = []
    for model in _models(root):
        for name, field in model.model_fields.items():
            tp, meta = _unwrap(field.annotation)
            if _is_number(tp):
                leaves.append(Leaf(model, name, tp, "", (*meta, *field.metadata)))
                continue
            origin = get_origin(tp)
            if origin in (list, tuple, dict):
                args = get_args(tp)
                items = args[1:] if origin is dict else args
                for item in dict.fromkeys(items):  # a pair's two items are one leaf
                    item_tp, item_meta = _unwrap(item)
                    if _is_number(item_tp):
                        leaves.append(Leaf(model, name, item_tp, origin.__name__, item_meta))
            elif tp not in (str, bool) and not (
                isinstance(tp, type) and issubclass(tp, BaseModel | enum.Enum)
            ):
                assert get_origin(tp) is not None or tp.__module__ == "datetime", (
                    f"{model.__name__}.{name}: a type this test does not know: {tp}"
                )
    return leaves


def _unbounded(leaf: Leaf) -> list[str]:
    lower = any(isinstance(m, at.Ge | at.Gt) for m in leaf.metadata)
    upper = any(isinstance(m, at.Le | at.Lt) for m in leaf.metadata)
    return [side for side, ok in (("lower", lower), ("upper", upper)) if not ok]


LEAVES = numeric_leaves(Scenario)


def test_the_walk_reaches_every_config_model_and_many_numbers() -> None:
    names = {m.__name__ for m in _models(Scenario)}
    assert {
        "RunSettings", "EconomyConfig", "AudienceConfig", "ListenerConfig", "ProbeConfig",
        "SponsorConfig", "SponsorModel", "ModelSpec", "PersonaTraits", "StationConfig",
        "RulesConfig", "ClockConfig",
    } <= names  # fmt: skip
    found = {leaf.name for leaf in LEAVES}
    assert {
        "ProbeConfig.at_hours[list]", "ListenerConfig.paid_request_usd[tuple]",
        "ClockConfig.ad_break_minutes[list]", "ListenerConfig.kind_weights[dict]",
        "AudienceConfig.ad_retention[list]", "RunSettings.seed", "StationConfig.seed",
    } <= found  # fmt: skip
    assert len(LEAVES) > 80


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_every_number_has_a_lower_and_an_upper_bound(leaf: Leaf) -> None:
    assert not _unbounded(leaf), f"{leaf.name} has no {' or '.join(_unbounded(leaf))} bound"


def _shaped(leaf: Leaf, value: Any) -> Any:
    """``value`` where the leaf's number goes (an item, for a container)."""
    return {
        "": value,
        "list": [value],
        "tuple": [value, value],
        "dict": {"request": value},
    }[leaf.container]


def _errors_at(leaf: Leaf, value: Any) -> list[dict[str, Any]]:
    """Validation errors at the leaf when it holds ``value`` (other fields may be missing)."""
    try:
        leaf.model.model_validate({leaf.field: _shaped(leaf, value)})
    except ValidationError as exc:
        return [e for e in exc.errors() if e["loc"] and e["loc"][0] == leaf.field]
    return []


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.name)
def test_every_number_refuses_inf_nan_and_the_absurd(leaf: Leaf) -> None:
    if leaf.kind is float:
        for bad in (math.inf, -math.inf, math.nan):
            errors = _errors_at(leaf, bad)
            assert any(e["type"] == "finite_number" for e in errors), (leaf.name, bad, errors)
        huge = 1e300
    else:
        huge = 10**30
    for bad in (huge, -huge):
        assert _errors_at(leaf, bad), f"{leaf.name} accepts {bad}"


def test_the_walk_would_catch_an_unbounded_or_infinite_setting() -> None:
    class Sloppy(BaseModel):
        model_config = ConfigDict(extra="forbid")

        rate: float = Field(1.0, ge=0)
        sizes: list[int] = Field(default_factory=list)
        fine: Annotated[float, Field(ge=0, le=1)] = 0.5

    class Root(BaseModel):
        sloppy: Sloppy | None = None

    leaves = {leaf.name: leaf for leaf in numeric_leaves(Root)}
    assert set(leaves) == {"Sloppy.rate", "Sloppy.sizes[list]", "Sloppy.fine"}
    assert _unbounded(leaves["Sloppy.rate"]) == ["upper"]
    assert _unbounded(leaves["Sloppy.sizes[list]"]) == ["lower", "upper"]
    assert _unbounded(leaves["Sloppy.fine"]) == []
    assert not any(
        e["type"] == "finite_number" for e in _errors_at(leaves["Sloppy.fine"], math.nan)
    )


def test_seeds_fit_in_63_bits() -> None:
    assert RunSettings(seed=MAX_SEED).seed == MAX_SEED
    for bad in (MAX_SEED + 1, 2**64, -1):
        with pytest.raises(ValidationError):
            RunSettings(seed=bad)
    StationConfig(call_sign="KAAA", seed=MAX_SEED)
    with pytest.raises(ValidationError, match="seed \\+ count - 1"):
        StationConfig(call_sign="KAAA", seed=MAX_SEED, count=2)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("start_balance_usd", 1e17),
        ("start_balance_usd", math.inf),
        ("hosting_fee_usd_per_day", 1e17),
        ("song_price_usd", math.nan),
    ],
)
def test_money_is_bounded(key: str, value: float) -> None:
    with pytest.raises(ValidationError):
        EconomyConfig.model_validate({key: value})


def test_the_largest_balance_is_exact_in_cents() -> None:
    top = EconomyConfig(start_balance_usd=MAX_BALANCE_USD).start_balance_usd
    assert cents(top) == MAX_BALANCE_USD * 100


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("economy.start_balance_usd", math.inf),
        ("economy.hosting_fee_usd_per_day", 1e17),
        ("run.seed", 2**64 + 1),
        ("audience.off_utility", math.nan),
        ("sponsors.approach_every_hours", 1e-300),
        ("audience.ad_sensitivity_spread", 1e-200),
        ("run.start", "9999-12-31T23:00:00"),
    ],
)
def test_a_hostile_setting_is_a_clear_scenario_error(path: str, value: Any) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(scripted_toml(hours=1, stations=1), "bad.toml", {path: value})
    message = str(err.value)
    assert message.startswith("bad.toml: invalid scenario") and path in message


def test_docs_settings_md_is_current() -> None:
    rendered = render_settings_doc()
    assert DOC.read_text(encoding="utf-8") == rendered, (
        "docs/settings.md is stale: run `.venv/bin/python -m personafm.settings_doc "
        "> docs/settings.md`"
    )


def test_docs_list_every_number_with_its_range() -> None:
    text = render_settings_doc()
    for needle in (
        "| `run.seed` | integer | 0 ≤ x ≤ 9,223,372,036,854,775,807",
        "| `economy.start_balance_usd` | float | 0 ≤ x ≤ 1,000,000 |",
        "| `clock.ad_break_minutes` | array of integer | each 1 ≤ x ≤ 59; at most 4 items |",
        "| `stations[].model` | table |",
    ):
        assert needle in text
