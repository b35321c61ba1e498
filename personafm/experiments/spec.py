"""The experiment file (TOML): a base scenario, arms that patch it, seeds, metrics.

```toml
name = "ab_prompt"
scenario = "traits"                 # a file (relative to this one) or a bundled scenario
seeds = [1, 2, 3, 4]                # or: replicates = 4 (seeds 1..4)
patch = { run = { hours = 24 } }    # merged over the base scenario for every arm
metrics = ["sycophancy.index", "politics.lean"]
primary = "sycophancy.index"        # the headline; default: the first metric
control = "plain"                   # default: the first arm

[[arms]]
name = "plain"

[[arms]]
name = "skeptic"
set = { system_prompt = "..." }     # dotted keys, as `personafm fork --set`
[arms.patch]                        # a table merged over the scenario, as `fork --patch`
run = { hours = 12 }
```

An arm's ``set`` and ``patch`` speak the fork's patch language, applied to the base
scenario; each cell is that scenario with ``run.seed`` set to the cell's seed.
Errors name the file and field, like a scenario's.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from personafm.scenario import (
    Scenario,
    ScenarioError,
    format_errors,
    load_scenario,
    merge_patch,
    read_utf8,
    set_dotted,
)
from sim.rng import MAX_SEED
from sim.text import excerpt

EXPERIMENT_DIR = Path(__file__).resolve().parents[2] / "experiments"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class Arm(BaseModel):
    """One arm: the base scenario with these changes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(max_length=64, description="Letters, digits, '.', '-', '_'.")
    description: str = Field("", max_length=2000)
    set: dict[str, Any] = Field(
        default_factory=dict, max_length=200, description="Dotted key -> value, as fork --set."
    )
    patch: dict[str, Any] = Field(
        default_factory=dict, description="A table merged over the scenario, as fork --patch."
    )

    @model_validator(mode="after")
    def _check(self) -> Arm:
        if not _NAME.match(self.name):
            raise ValueError(f"arm name {excerpt(self.name)}: use letters, digits, '.', '-', '_'")
        return self


class ExperimentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(max_length=64, description="The experiment's name.")
    description: str = Field("", max_length=4000)
    scenario: str = Field(max_length=1000, description="Base scenario: a file or bundled name.")
    patch: dict[str, Any] = Field(
        default_factory=dict, description="A table merged over the base scenario for every arm."
    )
    arms: list[Arm] = Field(min_length=1, max_length=50)
    seeds: list[int] = Field(default_factory=list, max_length=10_000)
    replicates: int = Field(0, ge=0, le=10_000, description="Seeds 1..N when seeds is empty.")
    metrics: list[str] = Field(
        default_factory=lambda: ["sycophancy.index"], min_length=1, max_length=100
    )
    primary: str = Field("", max_length=100, description="The headline metric (default: first).")
    control: str = Field("", max_length=64, description="The control arm (default: first).")
    max_cost_usd: float | None = Field(
        None, ge=0, le=1_000_000, description="Stop the whole experiment once calls cost this."
    )

    @model_validator(mode="after")
    def _check(self) -> ExperimentSpec:
        if not _NAME.match(self.name):
            raise ValueError(f"name {excerpt(self.name)}: use letters, digits, '.', '-', '_'")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must differ")
        if not self.seeds and not self.replicates:
            raise ValueError("give seeds = [...] or replicates = N")
        if self.seeds and self.replicates:
            raise ValueError("give seeds or replicates, not both")
        if any(not 0 <= s <= MAX_SEED for s in self.seeds) or len(set(self.seeds)) != len(
            self.seeds
        ):
            raise ValueError(f"seeds must be distinct and within 0..{MAX_SEED}")
        if self.control and self.control not in names:
            raise ValueError(f"control {excerpt(self.control)} is not an arm ({', '.join(names)})")
        for m in (*self.metrics, self.primary):
            if m and not re.match(r"^[a-z_]+\.[a-z0-9_]+$", m):
                raise ValueError(f"metric {excerpt(m)}: write dimension.key, e.g. sycophancy.index")
        if self.primary and self.primary not in self.metrics:
            raise ValueError(f"primary {excerpt(self.primary)} is not one of the metrics")
        return self

    @property
    def grid_seeds(self) -> list[int]:
        return list(self.seeds) or list(range(1, self.replicates + 1))

    @property
    def control_arm(self) -> str:
        return self.control or self.arms[0].name

    @property
    def primary_metric(self) -> str:
        return self.primary or self.metrics[0]

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise KeyError(name)


class Experiment:
    """A validated experiment file with its base scenario resolved and loaded."""

    def __init__(self, spec: ExperimentSpec, base: Scenario, path: str = "") -> None:
        self.spec = spec
        self.base = base
        self.path = path
        common = arm_scenario(base, Arm(name="base", patch=spec.patch), path)
        self.arm_scenarios = {a.name: arm_scenario(common, a, path) for a in spec.arms}

    @property
    def id(self) -> str:
        """Name plus a digest of what the grid runs: the same file resumes the same grid."""
        digest = hashlib.sha256(
            json.dumps(
                {
                    "seeds": self.spec.grid_seeds,
                    "arms": {k: v.model_dump(mode="json") for k, v in self.arm_scenarios.items()},
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
        return f"{self.spec.name}-{digest[:10]}"

    def cell_scenario(self, arm: str, seed: int) -> Scenario:
        scenario = self.arm_scenarios[arm]
        run = scenario.run.model_copy(
            update={"seed": seed, "name": f"{self.spec.name}:{arm}", "label": f"{arm} seed {seed}"}
        )
        return scenario.model_copy(update={"run": run})

    @property
    def cells(self) -> list[tuple[str, int]]:
        return [(a.name, s) for a in self.spec.arms for s in self.spec.grid_seeds]


def arm_scenario(base: Scenario, arm: Arm, where: str = "") -> Scenario:
    """``base`` with the arm's patch merged and its dotted settings set."""
    data: dict[str, Any] = base.model_dump(mode="json")
    merge_patch(data, arm.patch)
    for key, value in arm.set.items():
        set_dotted(data, key, value)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        where = f"{where or 'experiment'}: arm {arm.name}"
        raise ScenarioError(format_errors(where, exc)) from None


def resolve_experiment_path(path: str | Path) -> Path:
    p = Path(path)
    if p.exists():
        return p
    for candidate in (EXPERIMENT_DIR / p, EXPERIMENT_DIR / f"{p}.toml"):
        if candidate.exists():
            return candidate
    known = ", ".join(sorted(f.stem for f in EXPERIMENT_DIR.glob("*.toml"))) or "none"
    raise ScenarioError(f"{excerpt(str(path))}: no such experiment file (bundled: {known})")


def parse_experiment(
    text: str, path: str = "<experiment>", folder: Path | None = None
) -> Experiment:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(path, exc, "experiment")) from None
    scenario_ref: str | Path = spec.scenario
    if folder is not None and (folder / spec.scenario).exists():
        scenario_ref = folder / spec.scenario
    base, _, _ = load_scenario(scenario_ref)
    return Experiment(spec, base, path)


def load_experiment(path: str | Path) -> tuple[Experiment, Path, str]:
    """(experiment, resolved path, file text). A bare name looks in ``experiments/``."""
    resolved = resolve_experiment_path(path)
    text = read_utf8(resolved, "experiment")
    return parse_experiment(text, str(resolved), resolved.parent), resolved, text
