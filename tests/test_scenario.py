"""Scenario validation: errors name the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from personafm.scenario import SCENARIO_DIR, ScenarioError, load_scenario, parse_scenario
from testkit.helpers import scripted_toml


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
def test_bundled_scenarios_are_valid(name: str) -> None:
    scenario, path, _ = load_scenario(name)
    assert path.name == f"{name}.toml"
    prompts = {scenario.prompt_for(s) for s in scenario.expanded()}
    assert len(prompts) == 1  # one identical system prompt for every station


def test_default_and_stress_have_the_promised_shape() -> None:
    default, _, _ = load_scenario("default")
    assert len(default.expanded()) == 4
    assert {default.model_for(s).provider for s in default.expanded()} == {"local"}
    seeds = [s.seed for s in default.expanded()]
    assert len(set(seeds)) == 4
    assert default.economy.start_balance_usd == 20.0
    stress, _, _ = load_scenario("stress")
    assert len(stress.expanded()) == 100
    assert stress.run.hours == 7 * 24
    assert {stress.model_for(s).provider for s in stress.expanded()} == {"scripted"}


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (
            ("[run]\n", "[run]\nspeed = 3\n"),
            "run.speed: Extra inputs are not permitted (unknown field",
        ),
        (('call_sign = "KTA"', 'call_sign = "kx"'), "stations.0.call_sign: String should match"),
        (("hours = 6.0", "hours = -1"), "run.hours: Input should be greater than 0 (got -1)"),
        (('provider = "scripted"', 'provider = "gpt"'), "model.provider: unknown provider 'gpt'"),
        (('call_sign = "KTB"', 'call_sign = "KTA"'), "call signs must be unique, repeated: KTA"),
        (("tic_rate = 0.5", "tic_rate = 2"), "model.persona.tic_rate: Input should be less than"),
        (("hours = 6.0", 'hours = "many"'), "run.hours: Input should be a valid number"),
    ],
)
def test_invalid_fields_are_named(mutation: tuple[str, str], expected: str) -> None:
    text = scripted_toml(hours=6.0).replace(*mutation, 1)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "bad.toml")
    message = str(err.value)
    assert message.startswith("bad.toml: invalid scenario")
    assert expected in message


def test_missing_required_field_and_broken_toml() -> None:
    text = scripted_toml().replace('system_prompt = "', 'other = "', 1)
    with pytest.raises(ScenarioError, match=r"system_prompt: Field required \(add it\)"):
        parse_scenario(text, "x.toml")
    with pytest.raises(ScenarioError, match=r"x.toml: not valid TOML: .*line 1"):
        parse_scenario("[run\nhours = 1", "x.toml")


def test_missing_file_lists_bundled_scenarios(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"no such scenario file.*default.*stress"):
        load_scenario(tmp_path / "nope.toml")


def test_count_replicates_stations_with_numbered_call_signs() -> None:
    text = scripted_toml(stations=1).replace('city = "Testville"', 'city = "T"\ncount = 12', 1)
    scenario = parse_scenario(text)
    signs = [s.call_sign for s in scenario.expanded()]
    assert signs[:2] == ["KTA01", "KTA02"] and signs[-1] == "KTA12"
