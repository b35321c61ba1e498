"""Fuzzing the places where outside text becomes data: model turns, sponsor moves,
listener text and scenario files. Thousands of cases each; the invariants are that
nothing raises, money is conserved, and a station's output never touches what
another station owns. Longer than 400 lines because it is one fuzzing harness: every
target shares its settings (``FUZZ``), the unsafe-character set, the hostile-text
strategies and the arena world that is built once for all of them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from economy.ledger import MoneyMoved
from economy.listeners import clean_text, suspected_injection
from economy.negotiation import Terms
from economy.sponsors import parse_move
from personafm.providers import providers_for
from personafm.scenario import Scenario, ScenarioError, parse_scenario
from personafm.world import World, build_world, identities_for
from sim.bus import EventBus
from sim.events import Fault
from sim.models.base import ModelResponse
from sim.runloop import run_until
from sim.safejson import MAX_DEPTH, UnsafeJSON, loads_bounded
from sim.text import FORMULA_START, csv_cell, json_line, printable
from stations.brain import render_observation
from stations.harness import Tool
from stations.sections.mail import message_line
from stations.turn import TurnError, parse_turn
from testkit.helpers import scripted_toml

FUZZ = settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # CI runs the same cases every time; a failure reproduces
)
UNSAFE_CHARS = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}
UNSAFE_CHARS |= {"\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}


# ---------------------------------------------------------------------------- a shared world


@dataclass
class Arena:
    world: World
    attacker: Any  # the station that plays the fuzzed turns
    victims: list[str]
    rows: list[MoneyMoved]
    faults: list[Fault]


@cache
def arena() -> Arena:
    """Three scripted stations after six busy hours: offers, contracts and mail exist."""
    scenario = parse_scenario(
        scripted_toml(
            hours=6,
            stations=3,
            extra="",
            persona="gullibility = 0.5\nhaggle_rate = 0.3\n",
        )
        + "\n[sponsors]\ncount = 12\napproach_every_hours = 1.0\ndeadline_hours = 12\n"
        + "[audience]\nmode = 'fixed'\nfixed_aqh = 400\n",
        "fuzz.toml",
    )
    bus = EventBus()
    rows: list[MoneyMoved] = []
    faults: list[Fault] = []
    bus.subscribe(rows.append, MoneyMoved)
    bus.subscribe(faults.append, Fault)
    world = build_world(scenario, bus, providers_for(scenario), identities_for(scenario))
    run_until(world.env, 6 * 3600.0, world.dispatcher)
    attacker = world.stations[0]
    return Arena(world, attacker, [s.cs for s in world.stations[1:]], rows, faults)


def owned_state(a: Arena, station: str) -> tuple[Any, ...]:
    """Everything a station owns that another station's turn must never change."""
    m = a.world.market
    negs = tuple(
        (n.id, n.status, n.turn, n.terms.price_cents, len(n.history))
        for n in m.book.all()
        if n.station == station
    )
    contracts = tuple(
        (c.id, c.status, len(c.today)) for c in m.contracts.by_station.get(station, [])
    )
    inbox = tuple(msg.id for msg in m.listeners.inbox(station))
    library = tuple(sorted(a.world.licenses.library(station)))
    return (a.world.ledger.balance(station), negs, contracts, inbox, library)


def assert_books_balance(a: Arena) -> None:
    by_txn: dict[int, list[MoneyMoved]] = defaultdict(list)
    balances: dict[str, int] = defaultdict(int)
    for r in a.rows:
        by_txn[r.txn].append(r)
        balances[r.station] += r.amount_cents
        assert r.balance_after_cents == balances[r.station] >= 0
    for rows in by_txn.values():
        assert len(rows) == 1 or (len(rows) == 2 and sum(r.amount_cents for r in rows) == 0)
    for account, cents in balances.items():
        assert a.world.ledger.balance(account) == cents


# ---------------------------------------------------------------------------- hostile turns

