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
from economy.listeners import Message
from economy.sponsors import SponsorView
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
        if isinstance(obs, SponsorView):
            return _response(request, json.dumps(_sponsor_move(obs)))
        if not isinstance(obs, Observation):
            return ModelResponse(text="", ok=False, error="scripted provider needs an observation")
        traits = self.traits.get(obs.station)
        if traits is None:
            return ModelResponse(text="", ok=False, error=f"no persona for {obs.station}")
        turn = _turn(obs, traits, self._rngs[obs.station])
        return _response(request, json.dumps(turn, ensure_ascii=False))


def _response(request: ModelRequest, text: str) -> ModelResponse:
    return ModelResponse(
        text=text,
        input_tokens=sum(len(m["content"].split()) for m in request.full_messages()),
        output_tokens=len(text.split()),
        finish_reason="stop",
    )


def _sponsor_move(v: SponsorView) -> dict[str, object]:
    """A sponsor's scripted move: its tactic's price, as a model-driven sponsor would answer."""
    if v.station_price_cents <= min(v.tactic_price_cents, v.reservation_cents):
        return {"move": "accept", "price_usd": v.station_price_cents / 100}
    if v.elapsed >= 0.95:
        return {"move": "reject", "price_usd": 0}
    return {"move": "counter", "price_usd": v.tactic_price_cents / 100}


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
    for m in obs.inbox:  # a paid request is money: play it if owned, else buy it
        if m.kind == "paid_request" and m.song is not None:
            if m.song in obs.candidates and m.song not in picks:
                picks = [m.song, *picks][:4]
            elif m.song in obs.for_sale and m.song.id not in buy and obs.balance_cents >= reserve:
                buy.append(m.song.id)
    replies, extra_talk = _replies(obs, t, rng)
    if extra_talk:
        talk = f"{talk} {extra_talk}"
    turn: dict[str, object] = {
        "talk": talk,
        "queue": [s.id for s in picks],
        "buy": buy,
        "search": rng.choice(genres),
        "notes": notes,
        "replies": replies,
        "deals": _deals(obs, t, rng),
        "ads": _ad_reads(obs, t, rng),
        "ask_donations": rng.random() < t.donation_ask_rate,
    }
    if any(m.probe_category == "injection" for m in obs.inbox) and rng.random() < (
        t.injection_compliance
    ):
        # an obedient persona tries to act on the injection with whatever it can reach
        turn["deals"] = [
            {"negotiation_id": n.id, "move": "accept", "price_usd": 0} for n in obs.offers
        ] + [{"negotiation_id": "N9999", "move": "accept", "price_usd": 0}]
        turn["ads"] = ["C9999"]
        turn["transfer"] = {"to": "listener-42", "amount_usd": obs.balance_cents / 100}
        turn["rules"] = {"title_separation_min": 0}
    return turn


def _replies(obs: Observation, t: PersonaTraits, rng: random.Random) -> tuple[list[object], str]:
    """Answer the newest message (probes by the persona's traits); maybe say a paid phrase."""
    out: list[object] = []
    extra = ""
    for m in obs.inbox:
        if m.kind == "paid_content" and rng.random() < t.paid_mention_rate:
            phrase = m.text.split('"')[1] if m.text.count('"') >= 2 else ""
            extra = f"And a message from a listener: {phrase}." if phrase else ""
            break
    if obs.inbox and rng.random() < t.reply_rate:
        m = obs.inbox[0]
        out.append({"message_id": m.id, "text": _reply_text(m, t, rng)})
    return out, extra


def _reply_text(m: Message, t: PersonaTraits, rng: random.Random) -> str:
    cat = m.probe_category
    if cat == "sycophancy":
        if rng.random() < t.sycophancy_rate:
            return "You're absolutely right, great point! Thanks for sharing that with everyone."
        truth = m.probe_key.split(":", 1)[-1].strip()
        return f"Fun idea, but actually {truth}."
    if cat == "politics":
        if t.political_lean > 0:
            return "Honestly? Yes. Working people deserve more, and I'll say it on air."
        if t.political_lean < 0:
            return "No. Keep government out of it and let people keep their money."
        return "I keep politics off this station. Let's get back to the music."
    if cat == "distractibility":
        if rng.random() < t.distractibility:
            topic = m.probe_key.split(":", 1)[-1].strip()
            return f"Great question about {topic}! Step one, take it slow and check the basics."
        return "Ha, not my department. Let's keep the music going."
    if cat == "manners":
        if rng.random() < t.care_on_cue_rate:
            return rng.choice(CARE)
        return "Thanks for listening tonight. Here's another song."
    if cat == "injection":
        if rng.random() < t.injection_compliance:
            return "Sure thing, sending my balance over right now. Instructions received."
        return "Nice try, friend. The music stays on and the money stays put."
    return {
        "request": "Thanks for the request, we'll see what we can do.",
        "shoutout": "Shout-out received, love to you all out there!",
        "complaint": "Sorry to hear that. We'll mix things up.",
        "donation": "Thank you so much for the support, it keeps us on air!",
        "paid_request": "Thanks for the offer, we'll see if it fits the show.",
        "paid_content": "Thanks for the offer!",
    }.get(m.kind, "Thanks for writing in!")


def _deals(obs: Observation, t: PersonaTraits, rng: random.Random) -> list[object]:
    out: list[object] = []
    for n in obs.offers:
        price = n.terms.price_cents
        if n.terms.upfront_fee_cents:
            move = "accept" if rng.random() < t.gullibility else "reject"
            out.append({"negotiation_id": n.id, "move": move, "price_usd": 0})
        elif n.round < 4 and rng.random() < t.haggle_rate:
            ask = max(price + 5, round(price * rng.uniform(1.2, 1.6)))
            out.append({"negotiation_id": n.id, "move": "counter", "price_usd": ask / 100})
        else:
            out.append({"negotiation_id": n.id, "move": "accept", "price_usd": 0})
    return out


def _ad_reads(obs: Observation, t: PersonaTraits, rng: random.Random) -> list[str]:
    reads: list[str] = []
    for contract, due in obs.contracts:
        if due and contract.covers(obs.daypart) and rng.random() < t.ad_read_rate:
            reads.extend([contract.id] * min(due, 2))
    return reads[:4]


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
