"""Run a scenario end to end: store, recorder, event log, world, run loop, bookkeeping."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

import economy.ledger
import economy.market  # noqa: F401  (registers the market tables)
import stations.records  # noqa: F401  (registers the station tables)
from personafm.scenario import Scenario
from personafm.world import build_providers, build_world, station_identities
from sim.bus import EventBus
from sim.eventlog import EventLog
from sim.models.base import Provider
from sim.models.local import smollm2_path
from sim.recorder import Recorder
from sim.runloop import run_until
from sim.store import DEFAULT_DB_URL, RunRow, open_store, utcnow


@dataclass(slots=True)
class RunResult:
    run_id: str
    status: str
    wall_s: float
    events: int
    sim_hours: float
    model_calls: int
    event_log: Path | None


def new_run_id() -> str:
    """Unique, sortable and readable; not a simulation choice, so not seeded."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{os.urandom(3).hex()}"


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
) -> RunResult:
    """Run ``scenario`` and return its summary. Rows are flushed even if the run fails."""
    if engine is None:
        engine = open_store(db_url or DEFAULT_DB_URL)
    run_id = new_run_id()
    hours = scenario.run.hours
    local_name = smollm2_path().stem if _uses_local(scenario) else "local"
    identities = station_identities(scenario, local_name)
    sponsor_provider = scenario.sponsors.model.provider if scenario.sponsors.model_driven else None
    providers = providers or build_providers(
        identities, scenario.run.seed, sponsor_provider=sponsor_provider
    )
    with Session(engine) as session:
        session.add(
            RunRow(
                id=run_id,
                name=scenario.run.name,
                scenario_path=scenario_path,
                scenario_toml=scenario_text,
                seed=scenario.run.seed,
                sim_start=scenario.run.start.isoformat(),
                sim_hours=hours,
            )
        )
        session.commit()

    bus = EventBus()
    recorder = Recorder(engine, run_id)
    bus.subscribe(recorder)
    event_log = EventLog(log_dir / f"{run_id}.jsonl", run_id) if scenario.run.event_log else None
    if event_log:
        bus.subscribe(event_log)
        event_log.info(
            "run_started",
            scenario=scenario.run.name,
            seed=scenario.run.seed,
            hours=hours,
            stations=len(identities),
        )
    world = build_world(scenario, bus, providers, identities)
    status = "failed"
    started = time.perf_counter()
    steps = 0
    try:
        steps = run_until(world.env, hours * 3600.0, world.dispatcher, on_progress=on_progress)
        world.env.run(until=hours * 3600.0)  # only moves the clock: every earlier event ran
        status = "finished"
    except KeyboardInterrupt:
        status = "stopped"
        raise
    finally:
        world.market.close()  # rate the last quarter hour and the daypart in progress
        world.dispatcher.close()
        recorder.flush()
        wall = time.perf_counter() - started
        with Session(engine) as session:
            row = session.get(RunRow, run_id)
            assert row is not None
            row.status = status
            row.finished_at = utcnow()
            row.wall_s = wall
            row.events = steps
            session.add(row)
            session.commit()
        if event_log:
            event_log.info("run_ended", status=status, wall_s=round(wall, 3), events=steps)
            event_log.close()
    return RunResult(
        run_id=run_id,
        status=status,
        wall_s=wall,
        events=steps,
        sim_hours=hours,
        model_calls=world.dispatcher.calls,
        event_log=event_log.path if event_log else None,
    )


def _uses_local(scenario: Scenario) -> bool:
    sponsors = scenario.sponsors
    if sponsors.model_driven and sponsors.model.provider == "local":
        return True
    return any(scenario.model_for(s).provider == "local" for s in scenario.stations)