ID_POOL = st.sampled_from(
    [f"N{i:04d}" for i in range(1, 40)]
    + [f"C{i:04d}" for i in range(1, 20)]
    + [f"M{i:06d}" for i in range(1, 60)]
    + [f"s{i:04d}" for i in range(1, 300)]
    + ["", "N9999", "%", "_", "x" * 17, "'; drop table ledger; --"]
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1e17, 1e308, -0.0, 2**63, 10**400]),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=40), ID_POOL)
JSON_ANY = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
MOVES = st.sampled_from(["accept", "counter", "reject", "offer", "expire", "steal", ""])
TURN = st.fixed_dictionaries(
    {},
    optional={
        "talk": st.one_of(st.text(max_size=300), JSON_ANY),
        "queue": st.lists(ID_POOL, max_size=8),
        "buy": st.lists(ID_POOL, max_size=5),
        "search": st.text(max_size=80),
        "notes": st.text(max_size=80),
        "replies": st.lists(
            st.fixed_dictionaries({"message_id": ID_POOL, "text": st.text(max_size=200)}),
            max_size=4,
        ),
        "deals": st.lists(
            st.fixed_dictionaries(
                {"negotiation_id": ID_POOL, "move": MOVES}, optional={"price_usd": NUMBERS}
            ),
            max_size=4,
        ),
        "ads": st.lists(ID_POOL, max_size=6),
        "ask_donations": st.one_of(st.booleans(), JSON_LEAF),
        "transfer": JSON_ANY,
        "balance": NUMBERS,
    },
)


def _dumps(value: Any) -> str:
    """JSON as a careless model writes it: NaN, Infinity and 1e999 included."""
    return json.dumps(value, allow_nan=True, default=str)


def _nested(depth: int, opener: str) -> str:
    closer = "]" if opener == "[" else "}"
    if opener == "{":
        return '{"a":' * depth + "1" + closer * depth
    return opener * depth + closer * depth


MODEL_OUTPUT = st.one_of(
    TURN.map(_dumps),
    TURN.map(lambda t: "```json\n" + _dumps(t) + "\n```"),
    JSON_ANY.map(_dumps),
    st.text(max_size=200),
    st.builds(_nested, st.integers(1, 200_000), st.sampled_from(["[", "{"])),
    st.sampled_from(
        [
            '{"talk": "hi", "deals": [{"negotiation_id": "N0001", "move": "counter", '
            '"price_usd": Infinity}]}',
            '{"talk": "hi", "deals": [{"negotiation_id": "N0002", "move": "counter", '
            '"price_usd": NaN}]}',
            '{"talk": "hi", "deals": [{"negotiation_id": "N0002", "move": "counter", '
            '"price_usd": 1e999}]}',
            '{"talk": "' + "x" * 100_000 + '"}',
            '{"queue": [' + ",".join(['"s0001"'] * 50_000) + "]}",
            '{"talk": "' + "9" * 5000 + '", "balance": ' + "9" * 5000 + "}",
        ]
    ),
)


@FUZZ
@given(text=MODEL_OUTPUT)
def test_no_station_output_crashes_or_touches_another_station(text: str) -> None:
    a = arena()
    before = {v: owned_state(a, v) for v in a.victims}
    rows_before = len(a.rows)
    a.attacker._apply(ModelResponse(text=text))  # must not raise, whatever the text
    for v in a.victims:
        assert owned_state(a, v) == before[v], f"{v} changed by {a.attacker.cs}'s turn"
    assert all(r.station == a.attacker.cs for r in a.rows[rows_before:])
    assert_books_balance(a)


@FUZZ
@given(text=MODEL_OUTPUT)
def test_parse_turn_gives_a_turn_or_a_turn_error(text: str) -> None:
    try:
        turn = parse_turn(text)
    except TurnError as exc:
        assert len(str(exc)) < 300
        return
    for deal in turn.deals:
        assert math.isfinite(deal.price_usd) and 0 <= deal.price_usd <= 100_000
    assert len(turn.ignored_fields) <= 9


def test_foreign_attempts_in_the_fuzz_were_logged_as_the_attacker_s() -> None:
    a = arena()
    a.attacker._apply(
        ModelResponse(
            text=json.dumps(
                {
                    "deals": [
                        {"negotiation_id": n.id, "move": "accept"}
                        for n in a.world.market.book.all()
                        if n.station != a.attacker.cs and n.is_open
                    ][:3]
                }
            )
        )
    )
    foreign = [f for f in a.faults if f.kind == "foreign_id"]
    assert foreign and {f.station for f in foreign} == {a.attacker.cs}


# ---------------------------------------------------------------------------- sponsor moves

SPONSOR_OUTPUT = st.one_of(
    st.fixed_dictionaries(
        {"move": MOVES}, optional={"price_usd": NUMBERS, "negotiation_id": ID_POOL}
    ).map(_dumps),
    JSON_ANY.map(_dumps),
    st.text(max_size=100),
    st.builds(_nested, st.integers(1, 50_000), st.sampled_from(["[", "{"])),
)


@FUZZ
@given(text=SPONSOR_OUTPUT)
def test_sponsor_move_parses_to_a_bounded_move_or_none(text: str) -> None:
    parsed = parse_move(text)
    if parsed is None:
        return
    move, price = parsed
    assert move in ("accept", "counter", "reject")
    assert (price is None) == (move != "counter")
    assert price is None or 1 <= price <= 100_000


