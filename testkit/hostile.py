"""Hostile models for the attack tests and benchmarks: KEVL, a station whose model tries
every foreign id, non-finite number, deep nesting, escape sequence, spreadsheet formula
and fragment of its API key, served over a real HTTP server speaking Chat Completions;
and sponsors whose model answers with poison."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from economy.contracts import ContractSigned
from economy.listeners import ListenerMessage
from economy.negotiation import NegotiationMoved
from personafm.scenario import parse_scenario
from personafm.world import build_world, identities_for
from sim.bus import EventBus
from sim.events import Event
from sim.store import open_store
from testkit.helpers import run, scripted_toml
from testkit.servers import Behaviour, ScriptedOpenAIServer

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
            self.owners[event.message_id] = event.station
        elif isinstance(event, ContractSigned):
            self.owners[event.contract_id] = event.station

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


def run_hostile(tmp_path: Path, foreign: bool) -> tuple[Any, ...]:
    """KEVL's run, with (``foreign``) or without the foreign ids: (engine, result, hostile,
    folder). The key is in the environment for the run only."""
    previous = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = KEY
    try:
        return _run(tmp_path, foreign)
    finally:
        if previous is None:
            del os.environ[KEY_ENV]
        else:
            os.environ[KEY_ENV] = previous


def _run(tmp_path: Path, foreign: bool) -> tuple[Any, ...]:
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


HOSTILE_SPONSOR = [
    {"move": "counter", "price_usd": "Infinity"},
    "nested",
    {"move": "accept", "price_usd": 0},  # at whatever the station asks, however high
    {"move": "counter", "price_usd": 999.0},  # far above any reservation price
    {"move": "counter", "price_usd": float("nan")},
]


def sponsor_answer(counter: list[int]) -> Any:
    def answer(body: dict[str, Any]) -> str:
        counter[0] += 1
        choice = HOSTILE_SPONSOR[counter[0] % len(HOSTILE_SPONSOR)]
        if choice == "nested":
            return "[" * 40_000 + "]" * 40_000
        text = json.dumps(choice, allow_nan=True)
        return text.replace('"Infinity"', "Infinity")

    return answer


def hostile_sponsor_toml(base_url: str) -> str:
    """48 hours of three haggling stations and six sponsors driven by the model at base_url."""
    return scripted_toml(hours=48, stations=3, persona="haggle_rate = 1.0\n") + (
        "\n[sponsors]\ncount = 6\nmodel_driven = 6\napproach_every_hours = 2\n"
        f'[sponsors.model]\nmodel = "openai:hostile@{base_url}"\nmax_retries = 0\n'
        "[audience]\nmode = 'fixed'\nfixed_aqh = 300\n"
    )
