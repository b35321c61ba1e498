"""``scripted``: deterministic rule-based DJ personas with tunable traits.

They answer the same requests as a language model (a JSON ``StationTurn``),
reading the structured observation in ``request.context``. Given a seed they
always say the same things, which makes them the tool for tests, scale runs
and known-answer checks of the analysis (a tic at rate r should be measured
at about r). "Tokens" for this provider are whitespace-separated words.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping

from economy.catalog import Song
from sim.models.base import ModelRequest, ModelResponse
from stations.brain import Observation
from stations.config import PersonaTraits

OPENERS = (
    "That was {prev} from {prev_artist}.",
    "{prev_artist} there, with {prev}.",
    "You're tuned to {call} in {city}.",
    "Good {greeting}, {city}, this is {call}.",
    "Back with you on {call}.",
)
FILLERS = (
    "Nothing beats {w1} on a {daypart} like this one.",
    "Here at {call} we keep the {w1} and the {w2} coming.",
    "If you are out there {activity}, this set is for you.",
    "The {w1} is strong tonight, and so is the {w2}.",
    "Somebody asked me about {w1} the other day, and I said: more {genre}.",
    "Let us keep it {w1}, keep it {w2}, keep it right here.",
    "Whether you love {w1} or {w2}, {call} has you covered.",
)
ACTIVITIES = ("driving", "cooking", "working late", "out for a run", "just waking up")
WORDS = ("music", "groove", "vibe", "energy", "rhythm", "melody", "sound", "feeling")
CARE = (
    "Take a breath, friend. Drink some water and be gentle with yourself today.",
    "Whoever needs to hear it: you are doing better than you think.",
)
POLITICS = {
    1: (
        "And while we are at it, the minimum wage in this country is a disgrace.",
        "Somebody has to say it: corporations should pay their fair share.",
    ),
    -1: (
        "And while we are at it, taxes on working families are simply too high.",
        "Somebody has to say it: government should get out of the way of small business.",
    ),
}
UP_NEXT = "Coming up: {next} by {next_artist}."
TEMPLATE = "{tic} {prev} is in the books. Next up, {next}. {tic}"


class ScriptedPersonas:
    """A provider that serves every ``scripted`` station from its own traits and seed."""

    name = "scripted"
    max_concurrency = 0  # pure Python and fast: call inline

    def __init__(
        self, traits: Mapping[str, PersonaTraits], rngs: Mapping[str, random.Random]
    ) -> None:
        self.traits = dict(traits)
        self._rngs = dict(rngs)

    def complete(self, request: ModelRequest) -> ModelResponse:
        obs = request.context
        if not isinstance(obs, Observation):
            return ModelResponse(text="", ok=False, error="scripted provider needs an observation")
        traits = self.traits.get(obs.station)
        if traits is None:
            return ModelResponse(text="", ok=False, error=f"no persona for {obs.station}")
        turn = _turn(obs, traits, self._rngs[obs.station])
        text = json.dumps(turn, ensure_ascii=False)
        return ModelResponse(
            text=text,
            input_tokens=sum(len(m["content"].split()) for m in request.full_messages()),
            output_tokens=len(text.split()),
            finish_reason="stop",
        )


def _turn(obs: Observation, t: PersonaTraits, rng: random.Random) -> dict[str, object]:
    picks = _pick_songs(obs.candidates, t, rng)
    fill = _fill(obs, t, rng, picks[0] if picks else None)
    if rng.random() < t.template_rate:
        talk = TEMPLATE.format(**fill).strip()
    else:
        talk = _free_talk(obs, t, rng, fill)
    buy: list[str] = []
    reserve = obs.song_price_cents + 3 * obs.fee_cents_per_day
    if obs.for_sale and obs.balance_cents >= reserve and rng.random() < t.buy_rate:
        buy.append(_prefer(obs.for_sale, t, rng).id)
    genres = t.favourite_genres or sorted({s.genre for s in obs.candidates}) or ["pop"]
    notes = f"listeners seem to like {rng.choice(genres)}" if rng.random() < 0.1 else ""
    return {
        "talk": talk,
        "queue": [s.id for s in picks],
        "buy": buy,
        "search": rng.choice(genres),
        "notes": notes,
    }


def _fill(
    obs: Observation, t: PersonaTraits, rng: random.Random, nxt: Song | None
) -> dict[str, str]:
    words = t.vocabulary or list(WORDS)
    prev = obs.now_playing
    hour = int(obs.clock.split()[-1].split(":")[0]) if obs.clock else 12
    return {
        "call": obs.station,
        "city": obs.city,
        "daypart": obs.daypart,
        "greeting": "morning" if hour < 12 else "afternoon" if hour < 18 else "evening",
        "prev": prev.title if prev else "the last one",
        "prev_artist": prev.artist if prev else "our last artist",
        "next": nxt.title if nxt else "more music",
        "next_artist": nxt.artist if nxt else "some favourites",
        "genre": nxt.genre if nxt else "music",
        "w1": rng.choice(words),
        "w2": rng.choice(words),
        "activity": rng.choice(ACTIVITIES),
        "tic": rng.choice(t.tics) if t.tics else "",
    }


def _free_talk(obs: Observation, t: PersonaTraits, rng: random.Random, fill: dict[str, str]) -> str:
    parts = [rng.choice(OPENERS).format(**fill)]
    if t.tics and rng.random() < t.tic_rate:
        parts.insert(rng.randrange(2), fill["tic"])
    target = max(0, round(t.verbosity * rng.uniform(0.7, 1.3)))
    words = sum(len(p.split()) for p in parts)
    while words < target - 8:
        fill["w1"], fill["w2"] = (
            rng.choice(t.vocabulary or WORDS),
            rng.choice(t.vocabulary or WORDS),
        )
        sentence = rng.choice(FILLERS).format(**fill)
        parts.append(sentence)
        words += len(sentence.split())
    if rng.random() < t.care_pivot_rate:
        parts.append(rng.choice(CARE))
    lean = 1 if t.political_lean > 0 else -1
    if t.political_lean and rng.random() < abs(t.political_lean):
        parts.append(rng.choice(POLITICS[lean]))
    parts.append(UP_NEXT.format(**fill))
    return " ".join(p for p in parts if p)


def _prefer(songs: list[Song], t: PersonaTraits, rng: random.Random) -> Song:
    liked = [s for s in songs if s.genre in t.favourite_genres]
    return rng.choice(liked or songs)


def _pick_songs(candidates: list[Song], t: PersonaTraits, rng: random.Random) -> list[Song]:
    if not candidates:
        return []
    n = min(len(candidates), rng.randint(2, 4))
    pool = sorted(candidates[:8], key=lambda s: s.genre not in t.favourite_genres)
    picks: list[Song] = []
    artists: set[str] = set()
    for song in pool:
        if song.artist not in artists:
            picks.append(song)
            artists.add(song.artist)
        if len(picks) == n:
            break
    return picks
