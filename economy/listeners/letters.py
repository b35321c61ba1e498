"""What organic listener mail is made of: the names, places, occasions, complaints and
on-air phrases the desk's letters draw from, and how listeners round the money they offer.
"""

from __future__ import annotations

NAMES = ("Sam", "Priya", "Luis", "Mei", "Tom", "Aisha", "Jonas", "Rosa", "Dev", "Nora")
PLACES = ("the east side", "downtown", "the night shift", "the 405", "Maple Street", "campus")
OCCASIONS = ("happy birthday", "happy anniversary", "congrats on the new job", "get well soon")
COMPLAINTS = (
    "Way too many ads lately.",
    "You keep playing the same songs over and over.",
    "Less talking, more music please.",
    "Not a fan of what you've been playing this hour.",
    "The sound quality dropped, and so did the music.",
)
PHRASES = (
    "Dave's Garage fixes it right the first time",
    "Happy birthday Maria, from the Thompson family",
    "Vote Ron Silver for city council",
    "Crypto Carl says buy the dip",
    "Sunny Side Diner has the best pancakes in town",
)


def usd_in(usd: float) -> int:
    """Whole dollars or halves, the way people offer money."""
    return max(50, round(usd * 2) * 50)
