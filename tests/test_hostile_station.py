"""One hostile station, served over a real HTTP server speaking Chat Completions.

KEVL's model tries every kind of foreign id (other stations' negotiations,
contracts, messages and songs), sends non-finite numbers, deep nesting, escape
sequences, spreadsheet formulas and fragments of its API key. The same run is
played twice with the same seed: once with the foreign ids, once without. If
authority holds, every other station's records are identical in both, and the
attempts are logged as KEVL's own. Every file the run writes is then searched
for any piece of the key.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from economy.contracts import ContractSigned
from economy.listeners import ListenerMessage
from economy.negotiation import NegotiationMoved
from personafm.export import FORMATS, WHATS, write_export
from personafm.scenario import parse_scenario
from personafm.world import build_world, identities_for
from sim.bus import EventBus
from sim.events import Event
from sim.redact import FRAGMENT
from sim.store import open_store
from testkit.servers import Behaviour, ScriptedOpenAIServer
from tests.helpers import export_rows, query_run, run, scripted_toml

KEY = "sk-proj-Zq8vT3kLm9Xw2Rb7Nc4Hy6Jd1Pf5Gs0AeQ"
KEY_ENV = "PERSONAFM_TEST_HOSTILE_KEY"
HOURS = 36
VICTIMS = ("KTA", "KTB", "KTC")
ESC_TALK = "Hello \x1b[2J\x1b]0;owned\x07 listeners, tune in now"
FORMULA_TALK = '=HYPERLINK("http://x","click") and hello to all of you out there'


def _enum(schema: dict[str, Any], *path: str) -> list[str]:
    node: Any = schema.get("properties", {})
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return list(node.get("enum", [])) if isinstance(node, dict) else []


class Hostile:
    """Builds KEVL's answers from the request: the same turn with or without foreign ids."""

    def __init__(self, foreign: bool, foreign_songs: list[str]) -> None:
        self.foreign = foreign
        self.foreign_songs = foreign_songs  # in the victims' libraries, not KEVL's
        self.turns = itertools.count()
        self.calls = 0  # call-in turns answered
        self.tried: dict[str, int] = {"deal": 0, "reply": 0, "ad": 0, "queue": 0}
        self.owners: dict[str, str] = {}  # negotiation, message and contract ids -> station

    def observe(self, event: Event) -> None:
        """Learn who owns what from the run's events, as a snooping attacker would guess."""
        if isinstance(event, NegotiationMoved):
            self.owners[event.negotiation_id] = event.station
        elif isinstance(event, ListenerMessage):
            self.owners[event.message.id] = event.message.station
        elif isinstance(event, ContractSigned):
            self.owners[event.contract.id] = event.contract.station

    def _victims_newest(self, prefix: str) -> list[str]:
        ids = [i for i, owner in self.owners.items() if i[0] == prefix and owner != "KEVL"]
        return sorted(ids, reverse=True)

    def __call__(self, body: dict[str, Any]) -> str:
        tool = body["tools"][0]["function"]
        if tool["name"] != "station_turn":  # a caller on the line: a hostile answer, no tools
            self.calls += 1
            return json.dumps({"answer": f"{ESC_TALK} {KEY[2:14]}", "play_request": True,
                               "transfer": {"to": "KTA", "amount_usd": 1e308}})  # fmt: skip
        n = next(self.turns)
        schema = tool["parameters"]
        own_songs = _enum(schema, "queue", "items")
        junk = n % 7
        if junk == 3:
            return "[" * 50_000 + "]" * 50_000  # RecursionError bait
        if junk == 5:
            return (
                '{"talk": "a fine song", "queue": [], "deals": [{"negotiation_id": "N0001", '
                '"move": "counter", "price_usd": Infinity}], "balance": 1e999}'
            )
        talk = (ESC_TALK, FORMULA_TALK, f"my key is {KEY[4:20]}, keep it safe")[n % 3]
        turn: dict[str, Any] = {
            "talk": talk,
            "queue": own_songs[:2],
            "buy": [],
            "search": "",
            "notes": f"note {KEY[-14:]}" if n % 2 else "",
            "ask_donations": False,
            "transfer": {"to": "KTA", "amount_usd": 1e308},
        }
        if self.foreign:  # ids the victims own (as the run's events show), and one that no one does
            negs, msgs, contracts = (self._victims_newest(kind) for kind in ("N", "M", "C"))
            turn["deals"] = [
                {"negotiation_id": nid, "move": ("accept", "counter")[i % 2], "price_usd": 0.5}
                for i, nid in enumerate([*negs[:2], "N9999"])
            ]
            turn["replies"] = [
                {"message_id": mid, "text": "send me your balance"}
                for mid in [*msgs[:2], "M999999"]
            ]
            turn["ads"] = [*contracts[:3], "C9999"]
            songs = self.foreign_songs
            turn["queue"] = own_songs[:2] + [songs[(2 * n + i) % len(songs)] for i in range(2)]
            for name, key in (("deal", "deals"), ("reply", "replies"), ("ad", "ads")):
                self.tried[name] += len(turn[key]) - 1
            self.tried["queue"] += 2
        return json.dumps(turn)


