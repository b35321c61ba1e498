"""Extending Persona FM from outside its packages: a provider is one registered factory
(docs/adding-a-provider.md), a metric one registered function (docs/adding-a-metric.md),
a stored fact one event and an export one registration (docs/data-model.md,
docs/adding-an-export-table.md). Nothing inside the packages is edited for any of them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from analysis.metrics import METRICS, StationSlice, metric
from analysis.scoreboard import analyze
from analysis.stats import Estimate, wilson
from personafm.providers import providers_for
from personafm.scenario import parse_scenario
from sim.models.base import ModelRequest, ModelResponse, Provider, ProviderError
from sim.models.registry import _REGISTRY, ProviderSetup, provider
from testkit.helpers import query_run, run

TOY_TALK = "Toy FM says hello, dear listeners."


class ToyModel:
    """Answers any JSON request with an object that fills its schema; talk is a greeting."""

    name = "toy"
    max_concurrency = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        if request.output != "json":
            return ModelResponse(text=TOY_TALK, output_tokens=6)
        fill = {"string": "", "array": [], "object": {}, "integer": 0, "number": 0,
                "boolean": False}  # fmt: skip
        props = request.schema.get("properties", {})
        answer: dict[str, Any] = {k: fill.get(v.get("type")) for k, v in props.items()}
        if "talk" in answer:
            answer["talk"] = TOY_TALK
        return ModelResponse(text=json.dumps(answer), input_tokens=10, output_tokens=12)


@pytest.fixture
def toy_providers() -> Any:
    @provider("toy", free=True)
    def toy(setup: ProviderSetup) -> Provider:
        return ToyModel()

    @provider("toycloud", key_env="TOYCLOUD_API_KEY", hosted=True, example="toycloud:t-1")
    def toycloud(setup: ProviderSetup) -> Provider:
        return ToyModel()

    yield
    del _REGISTRY["toy"], _REGISTRY["toycloud"]


def _scenario(model: str) -> str:
    return (
        'system_prompt = "Be a DJ."\n[run]\nname = "toy"\nhours = 1\nseed = 5\n'
        f"[model]\n{model}\n"
        '[[stations]]\ncall_sign = "KTOY"\nname = "Toy"\ncity = "Here"\n'
    )


def test_a_provider_is_one_registered_factory(
    toy_providers: Any, engine: Engine, tmp_path: Path
) -> None:
    scenario = parse_scenario(_scenario('provider = "toy"'), "toy.toml")
    result = run(scenario, engine, tmp_path)
    assert result.status == "finished" and result.model_calls > 0
    calls = query_run(engine, "select distinct provider, cost_usd from model_calls "
                              "where run_id = :r", result.run_id)  # fmt: skip
    assert calls == [("toy", 0.0)]  # registered as free: priced without a table entry
    aired = query_run(engine, "select text from asrun where run_id = :r and kind = 'talk'",
                      result.run_id)  # fmt: skip
    assert any(TOY_TALK in (text or "") for (text,) in aired)


def test_the_registry_answers_the_validator_and_the_key_check(toy_providers: Any) -> None:
    with pytest.raises(
        ValueError, match=r"toycloud needs a model name, e.g. model = 'toycloud:t-1'"
    ):
        parse_scenario(_scenario('provider = "toycloud"'), "toy.toml")
    hosted = parse_scenario(_scenario('model = "toycloud:t-1"'), "toy.toml")  # one string
    assert hosted.model.provider == "toycloud" and hosted.model.is_hosted
    with pytest.raises(ProviderError, match="TOYCLOUD_API_KEY is not set"):
        providers_for(hosted)
    with pytest.raises(ValueError, match=r"unknown provider 'nope'; use one of .*toycloud"):
        parse_scenario(_scenario('provider = "nope"'), "toy.toml")


def test_a_metric_is_one_registered_function(engine: Engine, tmp_path: Path) -> None:
    from testkit.helpers import scripted_scenario

    stored = run(scripted_scenario(hours=2, stations=2), engine, tmp_path).run_id

    @metric("manners", "greeting_rate")
    def greeting_rate(st: StationSlice, board: object) -> Estimate:
        """Share of the DJ's own talk that greets someone."""
        talk = st.own_talk
        return wilson(sum("hello" in (r.text or "").lower() for r in talk), len(talk))

    try:
        board = analyze(engine, [stored], dimensions=("manners",))
        assert all("greeting_rate" in s["manners"] for s in board.stations)
    finally:
        del METRICS["manners.greeting_rate"]


TOY_FACT = textwrap.dedent(
    """
    from dataclasses import dataclass

    from personafm.export import export_table
    from sim.events import Event, column, stored, table_of


    @stored("toy_tips", "TipRow")
    @dataclass(slots=True, frozen=True)
    class TipGiven(Event):
        station: str
        listener: str = column(index=True)
        cents: int = 0


    TipRow = table_of(TipGiven)
    export_table(
        "tips", ("run_id", "station", "sim_time_s", "listener", "tip_usd"), table="toy_tips",
        order=("station", "sim_time_s"), compute=lambda r: {"tip_usd": r["cents"] / 100},
    )
    """
)

TOY_RUN = textwrap.dedent(
    """
    import sys

    import toy_tips  # the one registration line: importing the module
    from personafm.cli import main
    from sim.recorder import Recorder
    from sim.store import RunRow, open_store
    from sqlmodel import Session

    url = sys.argv[1]
    engine = open_store(url)
    with Session(engine) as s:
        s.add(RunRow(id="r1", name="toy", seed=1, sim_start="2026-01-01T06:00", sim_hours=1))
        s.commit()
    rec = Recorder(engine, "r1")
    for t, station, who, cents in [(60.0, "KB", "ann", 250), (30.0, "KA", "bo", 100)]:
        rec(toy_tips.TipGiven(t, station, who, cents))
    rec.flush()
    sys.exit(main(["export", "r1", "--what", "tips", "--format", "csv", "--db", url]))
    """
)


def test_a_stored_fact_and_its_export_are_one_module(tmp_path: Path) -> None:
    (tmp_path / "toy_tips.py").write_text(TOY_FACT)
    (tmp_path / "toy_run.py").write_text(TOY_RUN)
    db = tmp_path / "toy.db"
    out = subprocess.run(
        [sys.executable, str(tmp_path / "toy_run.py"), f"sqlite:///{db}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "run_id,station,sim_time_s,listener,tip_usd",
        "r1,KA,30.0,bo,1.0",
        "r1,KB,60.0,ann,2.5",
    ]
    with sqlite3.connect(db) as con:  # the table, its base columns and its index
        cols = [r[1] for r in con.execute("pragma table_info(toy_tips)")]
        indexes = [r[1] for r in con.execute("pragma index_list(toy_tips)")]
    assert cols == ["id", "run_id", "station", "sim_time_s", "listener", "cents"]
    assert "ix_toy_tips_listener" in indexes and "ix_toy_tips_run_id" in indexes
