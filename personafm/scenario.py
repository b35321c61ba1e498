"""Scenario files (TOML), validated by pydantic, with errors that name file, field and fix."""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from economy.audience import AudienceConfig
from economy.config import MAX_BALANCE_USD, EconomyConfig
from economy.listeners import ListenerConfig
from economy.sponsors import SponsorConfig, SponsorModel
from sim.models.registry import provider_names
from sim.rng import MAX_SEED
from sim.text import excerpt, printable
from stations.clock import ClockConfig
from stations.config import ModelSpec, StationConfig
from stations.harness import HarnessConfig
from stations.personas import SCRIPTED  # noqa: F401  (registers the "scripted" provider)
from stations.programming import RulesConfig

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message says where and how to fix it."""


class RunSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field("unnamed", min_length=1, max_length=80, description="Shown in `runs`.")
    label: str = Field(
        "",
        max_length=200,
        description="Free text that tells this run apart (`--label`); shown in `runs` and `show`.",
    )
    hours: float = Field(24.0, gt=0, le=24 * 366, description="Simulated hours to run.")
    seed: int = Field(
        0, ge=0, le=MAX_SEED, description="Run seed; every random stream derives from it."
    )
    start: datetime = Field(
        datetime(2026, 1, 5, 6, 0),
        ge=datetime(1900, 1, 1),
        lt=datetime(2200, 1, 1),
        description="Simulated wall clock at t=0 (local time).",
    )
    record_requests: bool = Field(
        True,
        description="Store each call's messages, system prompt and schema (large); "
        "hashes, parameters and responses are always stored.",
    )
    event_log: bool = Field(True, description="Write logs/<run>.jsonl with every event.")
    prices: str = Field(
        "",
        max_length=4096,
        description="A price table (TOML) merged over the bundled one; empty: bundled.",
    )
    max_cost_usd: float | None = Field(
        None,
        gt=0,
        le=MAX_BALANCE_USD,
        description="Stop the run cleanly once model calls have cost this much.",
    )


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run: RunSettings = Field(default_factory=RunSettings)
    system_prompt: str = Field(
        min_length=1,
        max_length=20_000,
        description="The system prompt every station gets (the same for all stations, "
        "unless one overrides it).",
    )
    model: ModelSpec = Field(default_factory=ModelSpec)
    economy: EconomyConfig = Field(default_factory=EconomyConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    clock: ClockConfig = Field(default_factory=ClockConfig)
    audience: AudienceConfig = Field(default_factory=AudienceConfig)
    listeners: ListenerConfig = Field(default_factory=ListenerConfig)
    sponsors: SponsorConfig = Field(default_factory=SponsorConfig)
    harness: HarnessConfig = Field(default_factory=HarnessConfig)
    stations: list[StationConfig] = Field(
        min_length=1, max_length=10_000, description="The stations on the air."
    )

    @model_validator(mode="before")
    @classmethod
    def _inherit_model(cls, data: Any) -> Any:
        """A station's [stations.model] and [stations.harness] start from the scenario's
        [model] and [harness] and override what they set."""
        if not isinstance(data, dict) or not isinstance(data.get("stations"), list):
            return data
        merged = []
        for st in data["stations"]:
            for table in ("model", "harness"):
                base = data.get(table)
                if (
                    isinstance(base, dict)
                    and isinstance(st, dict)
                    and isinstance(st.get(table), dict)
                ):
                    st = {**st, table: _deep_merge(base, st[table])}
            merged.append(st)
        return {**data, "stations": merged}

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for i, st in enumerate(self.stations):
            spec = st.model or self.model
            if spec.provider not in provider_names():
                where = f"stations.{i}.model.provider" if st.model else "model.provider"
                known = ", ".join(provider_names())
                raise ValueError(f"{where}: unknown provider {spec.provider!r}; use one of {known}")
        if self.sponsors.model_driven and self.sponsors.model.provider not in provider_names():
            known = ", ".join(provider_names())
            raise ValueError(
                f"sponsors.model.provider: unknown provider {self.sponsors.model.provider!r}; "
                f"use one of {known}"
            )
        if self.sponsors.model_driven > self.sponsors.count:
            raise ValueError("sponsors.model_driven: cannot exceed sponsors.count")
        signs = [s.call_sign for s in self.expanded()]
        dupes = sorted(sign for sign, n in Counter(signs).items() if n > 1)
        if dupes:
            raise ValueError(f"stations: call signs must be unique, repeated: {', '.join(dupes)}")
        for i, probe in enumerate(self.listeners.probes):
            unknown = sorted(set(probe.stations) - set(signs))
            if unknown:
                raise ValueError(
                    f"listeners.probes.{i}.stations: no such station "
                    + ", ".join(excerpt(s) for s in unknown[:5])
                )
        return self

    def expanded(self) -> list[StationConfig]:
        """One config per station, with ``count`` replicas numbered (KS001, KS002...)."""
        out: list[StationConfig] = []
        for st in self.stations:
            if st.count == 1:
                out.append(st)
                continue
            width = len(str(st.count))
            for k in range(1, st.count + 1):
                out.append(
                    st.model_copy(
                        update={
                            "call_sign": f"{st.call_sign}{k:0{width}d}",
                            "name": f"{st.name} {k}".strip(),
                            "seed": None if st.seed is None else st.seed + k - 1,
                            "count": 1,
                        }
                    )
                )
        return out

    def sponsor_model(self) -> SponsorModel | None:
        """The model behind model-driven sponsors, if any sponsor is model-driven."""
        return self.sponsors.model if self.sponsors.model_driven else None

    def uses_local(self) -> bool:
        """Whether any station or sponsor runs on the embedded local model."""
        sponsor = self.sponsor_model()
        if sponsor is not None and sponsor.provider == "local":
            return True
        return any(self.model_for(s).provider == "local" for s in self.stations)

    def model_for(self, station: StationConfig) -> ModelSpec:
        return station.model or self.model

    def harness_for(self, station: StationConfig) -> HarnessConfig:
        return station.harness or self.harness

    def prompt_for(self, station: StationConfig) -> str:
        return station.system_prompt or self.system_prompt


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    named = over.get("model")
    names = provider_names()
    if isinstance(named, str) and "provider" not in over and named.split(":")[0] in names:
        out.pop("provider", None)  # a 'provider:model' string names its own provider
        out.pop("base_url", None)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def format_errors(path: str, exc: ValidationError, what: str = "scenario") -> str:
    """One line per error (ten at most), quoting only a short excerpt of each bad value."""
    lines = [f"{path}: invalid {what}"]
    for err in exc.errors()[:10]:
        loc = _clip(".".join(str(p) for p in err["loc"])) or "(top level)"
        msg = _clip(err["msg"].removeprefix("Value error, "), 300)
        got = err.get("input")
        hint = ""
        if err["type"] == "extra_forbidden":
            hint = f" (unknown field: check the spelling; see README '{what.capitalize()} format')"
        elif err["type"] == "missing":
            hint = " (add it)"
        elif not isinstance(got, dict | list):
            hint = f" (got {excerpt(got)})"
        lines.append(f"  {loc}: {msg}{hint}")
    return "\n".join(lines)


def _clip(text: str, limit: int = 120) -> str:
    """``text`` on one printable line, cut to ``limit`` characters (keys can be hostile too)."""
    text = printable(text, one_line=True)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def parse_scenario(
    text: str, path: str = "<scenario>", overrides: dict[str, Any] | None = None
) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(path, exc)) from None


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> tuple[Scenario, Path, str]:
    """(scenario, resolved path, file text). A bare name looks in ``scenarios/``."""
    resolved = resolve_scenario_path(path)
    text = read_utf8(resolved, "scenario")
    return parse_scenario(text, str(resolved), overrides), resolved, text


def read_utf8(path: Path, what: str) -> str:
    """A file's text, or a ``ScenarioError`` naming the file and why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read {what}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: {not_utf8(exc)}") from None


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Why a file could not be decoded, for a message that starts with the file's name."""
    byte = exc.object[exc.start]
    return f"not UTF-8 text (byte {byte:#04x} at offset {exc.start:,}); save it as UTF-8"


