"""The market assembled: audience, listener mail, sponsors, negotiations, contracts, royalties.

One object per run that the stations consult and the as-run log feeds. It is
built by the composition root, which subscribes ``on_segment`` to the
stations' as-run events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import simpy

from economy.airplay import Aired, SegmentKind, SegmentStatus
from economy.audience import AudienceConfig, make_audience
from economy.billing import HostingBiller
from economy.catalog import Catalog
from economy.config import EconomyConfig
from economy.contracts import Contracts
from economy.ledger import Ledger
from economy.listeners import ListenerConfig, ListenerDesk
from economy.negotiation import NegotiationBook
from economy.sponsors import SponsorConfig, SponsorDesk, make_sponsors
from sim.bus import EventBus
from sim.clock import SimClock
from sim.dispatch import Dispatcher
from sim.events import ModelCalled
from sim.rng import RngStreams


class Market:
    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        ledger: Ledger,
        biller: HostingBiller,
        catalog: Catalog,
        clock: SimClock,
        dispatcher: Dispatcher,
        stations: Sequence[str],
        economy: EconomyConfig,
        audience: AudienceConfig,
        listeners: ListenerConfig,
        sponsors: SponsorConfig,
        streams: RngStreams,
        on_air: Callable[[str], bool],
    ) -> None:
        self.stations = list(stations)
        self.biller = biller
        self.economy = economy
        self.audience = make_audience(
            env,
            bus,
            audience,
            self.stations,
            catalog.genres,
            lambda song_id: s.genre if (s := catalog.get(song_id)) else None,
            clock,
            streams.child_seed("audience"),
        )
        self.listeners = ListenerDesk(
            env, bus, ledger, listeners, self.stations, catalog, self.audience,
            self.audience.population, streams,
        )  # fmt: skip
        self.book = NegotiationBook(bus)
        roster = make_sponsors(sponsors, catalog.genres, streams)
        self.contracts = Contracts(
            env,
            bus,
            ledger,
            clock,
            self.audience.listeners_now,
            {s.name: s.profile() for s in roster},
            streams,
        )
        self.sponsors = SponsorDesk(
            env, bus, ledger, self.book, self.contracts, self.audience, catalog, sponsors,
            roster, self.stations, dispatcher, streams, on_air=on_air,
        )  # fmt: skip
        # royalty per performance = per listener tuned in when the song airs
        self._royalty_cents = economy.royalty_usd_per_1000_performances * 100 / 1000
        self._inference_cents = economy.inference_usd_per_1k_tokens * 100 / 1000
        self._known = set(self.stations)
        if self._inference_cents:
            bus.subscribe(self._charge_inference, ModelCalled)

    def close(self) -> None:
        """End of run: publish the ratings still in progress; settle the calls still open."""
        self.audience.close()
        self.listeners.close()

    def on_segment(self, seg: Aired) -> None:
        """Feed one as-run segment to every part of the market that reads the log."""
        self.audience.on_segment(seg)
        aired = seg.status == SegmentStatus.AIRED
        if seg.kind == SegmentKind.SONG and aired and self._royalty_cents:
            listeners = self.audience.listeners_now(seg.station)
            if listeners:
                self.biller.accrue(seg.station, "royalty", listeners * self._royalty_cents)
        self.listeners.on_segment(seg)
        self.contracts.on_segment(seg)
        self.sponsors.on_segment(seg)

    def _charge_inference(self, event: ModelCalled) -> None:
        if event.station in self._known:
            tokens = event.input_tokens + event.output_tokens
            if tokens:
                self.biller.accrue(event.station, "inference", tokens * self._inference_cents)
