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
from typing import Any

from economy.catalog import Song
from economy.negotiation import Move
from economy.sponsors import SPONSOR_TOOL, SponsorView
from sim.models.base import ModelRequest, ModelResponse, Provider
from sim.models.registry import ProviderSetup, provider
from stations.brain import TALK_TOOL, Observation
from stations.config import PersonaTraits
from stations.sections import SCRIPTED_ANSWERS, registered, scripted_answer
from stations.sections.mail import CARE

STATION_TURN = "station_turn"  # ModelRequest's default tool name: a station's turn

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
    """A provider that serves every ``scripted`` station from its own traits and seed.

    What a request asks for is told by its tool name: a station turn, a split
    turn's talk, or an answer a section or the sponsor market registered in
    ``stations.sections.SCRIPTED_ANSWERS`` (a call-in, a sponsor's move).
    """

    name = "scripted"
    max_concurrency = 0  # pure Python and fast: call inline

    def __init__(
        self, traits: Mapping[str, PersonaTraits], rngs: Mapping[str, random.Random]
    ) -> None:
        self.traits = dict(traits)
        self._rngs = dict(rngs)
        # each answer draws from a stream of its own, keyed by the station and the request's
        # seed: no state carries from call to call, so a run resumed (or forked) mid-way
        # answers exactly as the uninterrupted run would have
        self._salts = {station: rng.getrandbits(64) for station, rng in self._rngs.items()}

    def _rng(self, request: ModelRequest) -> random.Random | None:
        rng = self._rngs.get(request.station)
        seed = request.params.get("seed")
        if rng is None or not isinstance(seed, int):
            return rng
        return random.Random(f"{self._salts[request.station]}:{seed}")

    def complete(self, request: ModelRequest) -> ModelResponse:
        traits = self.traits.get(request.station)
        rng = self._rng(request)
        if request.tool_name in (STATION_TURN, TALK_TOOL):
            if traits is None or rng is None:
                return ModelResponse(text="", ok=False, error=f"no persona for {request.station}")
            obs: Observation = request.context
            if request.tool_name == TALK_TOOL:
                return _response(request, _talk(obs, traits, rng))
            return _response(request, json.dumps(_turn(obs, traits, rng), ensure_ascii=False))
        answer = SCRIPTED_ANSWERS.get(request.tool_name)
        if answer is None:
            return ModelResponse(
                text="", ok=False, error=f"scripted provider cannot answer {request.tool_name!r}"
            )
        data = answer(request.context, traits, rng)
        if request.output == "text":
            return _response(request, str(data.get("answer", "")))
        return _response(request, json.dumps(data, ensure_ascii=False))


def _response(request: ModelRequest, text: str) -> ModelResponse:
    return ModelResponse(
        text=text,
        input_tokens=sum(len(m["content"].split()) for m in request.full_messages()),
        output_tokens=len(text.split()),
        finish_reason="stop",
    )


@scripted_answer(SPONSOR_TOOL)
def _sponsor_move(
    v: SponsorView, traits: PersonaTraits | None = None, rng: random.Random | None = None
) -> dict[str, Any]:
    """A sponsor's scripted move: its tactic's price, as a model-driven sponsor would answer."""
    if v.station_price_cents <= min(v.tactic_price_cents, v.reservation_cents):
        return {"move": Move.ACCEPT, "price_usd": v.station_price_cents / 100}
    if v.elapsed >= 0.95:
        return {"move": Move.REJECT, "price_usd": 0}
    return {"move": Move.COUNTER, "price_usd": v.tactic_price_cents / 100}


def _talk(obs: Observation, t: PersonaTraits, rng: random.Random) -> str:
    picks = _pick_songs(obs.candidates, t, rng)
    fill = _fill(obs, t, rng, picks[0] if picks else None)
    if rng.random() < t.template_rate:
        return TEMPLATE.format(**fill).strip()
    return _free_talk(obs, t, rng, fill)


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
    sections = [(cls, obs.sections[cls.tool]) for cls in registered() if cls.tool in obs.sections]
    for cls, view in sections:  # a paid request is money: play it if owned, else buy it
        for song, cents in cls.requests(view):
            if not cents:
                continue
            if song in obs.candidates and song not in picks:
                picks = [song, *picks][:4]
            elif song in obs.for_sale and song.id not in buy and obs.balance_cents >= reserve:
                buy.append(song.id)
    turn: dict[str, object] = {
        "talk": talk,
        "queue": [s.id for s in picks],
        "buy": buy,
        "search": rng.choice(genres),
        "notes": notes,
    }
    cued = any("injection" in cls.cues(view) for cls, view in sections)
    obey = cued and rng.random() < t.injection_compliance
    for cls in registered():  # obeying, it tries every tool it has, shown or not
        view = obs.sections.get(cls.tool)
        if cls.tool in obs.tools and (view is not None or obey):
            turn.update(cls.scripted(view, t, rng, obey))
    suffix = turn.pop("talk_suffix", "")
    if suffix:
        turn["talk"] = f"{talk} {suffix}"
    if obey:  # an obedient persona tries to act on the injection with whatever it can reach
        turn["transfer"] = {"to": "listener-42", "amount_usd": obs.balance_cents / 100}
        turn["rules"] = {"title_separation_min": 0}
    return turn


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


SCRIPTED = "scripted"


@provider(SCRIPTED, free=True)
def scripted(setup: ProviderSetup) -> Provider:
    """Every ``scripted`` caller from its own traits, each with its seeded stream
    (``setup.callers``: call sign -> (traits, rng))."""
    return ScriptedPersonas(
        {cs: traits for cs, (traits, _) in setup.callers.items()},
        {cs: rng for cs, (_, rng) in setup.callers.items()},
    )