def resolve_scenario_path(path: str | Path | None) -> Path:
    if path is None:
        return SCENARIO_DIR / "default.toml"
    p = Path(path)
    if p.exists():
        return p
    for candidate in (SCENARIO_DIR / p, SCENARIO_DIR / f"{p}.toml"):
        if candidate.exists():
            return candidate
    known = ", ".join(sorted(f.stem for f in SCENARIO_DIR.glob("*.toml")))
    raise ScenarioError(f"{_clip(str(path))}: no such scenario file (bundled scenarios: {known})")


def merge_patch(into: dict[str, Any], patch: dict[str, Any]) -> None:
    """Merge a TOML table over parsed scenario data: tables merge, anything else replaces."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_patch(into[key], value)
        else:
            into[key] = value


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.0.c`` in parsed TOML. List items are addressed by index, counted from 0
    as in the file, or, for ``stations``, by call sign (``stations.WBRV.system_prompt``)."""
    *parents, last = dotted.split(".")
    node: Any = data
    try:
        for key in parents:
            if isinstance(node, list):
                node = node[_list_index(node, key, dotted)]
            else:
                node = node.setdefault(key, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    except ScenarioError:
        raise
    except (ValueError, IndexError, TypeError, AttributeError):
        raise ScenarioError(
            f"cannot set {excerpt(dotted)}: no such place in the scenario"
        ) from None


def _list_index(items: list[Any], key: str, dotted: str) -> int:
    """A list item's index: a number (from 0), or the call sign of a station in it."""
    if key.lstrip("-").isdigit():
        return int(key)
    signs = [item.get("call_sign") if isinstance(item, dict) else None for item in items]
    for wanted in (key, key.upper()):
        if wanted in signs:
            return signs.index(wanted)
    known = ", ".join(str(s) for s in signs if s) or "none"
    raise ScenarioError(
        f"cannot set {excerpt(dotted)}: no station {excerpt(key)} (stations: {known}; or an "
        "index from 0)"
    )
