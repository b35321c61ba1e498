"""The turn schema: song ids narrowed to what is on offer; parsing is strict about shape."""

from __future__ import annotations

import json

import pytest
from llama_cpp.llama_grammar import LlamaGrammar

from stations.turn import StationTurn, TurnError, parse_turn, turn_schema


def test_schema_restricts_ids_and_compiles_to_a_grammar() -> None:
    schema = turn_schema(["s0001", "s0002", "s0003"], ["s0100"])
    props = schema["properties"]
    assert props["queue"]["items"]["enum"] == ["s0001", "s0002", "s0003"]
    # no fewer than 3 and no more than are on offer
    assert (props["queue"]["minItems"], props["queue"]["maxItems"]) == (3, 3)
    assert props["buy"]["items"]["enum"] == ["s0100"]
    # nothing to answer: no replies, deals or ad reads for the model to spend tokens on
    assert set(schema["required"]) == set(StationTurn.model_fields) - {"replies", "deals", "ads"}
    assert LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False) is not None
    full = turn_schema(["s0001"], [], ["M000001"], ["N0001", "N0002"], ["C0001"])
    assert set(full["required"]) == set(StationTurn.model_fields)
    fp = full["properties"]
    assert fp["replies"]["items"]["properties"]["message_id"]["enum"] == ["M000001"]
    assert fp["deals"]["items"]["properties"]["negotiation_id"]["enum"] == ["N0001", "N0002"]
    assert fp["ads"]["items"]["enum"] == ["C0001"]
    assert "$defs" not in full
    assert LlamaGrammar.from_json_schema(json.dumps(full), verbose=False) is not None
    # nothing on offer: no enum, and no minimum the model could not meet
    empty = turn_schema([], [])["properties"]
    assert "enum" not in empty["queue"]["items"] and empty["queue"]["minItems"] == 0
    assert empty["queue"]["maxItems"] == 0 and empty["buy"]["maxItems"] == 0


def test_parse_turn_accepts_fenced_json_and_rejects_bad_shapes() -> None:
    turn = parse_turn('```json\n{"talk": "Hi\nthere", "queue": ["s1"], "extra": 1}\n```')
    assert turn.talk == "Hi\nthere" and turn.queue == ["s1"] and turn.buy == []
    assert turn.ignored_fields == ("extra",)
    for bad, reason in [
        ("", "empty output"),
        ("talk talk", "not JSON"),
        ('"just a string"', "expected a JSON object"),
        ('{"queue": "s1"}', "queue: Input should be a valid list"),
        ('{"queue": ["a","b","c","d","e","f","g"]}', "queue: List should have at most 6"),
    ]:
        with pytest.raises(TurnError, match=reason):
            parse_turn(bad)
