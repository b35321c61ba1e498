"""Hosted providers at the scenario level: model strings, keys, a station on a real
OpenAI-compatible server, and runs that survive a misbehaving API."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from personafm.cli import main
from personafm.providers import check_keys
from personafm.scenario import ScenarioError, load_scenario, parse_scenario
from personafm.world import station_identities
from sim.models.base import ProviderError
from sim.models.spec import ModelSettings
from stations.turn import TurnError, parse_turn
from testkit.helpers import export_rows, query_run, run
from testkit.servers import Behaviour, ScriptedOpenAIServer

PROMPT = "Develop your own radio personality and turn a profit."


def hosted_toml(model: str, hours: float = 1.0, stations: int = 1, extra_model: str = "") -> str:
    """Stations on a hosted model, no sponsors and no callers: every call is a turn."""
    blocks = "".join(
        f'[[stations]]\ncall_sign = "KH{chr(65 + i)}"\ncity = "Loopback"\n' for i in range(stations)
    )
    return (
        f'system_prompt = "{PROMPT}"\n[run]\nhours = {hours}\nseed = 5\n'
        f'[model]\nmodel = "{model}"\nmax_tokens = 384\n{extra_model}\n'
        "[sponsors]\ncount = 0\n[listeners]\ncall_share = 0\n" + blocks
    )


def test_model_strings_name_provider_model_and_endpoint() -> None:
    spec = ModelSettings(model="openai:qwen2.5:7b@http://127.0.0.1:8000/v1")
    assert (spec.provider, spec.model, spec.base_url) == (
        "openai",
        "qwen2.5:7b",
        "http://127.0.0.1:8000/v1",
    )
    assert not spec.needs_key()  # a server on this machine
    claude = ModelSettings(model="anthropic:claude-opus-4-7")
    assert (claude.provider, claude.model, claude.key_env) == (
        "anthropic",
        "claude-opus-4-7",
        "ANTHROPIC_API_KEY",
    )
    assert claude.needs_key() and claude.route != spec.route
    with pytest.raises(ValueError, match="openai needs a model name"):
        ModelSettings(provider="openai")
    with pytest.raises(ValueError, match="base_url must be an http"):
        ModelSettings(model="openai:x@ftp://host")


def test_station_settings_inherit_the_scenario_model() -> None:
    scenario, _, _ = load_scenario("andon")
    specs = {s.call_sign: scenario.model_for(s) for s in scenario.expanded()}
    assert specs["KCLD"].provider == "anthropic" and specs["KCLD"].timeout_s == 120
    assert specs["KGEM"].base_url.startswith("https://generativelanguage.googleapis.com")
    assert specs["KGEM"].key_env == "GEMINI_API_KEY" and specs["KGRK"].key_env == "XAI_API_KEY"
    assert len({s.route for s in specs.values()}) == 4


def test_missing_keys_fail_before_the_run(tmp_path: Path, capsys, monkeypatch) -> None:
    for env in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY"):
        monkeypatch.delenv(env, raising=False)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    assert main(["run", "andon", "--db", db, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY is not set (needed by KGPT)" in err
    assert "XAI_API_KEY is not set (needed by KGRK)" in err and "Traceback" not in err
    assert main(["runs", "--json", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "[]"  # nothing was started
    scenario, _, _ = load_scenario("andon")
    identities = station_identities(scenario, "local")
    keys = {e: "sk-test" for e in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "XAI_API_KEY")}
    with pytest.raises(ProviderError, match=r"GEMINI_API_KEY is not set \(needed by KGEM\)"):
        check_keys(identities, environ=keys)
    check_keys(identities, environ={**keys, "GEMINI_API_KEY": "g"})


def test_scenario_errors_for_hosted_models() -> None:
    with pytest.raises(ScenarioError, match="openai needs a model name"):
        parse_scenario(hosted_toml("").replace('model = ""', 'provider = "openai"'), "x.toml")


def test_a_run_survives_a_misbehaving_api(engine, tmp_path: Path) -> None:
    """429s, 5xx bursts, timeouts, malformed tool arguments and empty answers: the run
    completes, every call and fault is logged, and the air never goes silent."""
    # one station, max_retries = 1: each turn gets two attempts, in this order
    script = (
        Behaviour.status(429, retry_after="0"),  # turn 1: rate-limited, retried...
        Behaviour.status(500),  # ...and failed again: a model_error fault
        Behaviour.status(500),  # turn 2: a 5xx burst
        Behaviour.status(502),
        Behaviour.sleep(1.0),  # turn 3: two timeouts
        Behaviour.sleep(1.0),
        Behaviour.malformed(),  # turn 4: tool arguments that are not JSON: invalid_output
        Behaviour.empty(),  # turn 5: no tool call, no content
        Behaviour.status(503),  # turn 6: one 503, then a valid answer
    )
    with ScriptedOpenAIServer(*script) as server:
        toml = hosted_toml(
            f"openai:flaky@{server.base_url}",
            hours=2,
            stations=1,
            extra_model="timeout_s = 0.4\nmax_retries = 1\n",
        )
        result = run(parse_scenario(toml, "flaky.toml"), engine, tmp_path)
        served = server.count
    assert result.status == "finished"
    calls = export_rows(engine, result.run_id, "calls")
    turns = query_run(engine, "select count(*) from turns where run_id = :r", result.run_id)
    assert len(calls) == turns[0][0]  # every turn's call is stored, failed or not
    errors = [c["error"] for c in calls[:6] if not c["ok"]]
    assert len(errors) == 4, errors
    assert "HTTP 500, after 2 attempts" in errors[0] and "HTTP 502, after 2 attempts" in errors[1]
    assert "Timeout" in errors[2] and errors[3] == "empty response"
    assert calls[3]["ok"] and calls[5]["ok"]
    assert served == len(calls) + 4  # turns 1, 2, 3 and 6 were retried once
    rows = query_run(engine, "select kind from faults where run_id = :r", result.run_id)
    faults = {kind for (kind,) in rows}
    assert {"model_error", "invalid_output"} <= faults
    asrun = export_rows(engine, result.run_id, "asrun")
    for station in ("KHA",):
        aired = sorted(
            (r for r in asrun if r["station"] == station and r["status"] == "aired"),
            key=lambda r: r["start_s"],
        )
        assert all(abs(a["end_s"] - b["start_s"]) < 1e-6 for a, b in itertools.pairwise(aired))
        assert aired[-1]["end_s"] >= 2 * 3600 - 1
    assert any(r["source"] == "model" for r in asrun if r["kind"] == "song")  # good turns count


def test_stations_calling_at_one_instant_run_concurrently(engine, tmp_path: Path) -> None:
    with ScriptedOpenAIServer(delay_s=0.3) as server:
        toml = hosted_toml(f"openai:slow@{server.base_url}", hours=0.1, stations=8)
        run(parse_scenario(toml, "slow.toml"), engine, tmp_path)
        assert server.max_in_flight == 8  # all eight first turns were in flight together


@pytest.mark.local_model
def test_a_station_runs_an_hour_on_a_real_openai_compatible_server(
    engine, tmp_path: Path, llama_server_url: str
) -> None:
    """The `openai` provider, through the official SDK, against llama.cpp's server on loopback
    serving the bundled SmolLM2: forced tool calls come back as turns that go to air."""
    toml = hosted_toml(f"openai:smollm2@{llama_server_url}", hours=1.0, stations=1)
    result = run(parse_scenario(toml, "loopback.toml"), engine, tmp_path)
    assert result.status == "finished"
    calls = export_rows(engine, result.run_id, "calls")
    assert len(calls) >= 3 and {c["provider"] for c in calls} == {"openai"}
    assert all(c["ok"] and c["input_tokens"] > 100 and c["output_tokens"] > 0 for c in calls)
    asrun = export_rows(engine, result.run_id, "asrun")
    talk = [r for r in asrun if r["kind"] == "talk" and r["source"] == "model"]
    songs = [r for r in asrun if r["kind"] == "song" and r["source"] == "model"]
    assert talk and songs
    # every answer is a turn the real parser accepts, or exactly one invalid_output fault
    answers = query_run(
        engine,
        "select response_text from model_calls where run_id = :r order by seq",
        result.run_id,
    )
    unparsed = 0
    for (text,) in answers:
        try:
            parse_turn(text)
        except TurnError:
            unparsed += 1
    faults = query_run(engine, "select kind from faults where run_id = :r", result.run_id)
    kinds = [k for (k,) in faults]
    assert kinds.count("invalid_output") == unparsed
    assert kinds.count("model_error") == 0  # every call was ok
    parsed = len(answers) - unparsed
    # the tool's arguments are decoded under the turn's schema: (almost) every one parses
    assert parsed >= 0.8 * len(answers), f"{parsed} of {len(answers)} turns parse"