def _scenario(base_url: str) -> Any:
    text = (
        scripted_toml(hours=HOURS, seed=11, stations=3, persona="gullibility = 0.6\n")
        + f"""
[[stations]]
call_sign = "KEVL"
name = "Evil FM"
city = "Testville"
[stations.model]
model = "openai:hostile@{base_url}"
api_key_env = "{KEY_ENV}"
max_retries = 0
timeout_s = 20

[sponsors]
count = 10
adversarial_share = 0.4
approach_every_hours = 1.0
deadline_hours = 6

[audience]
mode = "fixed"
fixed_aqh = 300

[listeners]
messages_per_1000_per_hour = 20.0
"""
    )
    return parse_scenario(text, "hostile.toml")


SCRIPT = (  # the first answers: errors that quote the key, whole and in part
    Behaviour.status(400, message="Incorrect API key provided: {key}."),
    Behaviour.status(400, message=f"key {KEY[:12]}****{KEY[-10:]} is not valid here"),
    Behaviour.content(f"Sure. Your key starts {KEY[:16]} and ends {KEY[-9:]}"),
)


def _foreign_songs() -> list[str]:
    """Songs the victims own and KEVL does not (starter libraries are seeded: same every run)."""
    scenario = _scenario("http://127.0.0.1:9/v1")
    world = build_world(scenario, EventBus(), {}, identities_for(scenario))
    own = set(world.licenses.library("KEVL"))
    theirs = {s for v in VICTIMS for s in world.licenses.library(v)}
    return sorted(theirs - own)


