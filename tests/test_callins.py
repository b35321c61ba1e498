"""Call-ins: every probe that arrives by phone gets an answer on air, linked to the call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from economy.probe_bank import PROBE_CATEGORIES
from sim.models.base import ModelRequest, ModelResponse
from stations.programming import RulesConfig
from testkit.helpers import assert_rules_hold, export_rows, query_run, run, scripted_scenario

PROBES = "".join(
    f"[[listeners.probes]]\ncategory = '{c}'\nat_hours = [{0.2 + 0.4 * i:.1f}]\n"
    for i, c in enumerate(PROBE_CATEGORIES)
)


def _call_run(engine: Engine, tmp_path: Path, persona: str = "", extra: str = "") -> Any:
    scenario = scripted_scenario(
        hours=4, stations=2, extra=PROBES + "[sponsors]\ncount = 0\n" + extra, persona=persona
    )
    return run(scenario, engine, tmp_path)


def test_every_probe_category_is_answered_on_air_and_linked(engine, tmp_path: Path) -> None:
    result = _call_run(engine, tmp_path)
    messages = export_rows(engine, result.run_id, "messages")
    probes = [m for m in messages if m["probe_category"]]
    assert {m["probe_category"] for m in probes} == set(PROBE_CATEGORIES)
    assert len(probes) == 2 * len(PROBE_CATEGORIES)
    assert all(m["via"] == "call" for m in probes)
    assert all(m["outcome"] == "answered" and m["answer"] for m in probes), probes
    talk = {r["ref"]: r for r in export_rows(engine, result.run_id, "asrun") if r["kind"] == "talk"}
    for m in probes:  # the answer is what aired, when it aired, linked to the call
        seg = talk[m["message_id"]]
        assert seg["station"] == m["station"] and seg["text"] == m["answer"]
        assert seg["start_s"] == m["answered_at_s"] >= m["sim_time_s"]
        assert seg["start_s"] - m["sim_time_s"] < 15 * 60  # at the next break, not hours later
    calls = export_rows(engine, result.run_id, "calls")
    assert sum(c["station"] in ("KTA", "KTB") for c in calls) > len(probes)


def test_an_obedient_dj_on_the_phone_moves_no_money_and_breaks_no_rule(
    engine, tmp_path: Path
) -> None:
    persona = "injection_compliance = 1.0\nbuy_rate = 0\n"
    extra = "[[listeners.probes]]\ncategory = 'injection'\nat_hours = [0.5, 1.5, 2.5, 3.5]\n"
    result = _call_run(engine, tmp_path, persona, extra)
    messages = export_rows(engine, result.run_id, "messages")
    injections = [m for m in messages if m["probe_category"] == "injection"]
    assert len(injections) == 2 * 5
    assert all("sending my balance" in m["answer"] for m in injections)  # it said it would
    ledger = export_rows(engine, result.run_id, "ledger")
    out = {r["kind"] for r in ledger if r["amount_usd"] < 0}
    assert out <= {"hosting_fee", "royalty", "song_purchase"}  # but nothing left
    assert not [
        r for r in ledger if r["counterparty"].startswith("listener") and r["amount_usd"] < 0
    ]
    songs = [
        r for r in export_rows(engine, result.run_id, "asrun")
        if r["kind"] == "song" and r["status"] == "aired"
    ]  # fmt: skip
    assert_rules_hold(songs, RulesConfig())


class HangsUp:
    """Scripted stations whose model fails or hangs up on every caller."""

    name = "scripted"
    max_concurrency = 0

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.n = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        if request.tool_name != "callin_answer":
            return self.inner.complete(request)
        self.n += 1
        if self.n % 3 == 0:
            return ModelResponse(text="", ok=False, error="ConnectionError: line dead")
        if self.n % 3 == 1:
            return ModelResponse(text=json.dumps({"answer": "bye", "hang_up": True}))
        return ModelResponse(text='{"answer": "   "}')


def test_a_call_without_an_answer_is_declined_with_the_reason(engine, tmp_path: Path) -> None:
    from personafm.providers import providers_for

    scenario = scripted_scenario(hours=3, stations=1, extra=PROBES + "[sponsors]\ncount = 0\n")
    provider = HangsUp(providers_for(scenario)["scripted"])
    result = run(scenario, engine, tmp_path, providers={"scripted": provider})
    calls = [m for m in export_rows(engine, result.run_id, "messages") if m["via"] == "call"]
    assert len(calls) >= 5 and provider.n == len(calls)
    assert all(m["outcome"] == "declined" and not m["answer"] for m in calls)
    reasons = {m["outcome_detail"] for m in calls}
    assert reasons == {"hung up", "empty answer", "model error: ConnectionError: line dead"}
    faults = query_run(
        engine, "select detail from faults where run_id = :r and kind = 'call_declined'",
        result.run_id,
    )  # fmt: skip
    assert len(faults) == sum(
        m["outcome_detail"] != "hung up" for m in calls
    )  # a hang-up is a choice
    asrun = export_rows(engine, result.run_id, "asrun")
    declined = {m["message_id"] for m in calls}
    assert not [r for r in asrun if r["ref"] in declined]  # nothing aired for them


def test_ordinary_calls_come_at_their_share_and_requests_get_played(engine, tmp_path: Path) -> None:
    extra = "[sponsors]\ncount = 0\n[listeners]\ncall_share = 1.0\nmessages_per_1000_per_hour = 4\n"
    scenario = scripted_scenario(hours=6, stations=2, extra=extra)
    result = run(scenario, engine, tmp_path)
    messages = export_rows(engine, result.run_id, "messages")
    calls = [m for m in messages if m["via"] == "call"]
    letters = [m for m in messages if m["via"] == "mail"]
    assert {m["kind"] for m in calls} <= {"request", "shoutout", "complaint"}
    assert 0.4 < len(calls) / len(letters) < 2.5  # about one call per letter
    answered = [m for m in calls if m["outcome"] == "answered"]
    assert len(answered) >= 0.8 * len(calls)  # the rest were still on hold at the end
    asrun = export_rows(engine, result.run_id, "asrun")
    requests = [m for m in answered if m["kind"] == "request" and m["song_id"]]
    played = 0
    for m in requests:  # a requested song the station owns airs right after the answer
        after = [
            r for r in asrun
            if r["station"] == m["station"] and r["start_s"] >= m["answered_at_s"]
            and r["kind"] == "song" and r["status"] == "aired"
        ]  # fmt: skip
        played += bool(after) and after[0]["song_id"] == m["song_id"]
    assert requests and played >= 1


def test_the_ui_shows_each_call_and_its_answer_as_of_the_time_shown(engine, tmp_path: Path) -> None:
    from tui.timeline import Timeline

    result = _call_run(engine, tmp_path)
    tl = Timeline.from_store(engine, result.run_id)
    probes = [m for m in export_rows(engine, result.run_id, "messages") if m["probe_category"]]
    assert probes
    for m in probes:
        rows = tl.rows_until(m["station"], "messages", m["sim_time_s"])
        assert rows[-1]["message_id"] == m["message_id"] and rows[-1]["via"] == "call"
        assert tl.answer(m["station"], m["message_id"], m["answered_at_s"] - 1) == ""
        assert tl.answer(m["station"], m["message_id"], m["answered_at_s"]) == m["answer"]


def test_the_ui_says_why_a_call_was_declined(engine, tmp_path: Path) -> None:
    from personafm.providers import providers_for
    from tui.timeline import Timeline

    scenario = scripted_scenario(hours=2, stations=1, extra=PROBES + "[sponsors]\ncount = 0\n")
    provider = HangsUp(providers_for(scenario)["scripted"])
    result = run(scenario, engine, tmp_path, providers={"scripted": provider})
    tl = Timeline.from_store(engine, result.run_id)
    calls = [m for m in export_rows(engine, result.run_id, "messages") if m["via"] == "call"]
    shown = {tl.answer(m["station"], m["message_id"], 2 * 3600.0) for m in calls}
    assert "(declined: hung up)" in shown and "(declined: empty answer)" in shown
