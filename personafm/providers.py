"""Provider instances for a run: one per route (provider kind, endpoint and key).

Keys come from the environment, never from scenario files; a missing key is a
clear error before the run starts, naming the stations and the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from personafm.scenario import Scenario
from personafm.world import identities_for, station_streams
from sim.models.base import Provider, ProviderError
from sim.models.chaos import ChaosProvider, ChaosSettings, ChaosTransport
from sim.models.hosted import NO_KEY
from sim.models.local import LocalLlamaProvider
from sim.models.registry import ProviderSetup, build_provider
from sim.models.retry import RetryPolicy
from sim.models.spec import ModelSettings
from sim.models.wrappers import wrap_route
from sim.rng import RngStreams
from stations.station_world import StationIdentity


@dataclass(slots=True, frozen=True)
class Route:
    spec: ModelSettings
    users: tuple[str, ...]  # call signs (or sponsor accounts) served by this route


def routes(identities: list[StationIdentity], sponsor: ModelSettings | None) -> dict[str, Route]:
    out: dict[str, Route] = {}
    for ident in identities:
        r = out.get(ident.spec.route)
        out[ident.spec.route] = Route(
            ident.spec, (*r.users, ident.call_sign) if r else (ident.call_sign,)
        )
    if sponsor is not None:
        r = out.get(sponsor.route)
        out[sponsor.route] = Route(
            r.spec if r else sponsor, (*r.users, "sponsors") if r else ("sponsors",)
        )
    return out


def check_keys(
    identities: list[StationIdentity],
    sponsor: ModelSettings | None = None,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Raise ProviderError listing every key a hosted model needs and the environment lacks."""
    missing: dict[str, list[str]] = {}
    for route in routes(identities, sponsor).values():
        spec = route.spec
        if spec.needs_key() and not environ.get(spec.key_env):
            missing.setdefault(spec.key_env, []).extend(route.users)
    if missing:
        lines = [
            f"  {env} is not set (needed by {', '.join(users)})" for env, users in missing.items()
        ]
        raise ProviderError(
            "missing API keys:\n" + "\n".join(lines) + "\nexport them, or set api_key_env per "
            "station to another variable; keys are read from the environment only"
        )


def build_providers(
    identities: list[StationIdentity],
    run_seed: int,
    local: LocalLlamaProvider | None = None,
    sponsor: ModelSettings | None = None,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], float] | None = None,
) -> dict[str, Provider]:
    """One provider per route in use by stations or by model-driven sponsors, each made by
    the factory its name registered (``sim.models.registry``) and wrapped by
    ``sim.models.wrappers.wrap_route``: retries (``max_retries``, jitter seeded by the run
    seed) around one that makes single attempts (a hosted one) and, for a route some of
    whose users set ``chaos``, a :class:`ChaosProvider` around that (seeded from the run
    seed and the route); ``clock`` is the simulated now for its outage windows
    (``build_world`` binds it when not given).
    """
    check_keys(identities, sponsor, environ)
    providers: dict[str, Provider] = {}
    shared = {"local": local} if local is not None else {}
    for key, route in routes(identities, sponsor).items():
        spec = route.spec
        users = [i for i in identities if i.spec.route == key]
        callers = {i.call_sign: i.spec.chaos for i in users}
        others = sponsor.chaos if sponsor is not None and sponsor.route == key else None
        chaotic = others is not None or any(c is not None for c in callers.values())
        transport = ChaosTransport() if chaotic and spec.is_hosted else None
        setup = ProviderSetup(
            spec=spec,
            run_seed=run_seed,
            api_key=(environ.get(spec.key_env, "") or NO_KEY) if spec.is_hosted else "",
            callers={
                i.call_sign: (i.spec.persona, station_streams(run_seed, i).stream("persona"))
                for i in users
            },
            transport=transport,
            shared=shared,
        )
        chaos = (
            partial(
                chaos_wrapper,
                route=key,
                run_seed=run_seed,
                callers=callers,
                others=others,
                transport=transport,
                clock=clock,
            )
            if chaotic
            else None
        )
        providers[key] = route_provider(setup, chaos)
    return providers


def route_provider(
    setup: ProviderSetup, chaos: Callable[[Provider], Provider] | None = None
) -> Provider:
    """One route's provider, as every caller (a run, the LLM judge) gets it: the registered
    factory's, in retries per its settings (jitter seeded by the run seed) and, if given,
    ``chaos`` (``sim.models.wrappers.wrap_route``)."""
    return wrap_route(
        build_provider(setup),
        retry=RetryPolicy(max_retries=setup.spec.max_retries),
        seed=setup.run_seed,
        chaos=chaos,
    )


def chaos_wrapper(
    inner: Provider,
    route: str,
    run_seed: int,
    callers: Mapping[str, ChaosSettings | None],
    others: ChaosSettings | None,
    transport: ChaosTransport | None,
    clock: Callable[[], float] | None,
) -> ChaosProvider:
    """``inner`` with its route's faults: per station, ``others`` for other callers (sponsors)."""
    rng = RngStreams(run_seed).stream("chaos", route)
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    return ChaosProvider(inner, others, rng, callers=callers, transport=transport, **extra)


def providers_for(
    scenario: Scenario, local: LocalLlamaProvider | None = None
) -> dict[str, Provider]:
    """Every provider ``scenario`` needs (keys checked first)."""
    return build_providers(
        identities_for(scenario), scenario.run.seed, local=local, sponsor=scenario.sponsor_model()
    )
