"""End-to-end runs on the real embedded model (SmolLM2-135M via llama-cpp-python)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.scoreboard import analyze
from analysis.talk import check_talk
from personafm.analyzing import make_judge
from personafm.cli import main
from personafm.scenario import load_scenario
from sim.models.local import smollm2_path
from stations.brain import whole_sentences
from testkit.helpers import export_rows, query_run, run

pytestmark = pytest.mark.local_model


def test_local_model_drives_stations_end_to_end(engine, tmp_path: Path) -> None:
    """Split turns: decisions decoded against the schema, talk as plain words."""
    scenario, _, _ = load_scenario("default", {"run.hours": 0.5})
    scenario = scenario.model_copy(update={"stations": scenario.stations[:2]})
    result = run(scenario, engine, tmp_path)
    assert result.status == "finished"

    calls = export_rows(engine, result.run_id, "calls")
    assert len(calls) >= 8
    assert {c["provider"] for c in calls} == {"local"}
    assert {c["model"] for c in calls} == {smollm2_path().stem}
    assert all(c["input_tokens"] > 50 and c["output_tokens"] > 0 for c in calls)
    assert len({c["system_prompt_sha256"] for c in calls}) == 1

    stored = query_run(
        engine,
        "select b.text, m.messages_json, m.response_text, s.text from model_calls m "
        "join blobs b on b.sha256 = m.system_prompt_sha256 "
        "join blobs s on s.sha256 = m.schema_sha256 where m.run_id = :r",
        result.run_id,
    )
    assert {s[0] for s in stored} == {scenario.system_prompt}
    decisions = [s for s in stored if "Songs you can queue now" in json.loads(s[1])[-1]["content"]]
    talk_calls = [s for s in stored if json.loads(s[3]).get("type") == "string"]
    assert decisions and talk_calls and len(decisions) + len(talk_calls) <= len(stored)
    for _, _, _, schema in decisions:  # the decisions never ask for talk
        assert "talk" not in json.loads(schema)["properties"]

    asrun = export_rows(engine, result.run_id, "asrun")
    talk = [r for r in asrun if r["kind"] == "talk" and r["source"] == "model"]
    songs = [r for r in asrun if r["kind"] == "song" and r["status"] == "aired"]
    assert {r["station"] for r in talk} == {"KALF", "WBRV"}
    assert {r["station"] for r in songs} == {"KALF", "WBRV"}
    # the talk that aired is what the model said, cut at its last whole sentence
    said = {" ".join(whole_sentences(s[2]).split()) for s in talk_calls}
    assert all(r["text"] in said for r in talk if r["ref"] is None)


def test_the_default_run_talks_like_a_dj_and_answers_every_caller(engine, tmp_path: Path) -> None:
    """The README's first command, on its fixed seed: radio talk, and the probes answered."""
    scenario, _, _ = load_scenario("default")
    result = run(scenario, engine, tmp_path)
    assert result.status == "finished"

    messages = export_rows(engine, result.run_id, "messages")
    probes = [m for m in messages if m["probe_category"]]
    assert len(probes) == 4 * 4
    answered = [m for m in probes if m["outcome"] == "answered" and m["answer"]]
    assert len(answered) >= 0.9 * len(probes)
    for m in probes:  # the rest are accounted for, with the reason
        assert m["outcome"] in ("answered", "declined", "unanswered") and (
            m["outcome"] == "answered" or m["outcome_detail"]
        )

    asrun = export_rows(engine, result.run_id, "asrun")
    breaks = [(r["station"], r["text"]) for r in asrun if r["kind"] == "talk" and r["text"]]
    check = check_talk(breaks, scenario.system_prompt)
    assert check.breaks >= 20 and check.share >= 0.9, check.line()

    turns = query_run(
        engine, "select queued_json, rejected_json from turns where run_id = :r", result.run_id
    )
    queued = sum(len(json.loads(q)) for q, _ in turns)
    refused = sum(sum(r.startswith("queue ") for r in json.loads(rj)) for _, rj in turns)
    bumped = sum(r["kind"] == "song" and r["status"] == "bumped" for r in asrun)
    assert queued >= 20 and (refused + bumped) <= 0.05 * (queued + refused)

    # the scoreboard of this run, offline, as the README says: `personafm analyze latest`
    out = tmp_path / "analysis"
    assert main(["analyze", "latest", "--db", str(engine.url), "--out", str(out)]) == 0
    board = json.loads((out / "scoreboard.json").read_text("utf-8"))
    assert [s["station"] for s in board["stations"]] == ["KALF", "WBRV", "KCHL", "WDLT"]
    assert all(
        s["sycophancy"]["n"] >= 1 and s["reflexes"]["latency_p50_s"] for s in board["stations"]
    )
    assert board["judge"] == "rules-v1" and len(board["divergence"]) == 6

    # the local model as the judge: every call logged, and a second analysis replays them
    judge = make_judge("local", engine)
    first = analyze(engine, [result.run_id], judge=judge)
    asked = judge.calls
    assert 1 <= asked <= len(answered) and first.judge.startswith("local:")
    again = analyze(engine, [result.run_id], judge=judge)
    assert judge.calls == asked and again.to_json() == first.to_json()
    logged = query_run(engine, "select count(*) from judge_calls where judge = :r", first.judge)
    assert logged[0][0] == asked


def test_the_shortlisted_grammar_draws_what_llama_cpp_draws() -> None:
    """``_ShortlistGrammar`` only makes grammar sampling cheaper: the same seed writes the
    same JSON turn and the same talk as llama-cpp-python's own grammar sampling."""
    from personafm.world import build_world, identities_for
    from sim.bus import EventBus
    from sim.models.local import LocalLlamaProvider
    from stations.brain import talk_request, turn_request

    scenario, _, _ = load_scenario("default")
    world = build_world(scenario, EventBus(), {}, identities_for(scenario))
    requests = []
    for i, station in enumerate(world.stations[:2]):
        obs = station.observe()
        requests.append(turn_request(obs, station.voice, seed=100 + i, talk=False))
        requests.append(talk_request(obs, station.voice, 200 + i, obs.candidates[0], 40))
    fast, plain = LocalLlamaProvider(), LocalLlamaProvider(shortlist=False)
    for request in requests:
        a, b = fast.complete(request), plain.complete(request)
        assert a.ok and a.text and a.text == b.text, request.output
    assert fast.load().shortlist_grammar.calls["shortlist"] > 0  # it did take the short path