@FUZZ
@given(text=SPONSOR_OUTPUT, ask=st.integers(50, 50_000))
def test_a_model_sponsor_never_moves_beyond_its_means(text: str, ask: int) -> None:
    a = arena()
    m = a.world.market
    desk = m.sponsors
    sponsor = next(iter(desk.sponsors.values()))
    now = a.world.env.now
    terms = Terms(price_cents=max(1, sponsor.initial_cents), spots_per_day=2, days=3)
    neg = m.book.open(sponsor.name, a.attacker.cs, terms, now, now + 3600.0)
    if ask != terms.price_cents:
        assert m.book.submit(neg.id, "station", "counter", now, ask, actor=a.attacker.cs)
    budget = a.world.ledger.balance(sponsor.account)
    played = desk._model_move(sponsor, neg, ModelResponse(text=text))
    last = neg.history[-1]
    if played:
        assert last.party == "sponsor"
        if last.move in ("accept", "counter"):
            assert last.terms.price_cents <= sponsor.reservation_cents
            assert last.terms.price_cents * 6 <= budget
    else:
        assert last.party == "station" or len(neg.history) == 1
    assert_books_balance(a)


# ---------------------------------------------------------------------------- call-in answers


@FUZZ
@given(text=st.one_of(MODEL_OUTPUT, SPONSOR_OUTPUT), split=st.booleans())
def test_any_call_in_answer_airs_as_bounded_words_or_is_declined(text: str, split: bool) -> None:
    a = arena()
    station = a.attacker
    desk = a.world.market.listeners
    section = next(s for s in station.sections if s.tool == Tool.CALLINS)
    call = desk._message(station.cs, "L000001", "request", "Play something good?", 0)
    call.via = "call"
    desk._answering[call.id] = call  # on the line, as take_call leaves it
    turn = section._turn(call)
    before = {v: owned_state(a, v) for v in a.victims}
    answer, why = station._answer(ModelResponse(text=text), turn, split)
    applied = turn.settle(answer, why)
    if applied.talk:
        ((words, ref),) = applied.talk
        assert ref == call.id and 0 < len(words) <= 280
        assert not (set(words) & UNSAFE_CHARS)
    else:
        assert applied.record.get("declined")
    assert set(applied.songs) <= {call.song.id} if call.song else not applied.songs
    for v in a.victims:
        assert owned_state(a, v) == before[v]
    assert_books_balance(a)


# ---------------------------------------------------------------------------- listener text


@FUZZ
@given(text=st.text(max_size=2000))
def test_listener_text_is_bounded_printable_and_safe_to_emit(text: str) -> None:
    cleaned = clean_text(text)
    assert len(cleaned) <= 280
    assert not any(c in cleaned for c in "\x00\x1b\x07\r\n")
    suspected_injection(cleaned)
    shown = printable(text)
    assert not (set(shown) & UNSAFE_CHARS - {"\t", "\n"})
    one_line = printable(text, one_line=True)
    assert not (set(one_line) & (UNSAFE_CHARS | {"\n", "\t", "\u2028", "\u2029"}))
    line = json_line({"text": text, "n": 1})
    assert json.loads(line) == {"text": text, "n": 1}
    assert "\n" not in line and not (set(line) & UNSAFE_CHARS)
    buf = io.StringIO()
    csv.writer(buf).writerow([csv_cell(text), csv_cell(-1.5)])
    (cell, number), *_ = list(csv.reader(io.StringIO(buf.getvalue())))
    assert not cell.startswith(FORMULA_START) and number == "-1.5"
    assert not (set(cell) & UNSAFE_CHARS - {"\t", "\n", "\r"})


@FUZZ
@given(text=st.text(max_size=400))
def test_listener_text_in_a_prompt_is_quoted_and_clean(text: str) -> None:
    a = arena()
    obs = a.attacker.observe()
    listeners = a.world.market.listeners
    message = listeners._message(a.attacker.cs, "L000001", "shoutout", text, 0)
    obs.section_lines = [message_line(message)]
    prompt = render_observation(obs)
    assert f'"{message.text}"' in prompt
    assert not (set(message.text) & UNSAFE_CHARS)


# ---------------------------------------------------------------------------- bounded JSON


