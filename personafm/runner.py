"""Run a scenario end to end: store, recorder, event log, world, run loop, bookkeeping."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

import economy.ledger
import economy.market  # noqa: F401  (registers the market tables)
import stations.records  # noqa: F401  (registers the station tables)
from personafm.providers import providers_for
from personafm.scenario import Scenario
from personafm.world import World, build_world, identities_for
from sim.bus import EventBus
from sim.eventlog import EventLog
from sim.events import Event
from sim.models.base import Provider
from sim.models.prices import PriceTable
from sim.recorder import Recorder
from sim.replay import Replay
from sim.runloop import run_until
from sim.store import DEFAULT_DB_URL, RunRow, open_store, utcnow


@dataclass(slots=True)
class RunResult:
    run_id: str
    status: str  # finished | cost_limit | stopped | failed
    wall_s: float
    events: int
    sim_hours: float
    model_calls: int
    event_log: Path | None
    cost_usd: float = 0.0
    live_calls: int = 0
    replayed_calls: int = 0
    divergence: str | None = None  # the first request that differs from the recording
    unpriced: tuple[str, ...] = ()


@dataclass(slots=True)
class ReplayPlan:
    """Serve ``replay`` for requests before ``until_s``; the new run records its parent."""

    replay: Replay
    parent_run_id: str
    until_s: float = float("inf")  # inf: a whole re-run
    fork_at_s: float | None = None


def new_run_id() -> str:
    """Unique, sortable and readable; not a simulation choice, so not seeded."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{os.urandom(3).hex()}"


def needs_live_models(scenario: Scenario, plan: ReplayPlan | None) -> bool:
    return plan is None or plan.until_s < scenario.run.hours * 3600.0


def run_scenario(
    scenario: Scenario,
    *,
    engine: Engine | None = None,
    db_url: str | None = None,
    scenario_path: str = "",
    scenario_text: str = "",
    log_dir: Path = Path("logs"),
    on_progress: Callable[[float], None] | None = None,
    providers: dict[str, Provider] | None = None,
    prices: PriceTable | None = None,
    cost_limit_usd: float | None = None,
    replay: ReplayPlan | None = None,
    observers: Sequence[Callable[[Event], None]] = (),
    pace: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run ``scenario`` and return its summary. Rows are flushed even if the run fails.

    With ``replay`` the recorded responses answer every request before ``until_s``
    (a re-run when that is the whole run, a fork otherwise) and no model is loaded
    unless the run goes live after it. ``observers`` see every event (a UI);
    ``pace`` and ``should_stop`` let a UI pace, pause and end the run. ``run_id``
    names the run (an experiment links its cell to the run before it starts).
    """
    if engine is None:
        engine = open_store(db_url or DEFAULT_DB_URL)
    run_id = run_id or new_run_id()
    hours = scenario.run.hours
    identities = identities_for(scenario)
    if providers is None:
        providers = providers_for(scenario) if needs_live_models(scenario, replay) else {}
    prices = prices or PriceTable.load(scenario.run.prices or None)
    limit = cost_limit_usd if cost_limit_usd is not None else scenario.run.max_cost_usd
    with Session(engine) as session:
        session.add(
            RunRow(
                id=run_id,
                name=scenario.run.name,
                scenario_path=scenario_path,
                scenario_toml=scenario_text,
                scenario_json=scenario.model_dump_json(),
                seed=scenario.run.seed,
                sim_start=scenario.run.start.isoformat(),
                sim_hours=hours,
                parent_run_id=replay.parent_run_id if replay else None,
                fork_at_s=replay.fork_at_s if replay else None,
                price_table=prices.version,
            )
        )
        session.commit()

    # From here on the row exists: whatever fails, the finally below marks it ended
    # ('failed' unless the run got to its end), so no run stays 'running' forever.
    status = "failed"
    started = time.perf_counter()
    steps = 0
    tally = [0]  # the event count so far, kept by the loop even if it is interrupted
    recorder: Recorder | None = None
    event_log: EventLog | None = None
    world: World | None = None
    try:
        bus = EventBus()
        recorder = Recorder(engine, run_id)
        bus.subscribe(recorder)
        for observer in observers:
            bus.subscribe(observer)
        if scenario.run.event_log:
            event_log = EventLog(log_dir / f"{run_id}.jsonl", run_id)
            bus.subscribe(event_log)
            event_log.info(
                "run_started",
                scenario=scenario.run.name,
                seed=scenario.run.seed,
                hours=hours,
                stations=len(identities),
                parent_run_id=replay.parent_run_id if replay else None,
            )
        world = build_world(
            scenario,
            bus,
            providers,
            identities,
            prices=prices,
            cost_limit_usd=limit,
            replay=replay.replay if replay else None,
            replay_until_s=replay.until_s if replay else float("inf"),
        )
        dispatcher = world.dispatcher
        steps = run_until(
            world.env,
            hours * 3600.0,
            dispatcher,
            on_progress=on_progress,
            should_stop=lambda: dispatcher.over_budget or bool(should_stop and should_stop()),
            pace=pace,
            tally=tally,
        )
        if dispatcher.over_budget:
            status = "cost_limit"
        elif should_stop is not None and should_stop():
            status = "stopped"
        else:
            world.env.run(until=hours * 3600.0)  # only moves the clock: every earlier event ran
            status = "finished"
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into this)
        status = "stopped"
        steps = tally[0]
        raise
    finally:
        try:
            if world is not None:
                try:
                    world.market.close()  # rate the last quarter hour and the daypart in progress
                finally:
                    world.dispatcher.close()
            if recorder is not None:
                recorder.flush()
        except Exception:
            status = "failed"
            raise
        finally:
            wall = time.perf_counter() - started
            cost = world.dispatcher.cost_usd if world is not None else 0.0
            _mark_ended(engine, run_id, status, wall, steps, cost)
            if event_log:
                event_log.info(
                    "run_ended",
                    status=status,
                    wall_s=round(wall, 3),
                    events=steps,
                    cost_usd=round(cost, 6),
                )
                event_log.close()
    divergence = None
    if replay and replay.replay.first_divergence:
        divergence = replay.replay.first_divergence.describe()
    return RunResult(
        run_id=run_id,
        status=status,
        wall_s=wall,
        events=steps,
        sim_hours=hours,
        model_calls=dispatcher.calls,
        event_log=event_log.path if event_log else None,
        cost_usd=dispatcher.cost_usd,
        live_calls=dispatcher.live_calls,
        replayed_calls=replay.replay.served if replay else 0,
        divergence=divergence,
        unpriced=tuple(sorted(dispatcher.unpriced)),
    )


def _mark_ended(
    engine: Engine, run_id: str, status: str, wall_s: float, events: int, cost_usd: float
) -> None:
    with Session(engine) as session:
        row = session.get(RunRow, run_id)
        assert row is not None
        row.status = status
        row.finished_at = utcnow()
        row.wall_s = wall_s
        row.events = events
        row.cost_usd = cost_usd
        session.add(row)
        session.commit()
