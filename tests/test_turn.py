"""The turn schema: song ids narrowed to what is on offer; parsing is strict about shape."""

from __future__ import annotations

import ctypes
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import llama_cpp
import pytest
from llama_cpp import Llama
from llama_cpp.llama_grammar import LlamaGrammar

from sim.models.local import smollm2_path
from stations.sections.ads import ads_schema
from stations.sections.deals import deals_schema
from stations.sections.mail import reply_schema
from stations.turn import CORE_FIELDS, StationTurn, TurnError, parse_turn, turn_schema

Accepts = Callable[[dict[str, Any], str], bool]


@pytest.fixture(scope="module")
def grammar_accepts() -> Iterator[Accepts]:
    """Whether llama.cpp's grammar sampler, built from a schema the way the local provider
    builds it (``LlamaGrammar.from_json_schema``), lets the model write exactly ``text``.

    Only the bundled model's vocabulary is loaded (no weights). Each token of ``text`` is
    offered to the sampler alone: the grammar sets a token it forbids to -inf; an allowed
    one is accepted and the next is offered. At the end, end-of-text must be allowed too,
    so a prefix of a valid turn does not count.
    """
    llm = Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)

    def accepts(schema: dict[str, Any], text: str) -> bool:
        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar._grammar.encode(), b"root")
        assert sampler, "llama.cpp could not parse the grammar"
        try:

            def allowed(token: int) -> bool:
                data = (llama_cpp.llama_token_data * 1)()
                data[0].id, data[0].logit, data[0].p = token, 0.0, 0.0
                candidates = llama_cpp.llama_token_data_array(
                    data=data, size=1, selected=-1, sorted=False
                )
                llama_cpp.llama_sampler_apply(sampler, ctypes.byref(candidates))
                return data[0].logit != -math.inf

            for token in llm.tokenize(text.encode(), add_bos=False, special=False):
                if not allowed(token):
                    return False
                llama_cpp.llama_sampler_accept(sampler, token)
            return allowed(llama_cpp.llama_vocab_eos(vocab))
        finally:
            llama_cpp.llama_sampler_free(sampler)

    yield accepts
    llm.close()


TALK = "Good evening, night owls. Here is a little something for the drive home."


def test_schema_restricts_ids_and_compiles_to_a_grammar(grammar_accepts: Accepts) -> None:
    schema = turn_schema(["s0001", "s0002", "s0003"], ["s0100"])
    props = schema["properties"]
    assert props["queue"]["items"]["enum"] == ["s0001", "s0002", "s0003"]
    # no fewer than 3 and no more than are on offer
    assert (props["queue"]["minItems"], props["queue"]["maxItems"]) == (3, 3)
    assert props["buy"]["items"]["enum"] == ["s0100"]
    # nothing to answer: no replies, deals or ad reads for the model to spend tokens on
    assert schema["required"] == list(CORE_FIELDS)
    good = {"talk": TALK, "queue": ["s0003", "s0001", "s0002"], "buy": ["s0100"],
            "search": "jazz", "notes": "owls like jazz"}  # fmt: skip
    assert parse_turn(json.dumps(good)).queue == ["s0003", "s0001", "s0002"]
    assert grammar_accepts(schema, json.dumps(good))
    assert grammar_accepts(schema, json.dumps({**good, "buy": []}))
    for bad in (
        {**good, "queue": ["s0003", "s0001", "s9999"]},  # not on offer
        {**good, "queue": ["s0003", "s0001"]},  # fewer than 3
        {**good, "queue": ["s0003", "s0001", "s0002", "s0001"]},  # more than are on offer
        {**good, "buy": ["s0001"]},  # not for sale
        {**good, "talk": "Hi!"},  # shorter than 40 characters
        {**good, "search": "a search far longer than twenty"},
        {k: v for k, v in good.items() if k != "notes"},  # a required field missing
        {**good, "search": 5},
        {**good, "ask_donations": False},  # no section asked for it
    ):
        assert not grammar_accepts(schema, json.dumps(bad)), bad
    assert not grammar_accepts(schema, json.dumps(good)[:-1])  # unfinished
    full = turn_schema(
        ["s0001"],
        [],
        {
            "replies": reply_schema(["M000001"]),
            "deals": deals_schema(["N0001", "N0002"]),
            "ads": ads_schema(["C0001"]),
            "ask_donations": {"type": "boolean"},
        },
    )
    assert set(full["required"]) == set(StationTurn.model_fields)
    fp = full["properties"]
    assert fp["replies"]["items"]["properties"]["message_id"]["enum"] == ["M000001"]
    assert fp["deals"]["items"]["properties"]["negotiation_id"]["enum"] == ["N0001", "N0002"]
    assert fp["ads"]["items"]["enum"] == ["C0001"]
    assert "$defs" not in full
    turn = {"talk": TALK, "queue": ["s0001"], "buy": [], "search": "", "notes": "",
            "replies": [{"message_id": "M000001", "text": "Thanks for writing in!"}],
            "deals": [{"negotiation_id": "N0002", "move": "counter", "price_usd": 12.5}],
            "ads": ["C0001"], "ask_donations": True}  # fmt: skip
    parsed = parse_turn(json.dumps(turn))
    assert parsed.deals[0].negotiation_id == "N0002" and parsed.ads == ["C0001"]
    assert grammar_accepts(full, json.dumps(turn))
    deal = turn["deals"][0]
    for bad in (
        {**turn, "deals": [{**deal, "negotiation_id": "N9999"}]},
        {**turn, "deals": [{**deal, "move": "maybe"}]},
        {**turn, "replies": [{"message_id": "M000002", "text": "Thanks for writing in!"}]},
        {**turn, "ads": ["C0002"]},
        {**turn, "queue": ["s0001", "s0001"]},  # more than are on offer
    ):
        assert not grammar_accepts(full, json.dumps(bad)), bad
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
