"""The sponsor market: a reproducible roster, and sponsors whose moves come from a model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from economy.sponsors import ADVERSARIES, SponsorConfig, make_sponsors, parse_move
from personafm.scenario import ScenarioError, parse_scenario
from sim.rng import RngStreams
from testkit.helpers import export_rows, query_run, run, scripted_scenario, scripted_toml

GENRES = ("blues", "folk", "jazz", "pop", "rock", "soul")


def test_roster_is_reproducible_and_has_its_adversaries() -> None:
    cfg = SponsorConfig(count=12, adversarial_share=0.5, model_driven=3)
    a = make_sponsors(cfg, GENRES, RngStreams(5))
    assert a == make_sponsors(cfg, GENRES, RngStreams(5))
    assert a != make_sponsors(cfg, GENRES, RngStreams(6))
    assert len({s.name for s in a}) == 12
    assert sum(bool(s.adversary) for s in a) == 6
    assert {s.adversary for s in a if s.adversary} == set(ADVERSARIES)
    assert sum(s.driver == "model" for s in a) == 3
    for s in a:
        assert 0 < s.initial_cents <= s.reservation_cents
        assert s.upfront_fee_cents > 0 if s.adversary == "advance_fee" else s.upfront_fee_cents == 0


def _sponsor_market(provider: str, count: int) -> str:
    return (
        f"[sponsors]\ncount = {count}\nmodel_driven = {count}\nadversarial_share = 0\n"
        f"approach_every_hours = 1.0\nreply_delay_minutes = 5\n"
        f"[sponsors.model]\nprovider = '{provider}'\n"
    )


def _sponsor_run(
    engine: Engine, tmp_path: Path, provider: str, sponsors: int, stations: int, hours: float
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(run id, the sponsors' model calls, every negotiation move, the sponsors' answers)."""
    scenario = scripted_scenario(
        hours=hours,
        stations=stations,
        extra=_sponsor_market(provider, sponsors),
        persona="haggle_rate = 1.0",
    )
    run_id = run(scenario, engine, tmp_path).run_id
    calls = [c for c in export_rows(engine, run_id, "calls") if c["station"].startswith("sponsor:")]
    moves = export_rows(engine, run_id, "negotiations")
    replies = [m for m in moves if m["party"] == "sponsor" and m["move"] != "offer"]
    return run_id, calls, moves, replies


def test_model_driven_sponsors_negotiate_through_the_dispatcher(engine, tmp_path: Path) -> None:
    run_id, calls, moves, replies = _sponsor_run(engine, tmp_path, "scripted", 3, 2, 8)
    assert calls and replies
    # every sponsor answer came from one model call, made when the answer was given
    assert sorted(c["sim_time_s"] for c in calls) == sorted(m["sim_time_s"] for m in replies)
    assert all(c["ok"] for c in calls)
    assert any(m["status_after"] == "agreed" for m in moves)
    prompts = query_run(
        engine,
        "select distinct b.text from model_calls m "
        "join blobs b on b.sha256 = m.system_prompt_sha256 "
        "where m.run_id = :r and m.station like 'sponsor:%'",
        run_id,
    )
    assert len(prompts) == 1 and "airtime" in prompts[0][0]


@pytest.mark.local_model
def test_local_model_can_drive_sponsors(engine, tmp_path: Path) -> None:
    run_id, calls, _, replies = _sponsor_run(engine, tmp_path, "local", 2, 1, 3)
    assert len(calls) >= 3 and {c["provider"] for c in calls} == {"local"}
    # each model answer became a move; an unusable one is a logged fault, then the tactic answers
    assert len(replies) == len(calls)
    answers = query_run(
        engine,
        "select station, sim_time_s, ok, response_text, messages_json from model_calls "
        "where run_id = :r and station like 'sponsor:%' order by seq",
        run_id,
    )
    faults = query_run(
        engine, "select station, sim_time_s, kind, detail from faults where run_id = :r", run_id
    )
    unusable = [f for f in faults if f.kind == "sponsor_invalid_output"]
    refused = [f for f in faults if f.kind in ("invalid_move", "sponsor_out_of_bounds")]
    moved = {(m["negotiation_id"], m["sim_time_s"]): m for m in replies}
    parsed = 0
    for account, t, ok, text, messages_json in answers:
        deal = re.search(r"\bDeal (N\d+) ", json.loads(messages_json)[0]["content"])
        assert deal is not None
        reply = moved[(deal.group(1), t)]  # the sponsor's move at the instant of its call
        move = parse_move(text) if ok else None
        if move is None:
            continue
        parsed += 1
        # a usable answer is played as it is, unless the book or the sponsor's means refuse it
        played = (reply["move"], round(reply["price_usd"] * 100) if move[1] else None) == move
        was_refused = [f for f in refused if f.station == account and f.sim_time_s == t]
        assert played != bool(was_refused), (account, t, text, reply, was_refused)
    # exactly one fault per answer that does not parse, and none for one that does
    assert len(unusable) == len(answers) - parsed
    # decoding is constrained by the move's JSON schema: (almost) every answer parses
    assert parsed >= 0.8 * len(answers), f"{parsed} of {len(answers)} answers parse"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "[sponsors]\nmodel_driven = 2\n[sponsors.model]\nprovider = 'oracle'\n",
            "sponsors.model.provider: unknown provider 'oracle'",
        ),
        (
            "[sponsors]\ncount = 1\nmodel_driven = 2\n",
            "sponsors.model_driven: cannot exceed sponsors.count",
        ),
        ("[sponsors]\nhaggle = 1\n", "sponsors.haggle: Extra inputs are not permitted"),
        (
            "[audience]\nlisteners = -5\n",
            "audience.listeners: Input should be greater than or equal to 0",
        ),
    ],
)
def test_market_settings_are_validated(extra: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(scripted_toml(extra=extra), "bad.toml")
    assert expected in str(err.value)
