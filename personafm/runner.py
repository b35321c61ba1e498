"""Run a scenario end to end: store, recorder, event log, world, run loop, bookkeeping."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session

import economy.ledger
import economy.market  # noqa: F401  (registers the market tables)
import stations.records  # noqa: F401  (registers the station tables)
from personafm.providers import providers_for
from personafm.scenario import Scenario
from personafm.world import World, build_world, identities_for
from sim.bus import EventBus
from sim.eventlog import EventLog
from sim.events import Event, ModelCallRow
from sim.models.base import Provider
from sim.models.prices import PriceTable
from sim.paths import default_log_dir
from sim.recorder import Recorder
from sim.replay import Replay
from sim.runloop import run_until
from sim.store import RunRow, open_store, utcnow


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
    replayed_after_fork: int = 0  # a fork: calls past its point answered from the recording
    live_callers: tuple[str, ...] = ()  # a fork: callers whose requests changed, so went live
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


@dataclass(slots=True)
class ResumePlan:
    """Continue a stopped or interrupted run in place: replay it from the start, serving
    calls up to its checkpoint from its own recording, skip the ``skip_events`` stored
    events the store already holds, then go on live into the same run."""

    replay: Replay
    checkpoint_s: float
    skip_events: int


def run_scenario(
    scenario: Scenario,
    *,
    engine: Engine | None = None,
    db_url: str | None = None,
    scenario_path: str = "",
    scenario_text: str = "",
    log_dir: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
    providers: dict[str, Provider] | None = None,
    prices: PriceTable | None = None,
    cost_limit_usd: float | None = None,
    replay: ReplayPlan | None = None,
    observers: Sequence[Callable[[Event], None]] = (),
    pace: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_id: str | None = None,
    resume: ResumePlan | None = None,
) -> RunResult:
    """Run ``scenario`` and return its summary.

    With ``replay`` the recorded responses answer every request before ``until_s``
    (a re-run when that is the whole run, a fork otherwise) and no model is loaded
    unless the run goes live after it. ``observers`` see every event (a UI);
    ``pace`` and ``should_stop`` let a UI pace, pause and end the run. ``run_id``
    names the run (an experiment links its cell to the run before it starts);
    with ``resume`` it is an existing run, continued in place.

    Rows are committed at consistent points (``sim.recorder``). SIGINT and SIGTERM
    stop the run at the next one, cleanly, and raise ``KeyboardInterrupt`` after;
    a second signal stops it at once, leaving the store at its last checkpoint.
    """
    if engine is None:
        engine = open_store(db_url)
    run_id = run_id or new_run_id()
    hours = scenario.run.hours
    identities = identities_for(scenario)
    if providers is None:
        live = needs_live_models(scenario, replay) and (
            resume is None or resume.checkpoint_s < hours * 3600.0
        )
        providers = providers_for(scenario) if live else {}
    prices = prices or PriceTable.load(scenario.run.prices or None)
    limit = cost_limit_usd if cost_limit_usd is not None else scenario.run.max_cost_usd
    if resume is None:
        _insert_run(engine, run_id, scenario, scenario_path, scenario_text, replay, prices)
    else:
        _reopen_run(engine, run_id)

    # From here on the row exists: whatever fails, the finally below marks it ended
    # ('failed' unless the run got to its end), so no run stays 'running' forever.
    status = "failed"
    started = time.perf_counter()
    steps = 0
    tally = [0]  # the event count so far, kept by the loop even if it is interrupted
    recorder: Recorder | None = None
    event_log: EventLog | None = None
    world: World | None = None
    clean = False  # stopped at a consistent point (or at the end): the buffer may be committed
    signals = _StopSignals()
    try:
        bus = EventBus()
        recorder = Recorder(engine, run_id, skip=resume.skip_events if resume else 0)
        bus.subscribe(recorder)
        for observer in observers:
            bus.subscribe(observer)
        if scenario.run.event_log:
            name = f"{run_id}.jsonl" if resume is None else f"{run_id}.resumed-{new_run_id()}.jsonl"
            event_log = EventLog((log_dir or default_log_dir()) / name, run_id)
            bus.subscribe(event_log)
            event_log.info(
                "run_started" if resume is None else "run_resumed",
                scenario=scenario.run.name,
                seed=scenario.run.seed,
                hours=hours,
                stations=len(identities),
                parent_run_id=replay.parent_run_id if replay else None,
                from_checkpoint_s=resume.checkpoint_s if resume else None,
            )
        if resume is not None:
            served, until = resume.replay, resume.checkpoint_s + _INSTANT_S
        elif replay is not None:
            served, until = replay.replay, replay.until_s
        else:
            served, until = None, float("inf")
        world = build_world(
            scenario,
            bus,
            providers,
            identities,
            prices=prices,
            cost_limit_usd=limit,
            replay=served,
            replay_until_s=until,
            replay_matching=replay is not None and replay.fork_at_s is not None,
        )
        dispatcher = world.dispatcher
        with signals.installed():
            steps = run_until(
                world.env,
                hours * 3600.0,
                dispatcher,
                on_progress=on_progress,
                should_stop=lambda: (
                    dispatcher.over_budget or signals.caught or bool(should_stop and should_stop())
                ),
                pace=pace,
                tally=tally,
                on_instant=recorder.checkpoint,
            )
        clean = True
        if dispatcher.over_budget:
            status = "cost_limit"
        elif signals.caught or (should_stop is not None and should_stop()):
            status = "stopped"
        else:
            world.env.run(until=hours * 3600.0)  # only moves the clock: every earlier event ran
            status = "finished"
    except KeyboardInterrupt:  # a second signal: stop at once, at the last checkpoint
        status = "stopped"
        steps = tally[0]
        raise
    finally:
        try:
            if world is not None:
                try:
                    if status in ("finished", "cost_limit"):  # the end: settle what is open
                        world.market.close()  # rate the last quarter hour and daypart
                finally:
                    world.dispatcher.close()
            if recorder is not None and clean:
                recorder.flush(world.env.now if world is not None else 0.0, steps)
        except Exception:
            status = "failed"
            raise
        finally:
            wall = time.perf_counter() - started
            cost = _run_cost(engine, run_id)
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
    if signals.caught:
        raise KeyboardInterrupt  # stopped cleanly; the caller reports it like Ctrl-C
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
        cost_usd=cost,
        live_calls=dispatcher.live_calls,
        replayed_calls=replay.replay.served if replay else 0,
        replayed_after_fork=replay.replay.served_after_fork if replay else 0,
        live_callers=tuple(replay.replay.live_callers) if replay else (),
        divergence=divergence,
        unpriced=tuple(sorted(dispatcher.unpriced)),
    )


_INSTANT_S = 1e-6  # just past a checkpoint's instant: requests at it were recorded


class _StopSignals:
    """SIGINT and SIGTERM ask the run to stop at its next consistent point; a second
    signal stops it at once (``KeyboardInterrupt``). Only in the main thread."""

    def __init__(self) -> None:
        self.caught = False

    def _handler(self, signum: int, frame: object) -> None:
        if self.caught:
            raise KeyboardInterrupt
        self.caught = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def _insert_run(
    engine: Engine,
    run_id: str,
    scenario: Scenario,
    scenario_path: str,
    scenario_text: str,
    replay: ReplayPlan | None,
    prices: PriceTable,
) -> None:
    with Session(engine) as session:
        session.add(
            RunRow(
                id=run_id,
                name=scenario.run.name,
                label=scenario.run.label,
                scenario_path=scenario_path,
                scenario_toml=scenario_text,
                scenario_json=scenario.model_dump_json(),
                seed=scenario.run.seed,
                sim_start=scenario.run.start.isoformat(),
                sim_hours=scenario.run.hours,
                parent_run_id=replay.parent_run_id if replay else None,
                fork_at_s=replay.fork_at_s if replay else None,
                price_table=prices.version,
                owner=owner(),
                heartbeat_at=utcnow(),
            )
        )
        session.commit()


def _reopen_run(engine: Engine, run_id: str) -> None:
    with Session(engine) as session:
        row = session.get(RunRow, run_id)
        assert row is not None
        row.status, row.finished_at, row.owner, row.heartbeat_at = (
            "running",
            None,
            owner(),
            utcnow(),
        )
        session.add(row)
        session.commit()


def owner() -> str:
    """Who runs a run: ``host:pid`` (a dead pid on this host means an interrupted run)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _run_cost(engine: Engine, run_id: str) -> float:
    """The run's cost from its stored calls (a resumed run's earlier calls included)."""
    t = ModelCallRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(t.c.cost_usd)).where(t.c.run_id == run_id)).scalar()
    return float(total or 0.0)


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
