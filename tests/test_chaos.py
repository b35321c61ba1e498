"""Provider fault injection: every fault at its rate, outages in simulated time, and runs
that survive a misbehaving provider, log every fault and re-run exactly."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from personafm.providers import build_providers, providers_for
from personafm.replaying import rerun
from personafm.scenario import ScenarioError, parse_scenario
from personafm.world import identities_for
from sim.models.base import ModelRequest, ModelResponse
from sim.models.chaos import EXCLUSIVE, ChaosProvider, ChaosSettings, ChaosTransport
from sim.models.openai_provider import OpenAIProvider
from sim.models.retry import RetryPolicy
from sim.models.wrappers import Retry
from stations.turn import TurnError, parse_turn, turn_schema
from testkit.helpers import export_rows, query_run, run, scripted_toml
from testkit.servers import ScriptedOpenAIServer, SleepRecorder

SONGS = ["s0001", "s0002", "s0003", "s0004"]
TURN = {"talk": "Good evening, Testville. Here is a song for you.", "queue": SONGS[:3]}


class Echo:
    """A tiny provider that always answers a valid turn (and counts its calls)."""

    name = "echo"
    max_concurrency = 8

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        return ModelResponse(text=json.dumps(TURN), output_tokens=12, finish_reason="stop")


def request(i: int, station: str = "KTA") -> ModelRequest:
    return ModelRequest(
        station=station,
        provider="echo",
        model="echo",
        system="You are a DJ.",
        messages=[{"role": "user", "content": f"Turn {i}. Your turn."}],
        schema=turn_schema(SONGS, []),
        params={"seed": i},
    )


def chaos(settings: ChaosSettings, **kw: Any) -> Any:
    kw.setdefault("sleep", SleepRecorder())
    return ChaosProvider(Echo(), settings, random.Random(7), lambda: 0.0, **kw)


# -- 1. unit: rates, outages, validation -------------------------------------------------

RATES = ChaosSettings(
    latency_spike=0.2,
    spike_s=0.3,
    timeout=0.1,
    hung=0.05,
    hang_s=4.0,
    http_429=0.1,
    http_5xx=0.1,
    truncated=0.15,
    schema_violation=0.15,
)
CALLS = 500


def outcome(response: ModelResponse) -> str:
    """What a response says was injected: a failed kind, a mangled kind, or ok."""
    if not response.ok:
        assert response.error is not None and response.error.startswith("chaos: ")
        return response.error.split(":")[1].strip()
    if response.finish_reason and response.finish_reason.startswith("chaos:"):
        return response.finish_reason.removeprefix("chaos:")
    return "ok"


def test_each_fault_fires_at_its_rate() -> None:
    sleep = SleepRecorder()
    provider = chaos(RATES, sleep=sleep)
    responses = [provider.complete(request(i)) for i in range(CALLS)]
    seen = Counter(outcome(r) for r in responses)
    tally = provider.tally()
    measured = {kind: tally[kind] / CALLS for kind in ("latency_spike", *EXCLUSIVE)}
    for kind, rate in measured.items():
        expected = getattr(RATES, kind)
        sd = math.sqrt(expected * (1 - expected) / CALLS)
        assert abs(rate - expected) <= 4 * sd, (kind, rate, expected)
        if kind != "latency_spike":
            assert seen[kind] == tally[kind]  # the response names every injected fault
    print("measured rates:", {k: round(v, 3) for k, v in measured.items()})
    # failures never reach the inner provider; the rest (mangled or not) do
    failing = ("timeout", "hung", "http_429", "http_5xx")
    assert provider.inner.calls == CALLS - sum(tally[k] for k in failing)
    # without an HTTP transport a burst is a failed call naming status and Retry-After
    burst = next(r for r in responses if outcome(r) == "http_429")
    assert burst.error == "chaos: http_429: 429 Too Many Requests (Retry-After 1s)"
    # real (here recorded) sleeps: the spikes and the hung calls
    sleeps = Counter(sleep.calls)
    assert sleeps == Counter({0.3: tally["latency_spike"], 4.0: tally["hung"]})
    for r in responses:
        kind = outcome(r)
        if kind in ("truncated", "schema_violation"):
            with pytest.raises(TurnError):
                parse_turn(r.text)  # a mangled answer is one the parser refuses
        elif kind == "ok":
            assert parse_turn(r.text).queue == TURN["queue"]


def test_faults_depend_on_the_call_not_the_order_or_the_thread() -> None:
    def outcomes(provider: Any, order: list[int], threads: int = 1) -> dict[int, str]:
        with ThreadPoolExecutor(threads) as pool:
            got = pool.map(lambda i: (i, outcome(provider.complete(request(i)))), order)
            return dict(got)

    forward = outcomes(chaos(RATES), list(range(200)))
    assert outcomes(chaos(RATES), list(range(199, -1, -1))) == forward
    assert outcomes(chaos(RATES), list(range(200)), threads=8) == forward
    other = ChaosProvider(Echo(), RATES, random.Random(8), lambda: 0.0, sleep=SleepRecorder())
    assert outcomes(other, list(range(200))) != forward  # another seed, other faults


def test_outages_fail_every_call_exactly_inside_their_window() -> None:
    now = [0.0]
    settings = ChaosSettings(outages=[[1, 2], [3.5, 3.75]])
    provider = ChaosProvider(Echo(), settings, random.Random(1), lambda: now[0])
    for t in range(0, 4 * 3600, 60):
        now[0] = float(t)
        response = provider.complete(request(t))
        down = 3600 <= t < 7200 or 12600 <= t < 13500
        assert response.ok is not down, t
        if down:
            assert response.error is not None
            assert response.error.startswith("chaos: outage: provider down")
    now[0] = 7200.0 - 1e-6  # the end is excluded, the start included
    assert not provider.complete(request(1)).ok
    now[0] = 7200.0
    assert provider.complete(request(2)).ok
    assert provider.tally() == Counter({"outage": 60 + 15 + 1})
    assert all(i.outcome == "failed" for i in provider.injections)


def test_a_caller_without_chaos_is_passed_through() -> None:
    provider = chaos(ChaosSettings(timeout=1.0), callers={"KTB": None})
    assert not provider.complete(request(1, "KTA")).ok
    assert provider.complete(request(1, "KTB")).ok
    assert provider.tally() == Counter({"timeout": 1})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timeout": 0.5, "http_429": 0.4, "truncated": 0.2}, "add up to 1.1"),
        ({"timeout": 1.5}, "less than or equal to 1"),
        ({"spike_s": 60}, "less than or equal to 5"),
        ({"hang_s": math.inf}, "finite number"),
        ({"burst_max": 0}, "greater than or equal to 1"),
        ({"outages": [[2, 1]]}, "must end after it starts"),
        ({"outages": [[1, 2, 3]]}, "an outage is [start_h, end_h], got 3 numbers"),
        ({"outages": [[-1, 2]]}, "greater than or equal to 0"),
        ({"timout": 0.1}, "Extra inputs are not permitted"),
    ],
)
def test_settings_are_checked_with_clear_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[")):
        ChaosSettings.model_validate(data)


def test_scenario_chaos_is_per_model_and_stations_override_it() -> None:
    toml = scripted_toml(hours=1, stations=2).replace(
        "[economy]", "[model.chaos]\ntimeout = 0.2\noutages = [[0.5, 0.75]]\n[economy]"
    )
    toml += '[stations.model]\nprovider = "scripted"\n[stations.model.chaos]\ntimeout = 0.9\n'
    scenario = parse_scenario(toml, "chaos.toml")
    ka, kb = (scenario.model_for(s).chaos for s in scenario.stations)
    assert ka is not None and kb is not None
    assert (ka.timeout, kb.timeout) == (0.2, 0.9)
    assert kb.outages == ka.outages and kb.outages[0].start_h == 0.5  # inherited
    providers = providers_for(scenario)
    wrapper = providers["scripted"]
    assert isinstance(wrapper, ChaosProvider)
    assert wrapper.settings_for("KTA") == ka and wrapper.settings_for("KTB") == kb
    with pytest.raises(ScenarioError, match=r"model\.chaos\.timeout"):
        parse_scenario(scripted_toml(hours=1, stations=1), "bad.toml", {"model.chaos.timeout": 2})
    plain = build_providers(identities_for(parse_scenario(scripted_toml(hours=1))), 3)
    assert not isinstance(plain["scripted"], ChaosProvider)  # no [model.chaos]: no wrapper


# -- HTTP bursts meet the provider's real retries -------------------------------------------


def test_http_bursts_go_through_the_real_retry_path() -> None:
    sleep = SleepRecorder()
    transport = ChaosTransport()
    settings = ChaosSettings(http_429=0.5, http_5xx=0.5, retry_after_s=0.25, burst_max=3)
    with ScriptedOpenAIServer() as server:  # every request: a valid tool call
        inner = Retry(
            OpenAIProvider(
                api_key="sk-test",
                base_url=server.base_url,
                http_client=httpx2.Client(transport=transport),
            ),
            RetryPolicy(max_retries=1),
            sleep=sleep,
        )
        provider = ChaosProvider(
            inner, settings, random.Random(3), lambda: 0.0, transport=transport
        )
        responses = [provider.complete(request(i)) for i in range(40)]
        provider.close()
    assert provider.secrets == ("sk-test",)  # the dispatcher still redacts the wrapped key
    failed, recovered = provider.tally("failed"), provider.tally("recovered")
    assert sum(failed.values()) + sum(recovered.values()) == 40
    assert failed and recovered
    # one injected error per try the burst reached, each waited out at its Retry-After
    assert transport.served == inner.retries + sum(failed.values())
    assert sleep.calls == [0.25] * inner.retries
    assert server.count == sum(recovered.values())  # the server answers only after a burst
    for r in responses:
        if r.ok:
            assert parse_turn(r.text).queue  # a recovered call is the server's real answer
        else:
            assert r.error is not None
            kind = r.error.split(":")[1].strip()
            status = {"http_429": "HTTP 429", "http_5xx": "HTTP 503"}[kind]
            assert status in r.error and "after 2 attempts" in r.error


# -- 2. a scenario run on scripted personas --------------------------------------------------

CHAOS = """[model.chaos]
latency_spike = 0.1
spike_s = 0.0
timeout = 0.1
hung = 0.1
hang_s = 0.0
http_429 = 0.1
http_5xx = 0.1
truncated = 0.1
schema_violation = 0.1
outages = [[1, 2]]
"""


def chaotic_run(engine: Engine, tmp_path: Path, toml: str) -> tuple[Any, ChaosProvider]:
    scenario = parse_scenario(toml, "chaos.toml")
    providers = providers_for(scenario)
    (wrapper,) = providers.values()
    assert isinstance(wrapper, ChaosProvider)
    result = run(scenario, engine, tmp_path, providers=providers)
    assert result.status == "finished"
    return result, wrapper


def assert_every_fault_logged(
    engine: Engine, run_id: str, wrapper: ChaosProvider, model_errs: bool = False
) -> None:
    """Each injected failure is a fault naming it, with station and time; each mangled
    answer is recorded as such, and refused by the station as invalid output (a real
    model, ``model_errs``, may also give invalid output of its own)."""

    def key(station: str, t: float, kind: str) -> tuple[str, float, str]:
        return station, round(t, 6), kind

    failed = sorted(
        key(i.station, i.sim_time_s, i.kind) for i in wrapper.injections if i.outcome == "failed"
    )
    faults = query_run(
        engine,
        "select station, sim_time_s, kind, detail from faults where run_id = :r",
        run_id,
    )
    chaos_faults = sorted(
        key(s, t, d.split(":")[1].strip()) for s, t, k, d in faults if d.startswith("chaos:")
    )
    assert chaos_faults == failed
    assert {k for s, t, k, d in faults if d.startswith("chaos:")} <= {"model_error"}
    mangled = sorted(
        key(i.station, i.sim_time_s, i.kind) for i in wrapper.injections if i.outcome == "mangled"
    )
    calls = query_run(
        engine,
        "select station, sim_time_s, ok, error, finish_reason from model_calls where run_id = :r",
        run_id,
    )
    recorded = sorted(
        key(s, t, f.removeprefix("chaos:"))
        for s, t, ok, e, f in calls
        if ok and f and "chaos:" in f
    )
    assert recorded == mangled
    assert sum(1 for c in calls if not c[2] and c[3].startswith("chaos:")) == len(failed)
    invalid = Counter((s, round(t, 6)) for s, t, k, d in faults if k == "invalid_output")
    refused = Counter((s, t) for s, t, _ in mangled)
    assert refused <= invalid if model_errs else refused == invalid


def test_a_run_survives_chaos_logs_every_fault_and_reruns_exactly(
    engine: Engine, tmp_path: Path
) -> None:
    toml = scripted_toml(hours=4, stations=4, seed=7).replace(
        "[economy]", CHAOS + "[listeners]\ncall_share = 0\n[economy]"
    )
    result, wrapper = chaotic_run(engine, tmp_path, toml)
    tally = wrapper.tally()
    assert set(tally) == {"outage", "latency_spike", *EXCLUSIVE}, tally  # every kind fired
    assert_every_fault_logged(engine, result.run_id, wrapper)

    # the provider is down from hour 1 to 2: every call there fails, the stations stay on air
    calls = query_run(
        engine, "select sim_time_s, ok, error from model_calls where run_id = :r", result.run_id
    )
    inside = [c for c in calls if 3600 <= c[0] < 7200]
    assert inside and all(not ok and e.startswith("chaos: outage:") for _, ok, e in inside)
    asrun = export_rows(engine, result.run_id, "asrun")
    songs = [r for r in asrun if r["kind"] == "song"]
    for station in ("KTA", "KTB", "KTC", "KTD"):
        mine = [r for r in songs if r["station"] == station]
        window = [r for r in mine if 3600 <= r["start_s"] < 7200]
        assert window and any(r["source"] != "model" for r in window)  # automation airs
        # what the model chose before the outage has aired by its second half
        assert all(r["source"] != "model" for r in window if r["start_s"] >= 5400)
        assert any(r["source"] == "model" for r in mine if r["start_s"] >= 7200)  # it's back
    aired = sorted(r["end_s"] for r in asrun if r["station"] == "KTA")
    assert aired[-1] >= 4 * 3600 - 1  # on air to the end

    _, again, comparison = rerun(engine, result.run_id, log_dir=tmp_path / "logs")
    assert again.status == "finished" and again.live_calls == 0  # no provider, no new chaos
    assert again.replayed_calls == result.model_calls and again.divergence is None
    assert comparison.first_difference is None and comparison.rows == len(asrun)


# -- 3. a real OpenAI-compatible server on loopback (llama.cpp, SmolLM2) -------------------


@pytest.mark.local_model
def test_chaos_against_a_real_server_is_logged_and_reruns_exactly(
    engine: Engine, tmp_path: Path, llama_server_url: str
) -> None:
    toml = (
        'system_prompt = "Develop your own radio personality and turn a profit."\n'
        "[run]\nhours = 0.5\nseed = 5\n"
        f'[model]\nmodel = "openai:smollm2@{llama_server_url}"\nmax_tokens = 384\n'
        "max_retries = 1\n"
        "[model.chaos]\nhttp_429 = 0.4\nhttp_5xx = 0.3\ntruncated = 0.3\n"
        "retry_after_s = 0.5\nburst_max = 2\noutages = [[0, 0.1]]\n"
        "[sponsors]\ncount = 0\n[listeners]\ncall_share = 0\n"
        '[[stations]]\ncall_sign = "KHA"\ncity = "Loopback"\n'
    )
    result, wrapper = chaotic_run(engine, tmp_path, toml)
    tally = wrapper.tally()
    assert tally["outage"] >= 1  # the first turn, at t=0, meets the outage
    assert sum(tally.values()) > tally["outage"], tally  # and later ones the other faults
    assert_every_fault_logged(engine, result.run_id, wrapper, model_errs=True)
    # each burst attempt was a real HTTP error answered by the provider's retries
    transport = wrapper.transport
    assert transport is not None
    failed = wrapper.tally("failed")
    bursts = tally["http_429"] + tally["http_5xx"]
    given_up = failed["http_429"] + failed["http_5xx"]  # their last try was a chaos error too
    assert transport.served == wrapper.inner.retries + given_up >= bursts
    asrun = export_rows(engine, result.run_id, "asrun")
    assert asrun and max(r["end_s"] for r in asrun) >= 0.5 * 3600 - 1

    _, again, comparison = rerun(engine, result.run_id, log_dir=tmp_path / "logs")
    assert again.status == "finished" and again.live_calls == 0
    assert comparison.first_difference is None