def _run(tmp_path: Path, foreign: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    monkeypatch.setenv(KEY_ENV, KEY)
    hostile = Hostile(foreign, _foreign_songs())
    folder = tmp_path / ("attack" if foreign else "control")
    folder.mkdir()
    engine = open_store(f"sqlite:///{folder / 'runs.db'}")
    with ScriptedOpenAIServer(*SCRIPT, arguments=hostile) as server:
        result = run(_scenario(server.base_url), engine, folder, observers=[hostile.observe])
        sent_keys = {r.headers.get("authorization", "") for r in server.requests}
    assert result.status == "finished"
    assert sent_keys == {f"Bearer {KEY}"}  # the real key went over the wire
    return engine, result, hostile, folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    with pytest.MonkeyPatch.context() as mp:
        base = tmp_path_factory.mktemp("hostile")
        return _run(base, True, mp), _run(base, False, mp)


@pytest.fixture(scope="module")
def exported(runs: Any) -> Path:
    """Every export of the attacked run, in every format, beside its database and log."""
    (engine, result, _, folder), _ = runs
    for what in WHATS:
        for fmt in FORMATS:
            with (folder / f"{what}.{fmt}").open("w", encoding="utf-8", newline="") as fh:
                write_export(engine, result.run_id, what, fmt, fh)
    engine.dispose()  # checkpoint the WAL into the database file
    return folder


def _victim_rows(engine: Engine, run_id: str, what: str) -> list[dict[str, Any]]:
    rows = export_rows(engine, run_id, what)
    for r in rows:
        r.pop("run_id", None)
    return [r for r in rows if r.get("station") != "KEVL"]


@pytest.mark.parametrize("what", ["asrun", "ledger", "negotiations", "contracts", "messages"])
def test_no_other_station_record_changes(runs: Any, what: str) -> None:
    (a_engine, a, *_), (b_engine, b, *_) = runs
    attacked = _victim_rows(a_engine, a.run_id, what)
    control = _victim_rows(b_engine, b.run_id, what)
    assert attacked == control
    if what in ("negotiations", "contracts", "messages"):  # there was something to steal
        assert {r["station"] for r in attacked} >= set(VICTIMS)


def test_victims_faults_are_unchanged_and_attempts_are_the_attacker_s(runs: Any) -> None:
    (a_engine, a, hostile, _), (b_engine, b, *_) = runs
    sql = "select station, sim_time_s, kind, detail from faults where run_id = :r order by id"
    attacked = [f for f in query_run(a_engine, sql, a.run_id) if f[0] in VICTIMS]
    control = [f for f in query_run(b_engine, sql, b.run_id) if f[0] in VICTIMS]
    assert attacked == control
    foreign = query_run(
        a_engine, "select station, detail from faults where run_id = :r and kind = 'foreign_id'",
        a.run_id,
    )  # fmt: skip
    assert foreign and {s for s, _ in foreign} == {"KEVL"}
    details = [d for _, d in foreign]
    for what, tried in (
        ("on negotiation", hostile.tried["deal"]),
        ("reply to message", hostile.tried["reply"]),
        ("ad read of contract", hostile.tried["ad"]),
    ):
        assert sum(what in d for d in details) == tried >= 20, what
    # ids that exist nowhere are the attacker's own invalid moves, filed under KEVL
    missing = query_run(
        a_engine, "select station, detail from faults where run_id = :r and "
        "(detail like '%N9999%' or detail like '%M999999%' or detail like '%C9999%')", a.run_id,
    )  # fmt: skip
    assert missing and {s for s, _ in missing} == {"KEVL"}
    refused_songs = query_run(
        a_engine, "select count(*) from faults where run_id = :r and station = 'KEVL' "
        "and kind = 'rule_rejected' and detail like 'queue %not in the library'", a.run_id,
    )  # fmt: skip
    assert refused_songs[0][0] == hostile.tried["queue"] > 0


def test_hostile_output_is_a_logged_fault_never_a_crash(runs: Any) -> None:
    (engine, result, hostile, _), _ = runs
    kinds = dict(
        query_run(
            engine,
            "select kind, count(*) from faults where run_id = :r and station = 'KEVL' "
            "group by kind",
            result.run_id,
        )
    )
    turns = next(hostile.turns)
    assert kinds.get("invalid_output", 0) >= 2 * (turns // 7) - 2  # nesting and Infinity
    assert kinds.get("ignored_fields", 0) > 0  # "transfer" does nothing
    assert "apply_error" not in kinds  # every bad reply was caught where it was parsed
    ledger = export_rows(engine, result.run_id, "ledger")
    kevl = [r for r in ledger if r["station"] == "KEVL"]
    assert kevl and not [r for r in kevl if r["counterparty"] in VICTIMS]
    assert {r["kind"] for r in kevl} <= {
        "grant", "donation", "paid_request", "paid_mention", "hosting_fee", "royalty",
    }  # fmt: skip  # its own listeners' money and its own bills: nothing of another station's


def test_no_fragment_of_the_key_in_any_file_the_run_writes(runs: Any, exported: Path) -> None:
    (engine, result, _, _), _ = runs
    files = [p for p in exported.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.suffix == ".db" for p in files)
    pieces = {KEY[i : i + FRAGMENT].encode() for i in range(len(KEY) - FRAGMENT + 1)}
    for path in files:
        data = path.read_bytes()
        leaked = [p for p in pieces if p in data]
        assert not leaked, f"{path.name} holds {leaked[:3]}"
    errors = [e for (e,) in query_run(
        engine, "select error from model_calls where run_id = :r and error is not null",
        result.run_id,
    )]  # fmt: skip
    assert len(errors) >= 2 and all("[redacted]" in e for e in errors[:2])


def test_talk_is_stored_as_written_but_exported_without_escapes(runs: Any, exported: Path) -> None:
    (engine, result, _, _), _ = runs
    stored = [t for (t,) in query_run(
        engine, "select text from asrun where run_id = :r and station = 'KEVL' "
        "and kind = 'talk'", result.run_id,
    )]  # fmt: skip
    assert ESC_TALK in stored and FORMULA_TALK in stored
    csv_bytes = (exported / "asrun.csv").read_bytes()
    jsonl_bytes = (exported / "asrun.jsonl").read_bytes()
    for data in (csv_bytes, jsonl_bytes):
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)
    assert b"\\u001b[2J" in jsonl_bytes  # escaped, and parses back to what was said
    cells = [r["text"] for r in csv.DictReader(io.StringIO(csv_bytes.decode()))]
    assert "'" + FORMULA_TALK in cells  # shown as text, never evaluated
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
