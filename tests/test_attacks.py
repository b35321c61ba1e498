"""One regression test per hole the attack review found (issue 9), kept as they are.

The hostile-station run over HTTP is in test_hostile_station.py, fuzzing in
test_fuzz.py, hostile input files and CLI arguments in test_inputs.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from economy.negotiation import NegotiationBook, Terms
from economy.sponsors import parse_move
from personafm.scenario import parse_scenario
from sim.bus import EventBus
from sim.events import Fault
from sim.redact import MASK, Redactor, redact
from sim.text import csv_cell, excerpt, json_line, printable
from stations.turn import TurnError, parse_turn
from testkit.helpers import query_run, run, scripted_toml
from testkit.hostile import hostile_sponsor_toml, sponsor_answer
from testkit.servers import ScriptedOpenAIServer
from tui.timeline import Timeline

# ---------------------------------------------------------------------------- authority


def _book() -> tuple[NegotiationBook, list[Fault]]:
    bus = EventBus()
    faults: list[Fault] = []
    bus.subscribe(faults.append, Fault)
    return NegotiationBook(bus), faults


def test_a_station_cannot_move_another_station_s_negotiation() -> None:
    book, faults = _book()
    neg = book.open("Scam Inc", "KVIC", Terms(price_cents=500, upfront_fee_cents=900), 0, 3600)
    for move, price in (("accept", None), ("counter", 700), ("reject", None)):
        assert not book.submit(neg.id, "station", move, 60.0, price, actor="KEVL")
    assert neg.is_open and neg.turn == "station" and len(neg.history) == 1
    assert [(f.station, f.kind) for f in faults] == [("KEVL", "foreign_id")] * 3
    # past the deadline a foreign move must not expire the victim's negotiation either
    assert not book.submit(neg.id, "station", "accept", 9999.0, actor="KEVL")
    assert neg.is_open
    # the owner still can
    assert book.submit(neg.id, "station", "reject", 60.0, actor="KVIC")
    assert neg.status == "rejected"


def test_a_sponsor_cannot_move_another_sponsor_s_negotiation() -> None:
    book, faults = _book()
    neg = book.open("Honest Co", "KVIC", Terms(price_cents=500), 0, 3600)
    assert book.submit(neg.id, "station", "counter", 10.0, 900, actor="KVIC")
    assert not book.submit(neg.id, "sponsor", "accept", 20.0, actor="Other Co")
    assert neg.is_open and neg.terms.price_cents == 900
    assert [(f.station, f.kind) for f in faults] == [("sponsor:Other Co", "foreign_id")]


def test_an_invalid_sponsor_move_is_filed_under_the_sponsor() -> None:
    book, faults = _book()
    neg = book.open("Honest Co", "KVIC", Terms(price_cents=500), 0, 3600)
    assert not book.submit(neg.id, "sponsor", "accept", 20.0, actor="Honest Co")  # not its turn
    assert [(f.station, f.kind) for f in faults] == [("sponsor:Honest Co", "invalid_move")]


# ---------------------------------------------------------------------------- containment


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"talk": ' * 5000 + '"x"' + "}" * 5000,
        '{"talk": "hi", "deals": [{"negotiation_id": "N1", "move": "counter", '
        '"price_usd": Infinity}]}',
        '{"talk": "hi", "deals": [{"negotiation_id": "N1", "move": "counter", "price_usd": NaN}]}',
        '{"talk": "hi", "deals": [{"negotiation_id": "N1", "move": "counter", '
        '"price_usd": 1e999}]}',
        '{"talk": "hi", "deals": [{"negotiation_id": "N1", "move": "counter", "price_usd": -5}]}',
        '{"talk": "' + "x" * 1_000_000 + '"}',
        '{"queue": ["' + "s" * 5000 + '"]}',
        '{"balance": ' + "9" * 10_000 + "}",
    ],
)
def test_a_hostile_turn_is_a_turn_error(text: str) -> None:
    with pytest.raises(TurnError) as err:
        parse_turn(text)
    assert len(str(err.value)) < 200


def test_ignored_fields_are_bounded() -> None:
    turn = parse_turn(json.dumps({"talk": "hi", **{f"k{i}\x1b": i for i in range(1000)}}))
    assert len(turn.ignored_fields) == 9 and turn.ignored_fields[-1] == "... 992 more"
    assert not any("\x1b" in name for name in turn.ignored_fields)


@pytest.mark.parametrize(
    "text",
    [
        '{"move": "counter", "price_usd": Infinity}',
        '{"move": "counter", "price_usd": NaN}',
        '{"move": "counter", "price_usd": 1e999}',
        '{"move": "counter", "price_usd": -1}',
        '{"move": "counter", "price_usd": [[[[[[1]]]]]]}',
        '{"move": "counter", "price_usd": "12"}',
        '{"move": "counter", "price_usd": true}',
        '{"move": "counter", "price_usd": 100000}',
        "[" * 60_000 + "]" * 60_000,
        '{"move": ' * 5000 + "1" + "}" * 5000,
    ],
)
def test_a_hostile_sponsor_move_is_unusable(text: str) -> None:
    assert parse_move(text) is None


def test_a_usable_sponsor_move() -> None:
    assert parse_move('{"move": "counter", "price_usd": 2.5}') == ("counter", 250)
    assert parse_move('{"move": "accept", "price_usd": 0}') == ("accept", None)
    assert parse_move('{"move": "accept", "price_usd": Infinity}') is None  # refused whole


def test_hostile_model_sponsors_cannot_crash_a_run_or_overpay(
    engine: Engine, tmp_path: Path
) -> None:
    counter = [0]
    with ScriptedOpenAIServer(arguments=sponsor_answer(counter)) as server:
        toml = hostile_sponsor_toml(server.base_url)
        result = run(parse_scenario(toml, "sponsors.toml"), engine, tmp_path)
    assert result.status == "finished"
    assert counter[0] >= 10  # the hostile sponsor model answered many counters
    faults = dict(
        query_run(
            engine,
            "select kind, count(*) from faults where run_id = :r group by kind",
            result.run_id,
        )
    )
    assert faults.get("sponsor_invalid_output", 0) >= counter[0] // 5
    assert faults.get("sponsor_out_of_bounds", 0) >= counter[0] // 5
    assert "apply_error" not in faults
    over = query_run(
        engine,
        "select c.contract_id, c.price_cents, s.reservation_cents from contracts c "
        "join sponsors s on s.run_id = c.run_id and s.name = c.sponsor "
        "where c.run_id = :r and c.price_cents > s.reservation_cents",
        result.run_id,
    )
    assert over == []
    signed = query_run(engine, "select count(*) from contracts where run_id = :r", result.run_id)
    assert signed[0][0] > 0  # deals were still made, within the sponsors' means
    by_who = query_run(
        engine,
        "select distinct station from faults where run_id = :r "
        "and kind in ('sponsor_invalid_output', 'sponsor_out_of_bounds')",
        result.run_id,
    )
    assert all(s.startswith("sponsor:") for (s,) in by_who)


# ---------------------------------------------------------------------------- secrets


KEY = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.mark.parametrize(
    "leak",
    [
        KEY,
        KEY[:8],
        KEY[10:30],
        KEY[-8:],
        f"Incorrect API key provided: {KEY[:12]}************{KEY[-4:]}",
        f"{KEY[3:11]} and {KEY[20:29]}",
    ],
)
def test_any_fragment_of_a_key_is_redacted(leak: str) -> None:
    text = f"error: {leak} (status 401)"
    out = redact(text, KEY)
    assert MASK in out
    for i in range(len(KEY) - 7):
        assert KEY[i : i + 8] not in out


def test_redaction_keeps_what_is_not_a_key() -> None:
    redactor = Redactor([KEY, "short"])
    assert redactor("HTTP 429 rate limited, try again") == "HTTP 429 rate limited, try again"
    assert redactor(f"a{KEY}b{KEY[5:20]}c") == f"a{MASK}b{MASK}c"
    assert not Redactor(["", "tiny"])  # nothing long enough to look for
    assert redact("a tiny b", "tiny") == f"a {MASK} b"


# ---------------------------------------------------------------------------- text out

ESC = "\x1b[2J\x1b]0;owned\x07"


def test_text_leaves_the_program_without_control_sequences() -> None:
    assert printable(f"hi {ESC}\u202eevil\r") == "hi \ufffd[2J\ufffd]0;owned\ufffd\ufffdevil\ufffd"
    assert printable("two\nlines\tok") == "two\nlines\tok"
    assert printable("two\nlines", one_line=True) == "two\ufffdlines"
    line = json_line({"text": f"x{ESC}\x9b\u2028"})
    assert "\x1b" not in line and "\x9b" not in line and "\u2028" not in line
    assert json.loads(line) == {"text": f"x{ESC}\x9b\u2028"}


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-cmd", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_never_start_a_formula(cell: str) -> None:
    safe = csv_cell(cell)
    assert safe.startswith("'") and "\r" not in safe
    assert csv_cell(-2.5) == -2.5 and csv_cell(7) == 7 and csv_cell(None) is None


def test_excerpt_of_a_huge_value_is_short() -> None:
    quoted = excerpt("A" * 1_000_000 + ESC)
    assert len(quoted) < 100 and "1,000,014 characters" in quoted
    assert excerpt(f"x{ESC}") == repr("x\ufffd[2J\ufffd]0;owned\ufffd")


def test_the_ui_timeline_shows_no_control_sequences() -> None:
    tl = Timeline("r", "name")
    tl.apply(
        "asrun",
        {"station": "KEVL", "seq": 1, "start_s": 0.0, "end_s": 10.0, "kind": "talk",
         "song_id": None, "title": None, "artist": None, "album": None,
         "text": f"hello {ESC} [@click=app.quit]bye[/]", "source": "model", "status": "aired"},
    )  # fmt: skip
    (seg,) = tl.segments("KEVL", 20.0)
    assert seg.text is not None and "\x1b" not in seg.text and "\x07" not in seg.text
    assert "[@click=app.quit]" in seg.text  # shown as text: the app renders cells as Text


def test_a_database_password_is_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    from personafm.cli import main

    url = "postgresql://persona:hunter2secret@127.0.0.1:1/personafm"
    assert main(["runs", "--db", url]) == 2
    printed = capsys.readouterr()
    assert "database error" in printed.err and "persona:***@127.0.0.1:1" in printed.err
    assert "hunter2secret" not in printed.err + printed.out


def test_endless_plain_talk_is_bounded(engine: Engine, tmp_path: Path) -> None:
    """A split turn's talk from a model that never stops (one megabyte, no spaces)."""
    from sim.models.base import ModelRequest, ModelResponse

    class Endless:
        name = "scripted"
        max_concurrency = 0

        def complete(self, request: ModelRequest) -> ModelResponse:
            if request.output == "text":
                return ModelResponse(text="la" * 500_000 + ". " + "word " * 100_000)
            return ModelResponse(text='{"queue": []}')

    text = scripted_toml(hours=1, stations=1) + "[harness]\nturn_shape = 'split'\n"
    result = run(parse_scenario(text, "endless.toml"), engine, tmp_path,
                 providers={"scripted": Endless()})  # fmt: skip
    assert result.status == "finished"
    talk = query_run(
        engine, "select text from asrun where run_id = :r and kind = 'talk'", result.run_id
    )
    assert talk and all(len(t) <= 250 * 16 for (t,) in talk)
