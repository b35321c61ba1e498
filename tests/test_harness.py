"""The harness as an experiment axis: tools, memory and the shape of a turn."""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

import stations.applying
import stations.faults
import stations.observing
import stations.station
import stations.station_world
from personafm.providers import providers_for
from personafm.scenario import ScenarioError, parse_scenario
from sim.models.base import ModelRequest, ModelResponse
from stations.harness import HarnessConfig, Tool, TurnShape
from stations.sections import SECTIONS
from stations.sections.base import Applied, Section
from testkit.helpers import export_rows, query_run, run, scripted_toml

BUSY = (
    "[sponsors]\ncount = 6\napproach_every_hours = 1\n"
    "[listeners]\nmessages_per_1000_per_hour = 6\n"
    "[[listeners.probes]]\ncategory = 'politics'\nat_hours = [0.5, 1.5]\n"
)


def _stored_requests(engine: Engine, run_id: str, station: str) -> list[tuple[str, dict]]:
    """(what the model was told, the schema it answered) for each of a station's calls."""
    rows = query_run(
        engine,
        "select c.messages_json, b.text from model_calls c join blobs b "
        "on b.sha256 = c.schema_sha256 where c.run_id = :r and c.station = '" + station + "'",
        run_id,
    )
    return [(messages, json.loads(schema)) for messages, schema in rows]


def test_a_station_never_sees_a_tool_it_lacks(engine: Engine, tmp_path: Path) -> None:
    lean = "tools = ['queue', 'notes']\n"
    text = scripted_toml(hours=4, stations=2, extra="") + BUSY
    block = 'name = "Test 1"\ncity = "Testville"\n'
    text = text.replace(block, f"{block}[stations.harness]\n{lean}", 1)
    result = run(parse_scenario(text, "lean.toml"), engine, tmp_path)
    full = _stored_requests(engine, result.run_id, "KTA")
    lean_calls = _stored_requests(engine, result.run_id, "KTB")
    assert full and lean_calls
    # the full station saw the market; the lean one never did, in words or in schema
    seen = " ".join(m for m, _ in full)
    assert "Listener messages" in seen and "Sponsor offers" in seen and "buyable" in seen
    assert any("replies" in s["properties"] and "deals" in s["properties"] for _, s in full)
    for messages, schema in lean_calls:
        assert set(schema["properties"]) <= {"talk", "queue", "notes"}
        for words in ("Listener messages", "Sponsor offers", "sponsor contracts", "buyable",
                      "buy songs", "browse", "replies", "deals", "donat", "caller"):  # fmt: skip
            assert words not in messages, words
    tools = {s: json.loads(h)["tools"] for s, h in query_run(
        engine, "select station, harness_json from stations where run_id = :r", result.run_id
    )}  # fmt: skip
    assert tools["KTB"] == ["queue", "notes"] and tools["KTA"] == [str(t) for t in Tool]
    # its callers wait on hold: it never picks up, and never answers by letter either
    messages = export_rows(engine, result.run_id, "messages")
    assert not [m for m in messages if m["station"] == "KTB" and m["answer"]]
    assert [m for m in messages if m["station"] == "KTA" and m["answer"]]


class Rewrites:
    """Scripted personas whose station turns pass through ``rewrite``: a model that
    misbehaves in one chosen way."""

    name = "scripted"
    max_concurrency = 0

    def __init__(
        self, scenario: Any, rewrite: Callable[[dict[str, Any], ModelRequest], dict[str, Any]]
    ) -> None:
        self.inner = providers_for(scenario)["scripted"]
        self.rewrite = rewrite

    def complete(self, request: ModelRequest) -> ModelResponse:
        answer = self.inner.complete(request)
        if request.tool_name != "station_turn":
            return answer
        return ModelResponse(text=json.dumps(self.rewrite(json.loads(answer.text), request)))


def pushy(turn: dict[str, Any], _: ModelRequest) -> dict[str, Any]:
    """Sends what its station may not do (buy, deals, donations) every turn."""
    deals = [{"negotiation_id": "N0001", "move": "accept"}]
    return {**turn, "buy": ["s0001"], "deals": deals, "ask_donations": True}


