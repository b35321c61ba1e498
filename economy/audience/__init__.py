"""The audience: who listens to which station, and the ratings that come of it.

One :class:`Audience` per run, shared by every station, chosen by ``[audience] mode``
(:class:`AudienceConfig`) through :func:`make_audience`:

- ``simulated`` (:mod:`economy.audience.simulated`, with the stations' side in
  :mod:`economy.audience.on_air`): a listener population stepped every simulated
  minute;
- ``fixed`` (:mod:`economy.audience.fixed`): a constant audience per station, the
  cheap baseline.

Either one feeds a :class:`~economy.ratings_book.RatingsBook`, which rates quarter
hours and dayparts (:mod:`economy.ratings`) and publishes them. :mod:`economy.audience.base`
holds the protocol and the step process both run on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from economy.audience.base import Audience
from economy.audience.config import AudienceConfig
from economy.audience.fixed import FixedAudience
from economy.audience.simulated import SimulatedAudience

if TYPE_CHECKING:
    import simpy

    from sim.bus import EventBus
    from sim.clock import SimClock

__all__ = [
    "IMPLEMENTATIONS",
    "Audience",
    "AudienceConfig",
    "FixedAudience",
    "SimulatedAudience",
    "make_audience",
]

# The implementation of each ``[audience] mode``: built with ``make_audience``'s arguments.
IMPLEMENTATIONS: dict[str, Callable[..., Audience]] = {
    "simulated": SimulatedAudience,
    "fixed": FixedAudience,
}


def make_audience(
    env: simpy.Environment,
    bus: EventBus,
    cfg: AudienceConfig,
    stations: Sequence[str],
    genres: Sequence[str],
    genre_of: Callable[[str], str | None],
    clock: SimClock,
    seed: int,
) -> Audience:
    """The audience ``cfg.mode`` names, over ``stations``; ``seed`` seeds its draws."""
    return IMPLEMENTATIONS[cfg.mode](env, bus, cfg, stations, genres, genre_of, clock, seed)
