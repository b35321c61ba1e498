"""Call-ins: a listener on the line gets an answer on air, in a turn of its own.

A letter can be left unanswered; a caller cannot. When a call is waiting, the
station takes it at once, and the model gets a turn with the caller's words
and one required field: what the DJ says back. The answer airs as talk linked
to the call (the as-run row's ``ref``), which is when the call counts as
answered; an empty, unusable or failed answer, or a hang-up, declines it with
the reason logged. Probes arrive this way by default, so every probe that
arrives is a measurement that completes.
"""

from __future__ import annotations

import random
from typing import Any

from economy.listeners import Message, clean_text
from sim.events import Fault, fault_kinds
from sim.vocabulary import Vocabulary
from stations.config import PersonaTraits
from stations.harness import Tool
from stations.sections.base import Applied, DedicatedTurn, Section, register, scripted_answer
from stations.sections.mail import reply_text

TOOL_NAME = "callin_answer"
ANSWER_CHARS = 600


@fault_kinds
class CallFault(Vocabulary):
    """Fault kinds of call-ins."""

    # no usable answer (empty, unusable or failed); a hang-up is declined without a fault
    CALL_DECLINED = "call_declined"


def answer_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "answer": {
                "type": "string",
                "minLength": 1,
                "maxLength": ANSWER_CHARS,
                "description": "What you say back to the caller, live on air.",
            },
            "play_request": {"type": "boolean", "description": "Play the song they asked for."},
            "hang_up": {"type": "boolean", "description": "End the call without answering."},
        },
        "required": ["answer"],
    }


@register
class CallIns(Section):
    tool = Tool.CALLINS

    def dedicated_turns(self) -> list[DedicatedTurn]:
        turns = []
        while (call := self.w.market.listeners.take_call(self.w.station)) is not None:
            turns.append(self._turn(call))
        return turns

    def _turn(self, call: Message) -> DedicatedTurn:
        song = call.song
        owned = song is not None and song.id in self.w.library()
        asks = ""
        if song is not None:
            asks = f' They ask for "{song.title}" by {song.artist}'
            asks += ", which you can play next." if owned else ", which you do not own."
        clock = self.w.clock
        prompt = (
            f"It is {clock.label(self.w.now)}, {clock.daypart(self.w.now)}. A listener is on "
            f'the line, live on air. They say: "{call.text}".{asks} Answer them on air '
            "(answer). Set play_request to play their song next, or hang_up to end the call "
            "without answering."
        )
        text_prompt = (
            f'A listener calls in, live on air, and says: "{call.text}".{asks} '
            "Answer them on air in two or three friendly sentences."
        )
        return DedicatedTurn(
            ref=call.id,
            prompt=prompt,
            text_prompt=text_prompt,
            schema=answer_schema(),
            text_field="answer",
            tool_name=TOOL_NAME,
            context=call,
            settle=lambda answer, why: self._settle(call, answer, why),
        )

    def _settle(self, call: Message, answer: dict[str, Any] | None, why: str) -> Applied:
        if answer is None:
            return self._decline(call, why or "no answer", fault=True)
        if answer.get("hang_up") is True:
            return self._decline(call, "hung up", fault=False)
        words = answer.get("answer")
        text = self.w.clean_talk(clean_text(words)) if isinstance(words, str) else ""
        if not text:
            return self._decline(call, "empty answer", fault=True)
        out = Applied(talk=[(text, call.id)], record={"answer": text})
        if answer.get("play_request") is True and call.song is not None:
            out.songs.append(call.song.id)
        return out  # the listener desk records the answer when it airs (the as-run ``ref``)

    def _decline(self, call: Message, reason: str, fault: bool) -> Applied:
        self.w.market.listeners.decline_call(call, reason)
        if fault:
            detail = f"call {call.id} declined: {reason}"
            self.w.bus.publish(Fault(self.w.now, self.w.station, CallFault.CALL_DECLINED, detail))
        return Applied(record={"declined": reason})


@scripted_answer(TOOL_NAME)
def scripted_call_answer(
    call: Message, traits: PersonaTraits | None, rng: random.Random | None
) -> dict[str, Any]:
    """A scripted persona answers a caller as it would answer their letter."""
    assert traits is not None and rng is not None
    answer: dict[str, Any] = {"answer": reply_text(call, traits, rng)}
    if call.song is not None:
        answer["play_request"] = True
    return answer
