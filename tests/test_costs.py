"""Costs that scale: royalties per performance (per listener per song) and, when switched on,
the model's tokens; both are billed with the hosting fee at midnight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from personafm.dryrun import dry_run, estimate_tokens
from personafm.scenario import load_scenario
from personafm.summary import station_summary
from personafm.world import identities_for
from sim.models.base import Provider, ProviderError
from sim.models.prices import PriceTable
from sim.rng import RngStreams
from stations.personas import ScriptedPersonas
from testkit.helpers import export_rows, query_run, run, scripted_scenario

QUIET = (
    "[listeners]\nmessages_per_1000_per_hour = 0\nmin_messages_per_hour = 0\n"
    "[sponsors]\ncount = 0\n"
)


def test_royalties_scale_with_listeners_and_inference_with_tokens(engine, tmp_path: Path) -> None:
    # A fixed audience of 1,000 per station and $1 per 1,000 performances: $1 per song aired.
    # 10 cents per 1,000 tokens. The run starts at 06:00, so midnight bills the first 18 hours.
    economy = "royalty_usd_per_1000_performances = 1.0\ninference_usd_per_1k_tokens = 0.1\n"
    economy += "start_balance_usd = 500\n"
    extra = QUIET + "[audience]\nmode = 'fixed'\nfixed_aqh = 1000\n"
    scenario = scripted_scenario(
        hours=20, stations=2, economy=economy, extra=extra, persona="buy_rate = 0"
    )
    result = run(scenario, engine, tmp_path)
    midnight = 18 * 3600
    ledger = export_rows(engine, result.run_id, "ledger")
    asrun = export_rows(engine, result.run_id, "asrun")
    for station in ("KTA", "KTB"):
        songs = [
            r
            for r in asrun
            if r["station"] == station and r["kind"] == "song" and r["status"] == "aired"
            and r["start_s"] < midnight
        ]  # fmt: skip
        royalty = [r for r in ledger if r["station"] == station and r["kind"] == "royalty"]
        assert [r["amount_usd"] for r in royalty] == [-float(len(songs))]
        assert royalty[0]["sim_time_s"] == midnight
        (tokens,) = query_run(
            engine,
            "select sum(input_tokens + output_tokens) from model_calls "
            f"where run_id = :r and station = '{station}' and sim_time_s < {midnight}",
            result.run_id,
        )[0]
        inference = [r for r in ledger if r["station"] == station and r["kind"] == "inference"]
        # whole cents are billed; the fraction carries over to the next bill
        assert [r["amount_usd"] for r in inference] == [-int(tokens * 0.1 / 10) / 100]


def test_price_table_lookup_merge_and_errors(tmp_path: Path) -> None:
    table = PriceTable.bundled()
    assert table.version
    assert table.cost("openai", "gpt-5.5", 1_000_000, 0) == pytest.approx(1.25)
    assert table.cost("openai", "gpt-5.5-turbo-preview", 0, 1_000_000) == pytest.approx(10.0)
    assert table.cost("openai", "grok-4", 2_000_000, 0) == pytest.approx(6.0)  # bare model name
    assert table.cost("local", "SmolLM2", 10**6, 10**6) == 0.0
    assert table.cost("openai", "mystery-model", 10, 10) is None
    own = tmp_path / "prices.toml"
    own.write_text('version = "mine"\n[models."openai:mystery-model"]\ninput = 2\noutput = 4\n')
    merged = PriceTable.load(own)
    assert merged.version.endswith("+mine")
    assert merged.cost("openai", "mystery-model", 500_000, 250_000) == pytest.approx(2.0)
    own.write_text('[models."x"]\ninput = "cheap"\n')
    with pytest.raises(ProviderError, match=r"models.'x' needs numbers"):
        PriceTable.load(own)


def _priced_scripted(tmp_path: Path, usd_per_mtok: float) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(
        f'version = "test"\n[models."scripted"]\ninput = {usd_per_mtok}\noutput = {usd_per_mtok}\n'
    )
    return path


def test_every_call_is_costed_and_totals_add_up(engine, tmp_path: Path) -> None:
    prices = _priced_scripted(tmp_path, 1000.0)  # $0.001 per token
    scenario = scripted_scenario(hours=3, stations=2, extra=f'prices = "{prices}"\n')
    result = run(scenario, engine, tmp_path)
    rows = query_run(
        engine,
        "select station, input_tokens, output_tokens, cost_usd from model_calls where run_id = :r",
        result.run_id,
    )
    assert rows and all(c == pytest.approx((i + o) / 1000) for _, i, o, c in rows)
    assert result.cost_usd == pytest.approx(sum(c for *_, c in rows))
    by_station = {r["station"]: r["cost_usd"] for r in station_summary(engine, result.run_id)}
    for station in ("KTA", "KTB"):
        assert by_station[station] == pytest.approx(sum(c for s, *_, c in rows if s == station))
    (run_cost,) = query_run(engine, "select cost_usd from runs where id = :r", result.run_id)[0]
    assert run_cost == pytest.approx(result.cost_usd)


def test_max_cost_stops_the_run_cleanly(engine, tmp_path: Path) -> None:
    prices = _priced_scripted(tmp_path, 1000.0)
    scenario = scripted_scenario(hours=24, stations=2, extra=f'prices = "{prices}"\n')
    result = run(scenario, engine, tmp_path, cost_limit_usd=1.0)
    assert result.status == "cost_limit"
    assert 1.0 <= result.cost_usd < 1.0 + 0.5  # stops after the instant that crossed it
    calls = query_run(
        engine, "select max(sim_time_s) from model_calls where run_id = :r", result.run_id
    )
    (last_call,) = calls[0]
    segments = query_run(engine, "select max(end_s) from asrun where run_id = :r", result.run_id)
    assert last_call < 24 * 3600 and segments[0][0] is not None  # rows written up to the stop
    (status,) = query_run(engine, "select status from runs where id = :r", result.run_id)[0]
    assert status == "cost_limit"


def test_dry_run_projects_without_calling_or_storing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dry run is the real simulation with scripted answers: a real run of the same
    scenario whose models answer like those personas makes the same calls, and the tokens
    it projects are those of the prompts and answers that run stores."""
    for env in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY"):
        monkeypatch.delenv(env, raising=False)  # no key is needed: no model is called
    monkeypatch.chdir(tmp_path)  # and nothing is written: not even logs/ here
    scenario, _, _ = load_scenario("andon", {"run.hours": 2})
    rows = dry_run(scenario)
    assert not (tmp_path / "logs").exists()
    assert {r.station for r in rows} == {"KGPT", "KCLD", "KGEM", "KGRK"}
    assert all(r.calls > 0 and r.input_tokens > r.output_tokens > 0 for r in rows)
    claude = next(r for r in rows if r.station == "KCLD")
    assert claude.cost_usd == pytest.approx(
        (claude.input_tokens * 15 + claude.output_tokens * 75) / 1e6
    )

    # the real run: the andon scenario as it is, each hosted route answered by a scripted
    # persona seeded as the dry run seeds it
    identities = identities_for(scenario)
    streams = RngStreams(scenario.run.seed)
    personas = ScriptedPersonas(
        {i.call_sign: i.spec.persona for i in identities},
        {i.call_sign: streams.stream("dry-run", i.call_sign) for i in identities},
    )
    assert scenario.sponsor_model() is None  # andon's sponsors follow their tactics
    providers: dict[str, Provider] = {i.spec.route: personas for i in identities}
    result = run(scenario, engine, tmp_path, providers=providers)
    assert result.status == "finished"
    calls = query_run(
        engine,
        "select m.station, m.messages_json, m.params_json, m.response_text, sp.text, sc.text "
        "from model_calls m join blobs sp on sp.sha256 = m.system_prompt_sha256 "
        "join blobs sc on sc.sha256 = m.schema_sha256 where m.run_id = :r",
        result.run_id,
    )
    real: dict[str, list[int]] = {}  # station -> [calls, input tokens, output tokens]
    for station, messages_json, params_json, response, system, schema in calls:
        prompt = system + "".join(m["content"] for m in json.loads(messages_json)) + schema
        max_tokens = int(json.loads(params_json)["max_tokens"])
        counts = real.setdefault(station, [0, 0, 0])
        counts[0] += 1
        counts[1] += estimate_tokens(prompt)
        counts[2] += min(max_tokens, estimate_tokens(response))
    projected = {r.station: [r.calls, r.input_tokens, r.output_tokens] for r in rows}
    assert projected == real
