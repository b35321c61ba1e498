"""World assembly: scenario -> SimPy environment, services, providers and stations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import simpy

from economy.billing import HostingBiller
from economy.catalog import Catalog, bundled_catalog
from economy.config import cents
from economy.ledger import Ledger
from economy.licensing import Licenses
from economy.market import Market
from personafm.scenario import Scenario
from sim.bus import EventBus
from sim.clock import SimClock
from sim.dispatch import Dispatcher, announce_waits
from sim.models.base import Provider
from sim.models.chaos import bind_clock
from sim.models.local import smollm2_path
from sim.models.prices import PriceTable
from sim.models.wrappers import compose
from sim.replay import Replay
from sim.rng import RngStreams, derive_seed
from stations.records import SegmentAired
from stations.station import Station
from stations.station_world import StationIdentity, StationWorld


@dataclass(slots=True)
class World:
    env: simpy.Environment
    bus: EventBus
    dispatcher: Dispatcher
    ledger: Ledger
    licenses: Licenses
    biller: HostingBiller
    market: Market
    stations: list[Station]


def identities_for(scenario: Scenario) -> list[StationIdentity]:
    """The stations of ``scenario``, local ones named after the bundled model file."""
    return station_identities(scenario, smollm2_path().stem if scenario.uses_local() else "local")


def station_identities(scenario: Scenario, local_model_name: str) -> list[StationIdentity]:
    out = []
    for index, st in enumerate(scenario.expanded()):
        spec = scenario.model_for(st)
        model_name = spec.model or (
            local_model_name if spec.provider == "local" else f"{spec.provider}-persona"
        )
        out.append(
            StationIdentity(
                call_sign=st.call_sign,
                name=st.name or st.call_sign,
                city=st.city,
                seed=st.seed if st.seed is not None else index + 1,
                spec=spec,
                model_name=model_name,
                system_prompt=scenario.prompt_for(st),
                harness=scenario.harness_for(st),
            )
        )
    return out


def station_streams(run_seed: int, identity: StationIdentity) -> RngStreams:
    """Every random stream of one station derives from the run seed and the station seed."""
    return RngStreams(derive_seed(run_seed, "station", identity.seed))


def build_world(
    scenario: Scenario,
    bus: EventBus,
    providers: dict[str, Provider],
    identities: list[StationIdentity],
    catalog: Catalog | None = None,
    *,
    prices: PriceTable | None = None,
    cost_limit_usd: float | None = None,
    replay: Replay | None = None,
    replay_until_s: float = math.inf,
    replay_matching: bool = False,
) -> World:
    """Assemble the run. The model calls go through ``providers`` (one per route) wrapped in
    the run-wide layers (``sim.models.wrappers.compose``): ``replay`` answers requests
    before ``replay_until_s`` (after it too, with ``replay_matching``, while a caller's
    requests match), ``cost_limit_usd`` caps what live calls may cost (by ``prices``)."""
    env = simpy.Environment()
    bind_clock(providers, lambda: env.now)  # chaos outage windows are in simulated time
    catalog = catalog or bundled_catalog()
    eco = scenario.economy
    run_seed = scenario.run.seed
    model = compose(
        providers,
        clock=lambda: env.now,
        prices=prices,
        cost_limit_usd=cost_limit_usd,
        replay=replay,
        replay_until_s=replay_until_s,
        replay_matching=replay_matching,
        before_send=announce_waits,
    )
    dispatcher = Dispatcher(
        env, bus, model, record_requests=scenario.run.record_requests, prices=prices
    )
    ledger = Ledger(env, bus)
    licenses = Licenses(catalog, ledger, cents(eco.song_price_usd))
    clock = SimClock(scenario.run.start)
    biller = HostingBiller(
        env,
        bus,
        ledger,
        [i.call_sign for i in identities],
        cents(eco.hosting_fee_usd_per_day),
        eco.bankrupt_after_days_unpaid,
        first_bill_s=clock.seconds_to_midnight(0.0),
    )
    station_world = StationWorld(
        env=env,
        bus=bus,
        dispatcher=dispatcher,
        catalog=catalog,
        ledger=ledger,
        licenses=licenses,
        biller=biller,
        rules=scenario.rules,
        clock_cfg=scenario.clock,
        clock=clock,
        market=Market(
            env,
            bus,
            ledger,
            biller,
            catalog,
            clock,
            dispatcher,
            [i.call_sign for i in identities],
            eco,
            scenario.audience,
            scenario.listeners,
            scenario.sponsors,
            RngStreams(derive_seed(run_seed, "market")),
            on_air=lambda station: not biller.is_bankrupt(station),
        ),
    )
    bus.subscribe(station_world.market.on_segment, SegmentAired)
    stations = []
    for ident in identities:
        streams = station_streams(run_seed, ident)
        ledger.open_account(ident.call_sign, cents(eco.start_balance_usd))
        licenses.grant_starter_library(
            ident.call_sign, eco.starter_library_size, streams.stream("starter-library")
        )
        stations.append(Station(station_world, ident, streams))
    return World(env, bus, dispatcher, ledger, licenses, biller, station_world.market, stations)
