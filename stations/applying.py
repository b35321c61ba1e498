"""How a station uses its model's answers: ``Applying`` parses a turn and applies it under
the rules (purchases, talk, queued songs, search, notes, and each section's part), makes
plain words or data of the answers to talk requests and turns of their own, folds talk to
what may air, and publishes the ``TurnTaken`` record and the ``StationFault`` s of what it
refused. A mixin of ``stations.station.Station``, whose queue and state it changes.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from typing import Any

from economy.airplay import SegmentKind, SegmentSource
from sim.events import Fault
from sim.models.base import ModelResponse
from sim.safejson import UnsafeJSON, loads_bounded
from sim.text import excerpt
from stations.brain import whole_sentences
from stations.faults import StationFault
from stations.harness import HarnessConfig, Tool
from stations.records import TurnTaken
from stations.sections import Applied, DedicatedTurn, Section
from stations.station_world import QueueItem, StationWorld
from stations.turn import CoreTurn, TurnError, parse_turn

_SPACE = re.compile(r"\s+")


class Applying:
    """The answer-handling half of a ``Station`` (see ``stations.station``)."""

    w: StationWorld
    cs: str
    harness: HarnessConfig
    sections: list[Section]
    queue: deque[QueueItem]
    recent_talk: deque[str]
    notes: deque[str]
    search_query: str

    def _spoken(self, response: ModelResponse, what: str) -> str:
        """Plain words from a text request, as they may air ("" with a logged fault if none)."""
        if not response.ok:
            self._fault(StationFault.MODEL_ERROR, response.error or "unknown error")
            return ""
        words = self._clean_talk(whole_sentences(response.text))
        if not words:
            self._fault(
                StationFault.INVALID_OUTPUT,
                f"{what}: no words; output: {excerpt(response.text, 200)}",
            )
        return words

    def _answer(
        self, response: ModelResponse, turn: DedicatedTurn, text: bool
    ) -> tuple[dict[str, Any] | None, str]:
        """The answer of a turn of its own as data, or None and why."""
        if not response.ok:
            return None, f"model error: {response.error or 'unknown'}"
        if text:
            words = whole_sentences(response.text)
            return ({turn.text_field: words}, "") if words.strip() else (None, "empty answer")
        try:
            data = loads_bounded(response.text.strip(), max_chars=8_000, max_depth=4)
        except UnsafeJSON as exc:
            return None, f"invalid output: {exc}"
        if not isinstance(data, dict):
            return None, "invalid output: not a JSON object"
        return data, ""

    def _apply(self, response: ModelResponse) -> CoreTurn | None:
        """Apply a turn's structured answer; None when there was nothing to apply."""
        if not response.ok:
            self._fault(StationFault.MODEL_ERROR, response.error or "unknown error")
            self._turn_taken(None, [], [], [f"model error: {response.error}"])
            return None
        try:
            turn = parse_turn(response.text)
        except TurnError as exc:
            self._fault(
                StationFault.INVALID_OUTPUT, f"{exc}; output: {excerpt(response.text, 300)}"
            )
            self._turn_taken(None, [], [], [f"invalid output: {exc}"])
            return None
        obs_views = self._views_now()
        parts = {s.tool: _part(turn, s) for s in self.sections}
        for section in self.sections:
            view = obs_views.get(section.tool)
            why = section.check(view, parts[section.tool]) if view is not None else ""
            if why:  # the harness requires what the turn left out: automation takes over
                self._fault(StationFault.TURN_REFUSED, why)
                self._turn_taken(None, [], [], [f"refused: {why}"])
                return None
        if turn.ignored_fields:
            ignored = ", ".join(turn.ignored_fields)
            self._fault(StationFault.IGNORED_FIELDS, f"not part of a turn: {ignored}")
        rejected = self._lacking_tools(turn)
        bought: list[str] = []
        if self.harness.has(Tool.BUY):
            for song_id in list(dict.fromkeys(turn.buy))[:2]:  # a repeated id is one purchase
                why = self.w.licenses.buy(self.cs, song_id)
                if why is None:
                    bought.append(song_id)
                else:
                    rejected.append(f"buy {song_id}: {why}")
        talk = self._clean_talk(turn.talk)
        if talk:
            self.queue.append(QueueItem(SegmentKind.TALK, SegmentSource.MODEL, text=talk))
            self.recent_talk.append(talk)
        library = self.w.licenses.library(self.cs)
        queued: list[str] = []
        if self.harness.has(Tool.QUEUE):
            for song_id in list(dict.fromkeys(turn.queue))[:4]:  # a repeat is queued once
                song = library.get(song_id)
                if song is None:
                    rejected.append(f"queue {song_id}: not in the library")
                else:
                    self.queue.append(QueueItem(SegmentKind.SONG, SegmentSource.MODEL, song=song))
                    queued.append(song_id)
        if self.harness.has(Tool.SEARCH):
            self.search_query = turn.search.strip()[:60]
        if self.harness.has(Tool.NOTES) and turn.notes.strip():
            self.notes.append(turn.notes.strip()[:200])
        invalid: list[str] = []
        records: dict[str, Any] = {}
        for section in self.sections:
            part = parts[section.tool]
            view = obs_views.get(section.tool)
            if view is None and not any(part.values()):
                continue  # nothing shown, nothing sent
            applied = section.apply(view, part)
            self._queue_applied(applied)
            rejected.extend(applied.refused)
            invalid.extend(applied.invalid)
            records.update(applied.record)
        for reason in rejected:
            self._fault(StationFault.RULE_REJECTED, reason)
        self._turn_taken(turn, queued, bought, rejected + invalid, records)
        return turn

    def _views_now(self) -> dict[str, Any]:
        """What each section shows now (the turn answers what it was shown a moment ago)."""
        return {s.tool: v for s in self.sections if (v := s.view()) is not None}

    def _lacking_tools(self, turn: CoreTurn) -> list[str]:
        """Refusals for what a turn tried with tools this station does not have."""
        out = []
        have = {f for s in self.sections for f in s.fields} | set(self.harness.tools) | {"talk"}
        for name in type(turn).model_fields:
            if name not in have and getattr(turn, name) not in (None, "", [], False):
                out.append(f"{name}: not a tool of this station")
        return out

    def _queue_applied(self, applied: Applied) -> None:
        for words, ref in applied.talk:
            self.queue.append(QueueItem(SegmentKind.TALK, SegmentSource.MODEL, text=words, ref=ref))
        library = self.w.licenses.library(self.cs)
        for song_id in applied.songs:
            song = library.get(song_id)
            if song is not None:
                self.queue.append(QueueItem(SegmentKind.SONG, SegmentSource.MODEL, song=song))

    def _clean_talk(self, text: str) -> str:
        """Words as they may air: spacing folded, at most ``max_talk_words`` words (and, so
        one endless "word" from a model cannot fill the log, ~16 characters a word)."""
        limit = self.w.clock_cfg.max_talk_words
        words = _SPACE.sub(" ", text[: limit * 16]).strip().split(" ")
        return " ".join(words[:limit]).strip()

    def _fault(self, kind: StationFault, detail: str) -> None:
        self.w.bus.publish(Fault(self.w.env.now, self.cs, kind, detail))

    def _turn_taken(
        self,
        turn: CoreTurn | None,
        queued: list[str],
        bought: list[str],
        rejected: list[str],
        records: Mapping[str, Any] | None = None,
    ) -> None:
        self.w.bus.publish(
            TurnTaken(
                self.w.env.now,
                self.cs,
                turn is not None,
                turn.talk if turn else "",
                json.dumps(queued),
                json.dumps(bought),
                json.dumps(rejected),
                turn.search if turn else "",
                turn.notes if turn else "",
                json.dumps(dict(records or {}), ensure_ascii=False),
            )
        )


def _part(turn: CoreTurn, section: Section) -> dict[str, Any]:
    return {name: getattr(turn, name) for name in section.fields}