def test_what_a_station_lacks_it_cannot_do(engine: Engine, tmp_path: Path) -> None:
    text = scripted_toml(hours=3, stations=1) + BUSY + "[harness]\ntools = ['queue', 'notes']\n"
    scenario = parse_scenario(text, "lean.toml")
    provider = Rewrites(scenario, pushy)
    result = run(scenario, engine, tmp_path, providers={"scripted": provider})
    refused = [d for (d,) in query_run(
        engine, "select detail from faults where run_id = :r and kind = 'rule_rejected'",
        result.run_id,
    )]  # fmt: skip
    turns = query_run(engine, "select count(*) from turns where run_id = :r and ok", result.run_id)
    for what in ("buy", "deals", "ask_donations"):
        assert sum(d == f"{what}: not a tool of this station" for d in refused) == turns[0][0]
    ledger = export_rows(engine, result.run_id, "ledger")
    assert not [r for r in ledger if r["kind"] == "song_purchase"]
    assert not export_rows(engine, result.run_id, "contracts")


def test_transcript_memory_carries_turns_and_drops_the_oldest(
    engine: Engine, tmp_path: Path
) -> None:
    harness = "[harness]\nmemory = 'transcript'\ntranscript_turns = 3\ntranscript_tokens = 100000\n"
    text = scripted_toml(hours=3, stations=1) + "[sponsors]\ncount = 0\n" + harness
    result = run(parse_scenario(text, "memory.toml"), engine, tmp_path)
    calls = query_run(
        engine,
        "select messages_json, response_text from model_calls where run_id = :r "
        "and station = 'KTA' order by seq",
        result.run_id,
    )
    turns = [(json.loads(m), r) for m, r in calls if '"Your turn."' in m or "Your turn." in m]
    sizes = [len(m) for m, _ in turns]
    assert sizes[:5] == [1, 3, 5, 7, 7]  # 0, 1, 2, 3 past turns, then capped at 3
    assert set(sizes[4:]) == {7}
    for (prev, answer), (now, _) in itertools.pairwise(turns):
        assert now[-3] == prev[-1] and now[-2] == {"role": "assistant", "content": answer}
    dropped = query_run(
        engine, "select detail from faults where run_id = :r and kind = 'transcript_dropped'",
        result.run_id,
    )  # fmt: skip
    assert len(dropped) == len(turns) - 3 and "1 turn(s)" in dropped[0][0]


def test_transcript_memory_stays_within_its_token_budget(engine: Engine, tmp_path: Path) -> None:
    harness = "[harness]\nmemory = 'transcript'\ntranscript_turns = 50\ntranscript_tokens = 400\n"
    text = scripted_toml(hours=3, stations=1) + "[sponsors]\ncount = 0\n" + harness
    result = run(parse_scenario(text, "memory.toml"), engine, tmp_path)
    calls = query_run(
        engine, "select messages_json from model_calls where run_id = :r order by seq",
        result.run_id,
    )  # fmt: skip
    histories = [json.loads(m)[:-1] for (m,) in calls]
    assert max(len(h) for h in histories) >= 2  # it did carry turns
    assert all(sum(len(x["content"]) for x in h) <= 400 * 4 for h in histories)
    dropped = query_run(
        engine, "select count(*) from faults where run_id = :r and kind = 'transcript_dropped'",
        result.run_id,
    )  # fmt: skip
    assert dropped[0][0] > 0


def undecided(turn: dict[str, Any], _: ModelRequest) -> dict[str, Any]:
    """Never answers sponsor offers."""
    return {k: v for k, v in turn.items() if k != "deals"}


def test_required_offer_decisions_are_enforced(engine: Engine, tmp_path: Path) -> None:
    offers = "[sponsors]\ncount = 6\napproach_every_hours = 1\n[listeners]\ncall_share = 0\n"
    text = scripted_toml(hours=6, stations=1) + offers + "[harness]\ndecide_offers = true\n"
    scenario = parse_scenario(text, "decide.toml")
    provider = Rewrites(scenario, undecided)
    result = run(scenario, engine, tmp_path, providers={"scripted": provider})
    refused = query_run(
        engine, "select sim_time_s, detail from faults where run_id = :r and kind = 'turn_refused'",
        result.run_id,
    )  # fmt: skip
    assert refused and all(d.startswith("offers not decided: N") for _, d in refused)
    schemas = [s for _, s in _stored_requests(engine, result.run_id, "KTA")]
    deals = [s["properties"]["deals"] for s in schemas if "deals" in s["properties"]]
    assert deals and all(d.get("minItems", 0) >= 1 for d in deals)  # the schema says so too
    # a refused turn is not applied: rotation plays on until the next turn
    asrun = export_rows(engine, result.run_id, "asrun")
    checked = 0
    for t, _ in refused:
        after = [r for r in asrun if r["start_s"] > t and r["kind"] == "song"]
        if after:  # (a turn refused in the last song has nothing after it)
            assert after[0]["source"] == "rotation"
            checked += 1
    assert checked >= 3
    # with the same model and no requirement, the turns are applied
    assert not query_run(
        engine, "select 1 from faults where run_id = :r and kind = 'turn_refused' "
        "and detail not like 'offers not decided%'", result.run_id,
    )  # fmt: skip


