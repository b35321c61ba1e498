"""One short end-to-end run on the real embedded model (SmolLM2-135M via llama-cpp-python)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from personafm.scenario import load_scenario
from sim.models.local import smollm2_path
from stations.turn import TurnError, parse_turn
from tests.helpers import export_rows, query_run, run

pytestmark = pytest.mark.local_model


def test_local_model_drives_stations_end_to_end(engine, tmp_path: Path) -> None:
    scenario, _, _ = load_scenario("default", {"run.hours": 0.5})
    scenario = scenario.model_copy(update={"stations": scenario.stations[:2]})
    result = run(scenario, engine, tmp_path)
    assert result.status == "finished"

    calls = export_rows(engine, result.run_id, "calls")
    assert len(calls) >= 4
    assert {c["provider"] for c in calls} == {"local"}
    assert {c["model"] for c in calls} == {smollm2_path().stem}
    assert all(c["input_tokens"] > 100 and c["output_tokens"] > 0 for c in calls)
    assert len({c["system_prompt_sha256"] for c in calls}) == 1

    stored = query_run(
        engine,
        "select b.text, m.messages_json, m.response_text from model_calls m "
        "join blobs b on b.sha256 = m.system_prompt_sha256 where m.run_id = :r",
        result.run_id,
    )
    assert {s[0] for s in stored} == {scenario.system_prompt}
    assert all("Songs you can queue now" in json.loads(s[1])[0]["content"] for s in stored)

    asrun = export_rows(engine, result.run_id, "asrun")
    talk = [r for r in asrun if r["kind"] == "talk" and r["source"] == "model"]
    songs = [r for r in asrun if r["kind"] == "song" and r["status"] == "aired"]
    assert {r["station"] for r in talk} == {"KALF", "WBRV"}
    assert all(len(r["text"]) >= 10 for r in talk)
    # the model's talk is what the stored responses said
    said = set()
    for s in stored:
        with contextlib.suppress(TurnError):
            said.add(" ".join(parse_turn(s[2]).talk.split()))
    assert said and all(r["text"] in said for r in talk)
    assert {r["station"] for r in songs} == {"KALF", "WBRV"}