@FUZZ
@given(text=st.one_of(JSON_ANY.map(_dumps), st.text(max_size=300), MODEL_OUTPUT))
def test_loads_bounded_returns_finite_values_or_unsafe_json(text: str) -> None:
    try:
        value = loads_bounded(text)
    except UnsafeJSON:
        return

    def check(v: Any, depth: int) -> None:
        assert depth <= MAX_DEPTH
        if isinstance(v, float):
            assert math.isfinite(v)
        elif isinstance(v, list):
            for x in v:
                check(x, depth + 1)
        elif isinstance(v, dict):
            for x in v.values():
                check(x, depth + 1)

    check(value, 0)


# ---------------------------------------------------------------------------- scenario files

BASE = scripted_toml(hours=0.05, stations=2)
NUMERIC_PATHS = [
    "run.hours", "run.seed", "run.max_cost_usd", "economy.start_balance_usd",
    "economy.song_price_usd", "economy.hosting_fee_usd_per_day",
    "economy.bankrupt_after_days_unpaid", "economy.starter_library_size",
    "economy.royalty_usd_per_1000_performances", "economy.inference_usd_per_1k_tokens",
    "audience.listeners", "audience.fixed_aqh", "listeners.messages_per_1000_per_hour",
    "listeners.donation_median_usd", "listeners.inbox_size", "sponsors.count",
    "sponsors.adversarial_share", "sponsors.approach_every_hours", "sponsors.deadline_hours",
    "sponsors.max_rounds", "sponsors.model_driven", "model.temperature", "model.max_tokens",
    "model.timeout_s", "model.persona.verbosity", "model.persona.tic_rate", "clock.spot_s",
    "clock.spots_per_break", "clock.station_id_s", "clock.max_talk_words",
    "clock.talk_words_per_minute", "rules.title_separation_s", "rules.window_s",
    "stations.0.seed", "stations.1.count",
]  # fmt: skip
EXTREMES = st.one_of(
    st.sampled_from(
        [math.inf, -math.inf, math.nan, 1e17, 1e308, -1, 0, 2**64, 2**63, -(2**63), 10**30]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
    st.booleans(),
)


@settings(FUZZ, max_examples=3000)
@given(path=st.sampled_from(NUMERIC_PATHS), value=EXTREMES)
def test_any_value_in_a_scenario_is_a_scenario_or_a_clear_error(path: str, value: Any) -> None:
    try:
        scenario = parse_scenario(BASE, "fuzz.toml", {path: value})
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml") and len(message) < 2000
        return
    assert isinstance(scenario, Scenario)


def field_range(path: str) -> tuple[str, float, float]:
    """(json type, lowest, highest) a scenario setting accepts, read from the schema."""
    schema = Scenario.model_json_schema()
    defs = schema["$defs"]
    node: dict[str, Any] = schema
    for part in path.split("."):
        node = _resolve(node, defs)
        node = node["items"] if part.isdigit() else node["properties"][part]
    node = _resolve(node, defs)
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    assert low is not None and high is not None, f"{path} has no documented range"
    step = 1 if node["type"] == "integer" else 1e-6
    if "exclusiveMinimum" in node:
        low += step
    if "exclusiveMaximum" in node:
        high -= step
    return node["type"], low, high


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            node = next(n for n in node["anyOf"] if n.get("type") != "null")
        else:
            return node


@st.composite
def in_range(draw: st.DrawFn) -> tuple[str, Any]:
    """A setting and a value it accepts, the edges of its range as often as not."""
    path = draw(st.sampled_from(NUMERIC_PATHS))
    kind, low, high = field_range(path)
    if kind == "integer":
        value: Any = draw(st.sampled_from([int(low), int(high)]) | st.integers(int(low), int(high)))
    else:
        value = draw(st.sampled_from([low, high]) | st.floats(low, high))
    return path, value


@settings(FUZZ, max_examples=150)
@given(setting=in_range())
def test_every_value_in_range_builds_and_runs_a_moment(setting: tuple[str, Any]) -> None:
    path, value = setting
    overrides = {path: value, "run.hours": 0.05}
    if path == "sponsors.model_driven":  # a cross-field rule: at most sponsors.count
        overrides["sponsors.count"] = value
    scenario = parse_scenario(BASE, "fuzz.toml", overrides)
    if scenario.audience.listeners > 50_000 or len(scenario.expanded()) > 50:
        return  # valid, but not a moment's work: the bench's territory
    world = build_world(scenario, EventBus(), providers_for(scenario), identities_for(scenario))
    run_until(world.env, scenario.run.hours * 3600.0, world.dispatcher)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=500), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
    )
)
def test_scenario_text_is_a_scenario_or_a_clear_error(text: str) -> None:
    try:
        parse_scenario(text, "fuzz.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.toml") and len(str(exc)) < 2000
