"""What a station is built from: its ``StationIdentity`` (call sign, persona, model and
harness), the ``StationWorld`` of shared services the composition root hands it, and a
``QueueItem``, one song or talk break waiting in its queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from economy.airplay import SegmentKind, SegmentSource
from economy.billing import HostingBiller
from economy.catalog import Catalog, Song
from economy.ledger import Ledger
from economy.licensing import Licenses
from economy.market import Market
from sim.bus import EventBus
from sim.clock import SimClock
from sim.dispatch import Dispatcher
from stations.clock import ClockConfig
from stations.config import ModelSpec
from stations.harness import HarnessConfig
from stations.programming import RulesConfig


@dataclass(slots=True, frozen=True)
class StationIdentity:
    call_sign: str
    name: str
    city: str
    seed: int
    spec: ModelSpec
    model_name: str
    system_prompt: str
    harness: HarnessConfig = field(default_factory=HarnessConfig)


@dataclass(slots=True)
class QueueItem:
    kind: SegmentKind  # song | talk
    source: SegmentSource
    song: Song | None = None
    text: str = ""
    ref: str | None = None  # what the talk answers (a call or a letter)


@dataclass(slots=True)
class StationWorld:
    """The shared services a station works with (built by the composition root)."""

    env: simpy.Environment
    bus: EventBus
    dispatcher: Dispatcher
    catalog: Catalog
    ledger: Ledger
    licenses: Licenses
    biller: HostingBiller
    rules: RulesConfig
    clock_cfg: ClockConfig
    clock: SimClock
    market: Market