def test_harness_settings_are_checked_and_inherited() -> None:
    block = 'name = "Test 1"\ncity = "Testville"\n'
    text = scripted_toml(hours=1, stations=2) + "[harness]\nmemory = 'transcript'\n"
    text = text.replace(block, f'{block}[stations.harness]\nmemory = "stateless"\n')
    scenario = parse_scenario(text, "h.toml")
    a, b = scenario.expanded()
    assert scenario.harness_for(a).memory == "transcript"
    assert scenario.harness_for(b).memory == "stateless"
    assert scenario.harness_for(b).tools == list(Tool)  # the rest inherited
    for bad, words in (
        ("tools = ['queue', 'teleport']", "harness.tools.1"),
        ("tools = ['queue', 'queue']", "each tool once"),
        ("memory = 'forever'", "harness.memory"),
        ("transcript_turns = 0", "harness.transcript_turns"),
    ):
        with pytest.raises(ScenarioError, match=words):
            parse_scenario(scripted_toml() + f"[harness]\n{bad}\n", "bad.toml")
    assert HarnessConfig().shape_for("local") == TurnShape.SPLIT
    assert HarnessConfig().shape_for("openai") == TurnShape.SINGLE
    assert HarnessConfig(turn_shape="single").shape_for("local") == TurnShape.SINGLE


def test_the_station_names_no_section() -> None:
    """Sections plug in through the registry: the station's modules never name one."""
    for module in (stations.station, stations.applying, stations.observing,
                   stations.station_world, stations.faults):  # fmt: skip
        source = inspect.getsource(module).lower()
        for name in ("callin", "call-in", "caller", "mail", "inbox", "negotiation", "contract",
                     "donation"):  # fmt: skip
            assert name not in source, (module.__name__, name)


class Weather(Section):
    """A section added in one class: a forecast line and a field to read it on air."""

    tool = Tool.DONATIONS  # stands in for a new tool in this test
    fields = {"weather": (bool, __import__("pydantic").Field(False))}  # noqa: RUF012

    def view(self) -> str:
        return "rain later"

    def lines(self, view: str) -> list[str]:
        return [f"Forecast: {view} (weather: true to read it)."]

    def schema(self, view: str) -> dict[str, dict[str, Any]]:
        return {"weather": {"type": "boolean"}}

    def apply(self, view: str, part: Any) -> Applied:
        return Applied(talk=[(f"The forecast: {view}.", None)] if part["weather"] else [])


def test_a_new_section_is_one_class_and_its_registration(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SECTIONS, Tool.DONATIONS, Weather)
    from pydantic import create_model

    import stations.turn as turn_module

    monkeypatch.setattr(
        turn_module,
        "StationTurn",
        create_model("StationTurn", __base__=turn_module.StationTurn, weather=(bool, False)),
    )
    monkeypatch.setattr(turn_module, "FIELDS", frozenset(turn_module.StationTurn.model_fields))

    def forecaster(turn: dict[str, Any], request: ModelRequest) -> dict[str, Any]:
        assert "Forecast: rain later" in request.messages[-1]["content"]
        assert request.schema["properties"]["weather"] == {"type": "boolean"}
        return {**turn, "weather": True}

    scenario = parse_scenario(scripted_toml(hours=1, stations=1), "w.toml")
    provider = Rewrites(scenario, forecaster)
    result = run(scenario, engine, tmp_path, providers={"scripted": provider})
    talk = [r["text"] for r in export_rows(engine, result.run_id, "asrun") if r["kind"] == "talk"]
    assert "The forecast: rain later." in talk
