"""Drive an experiment's grid: register it, recover what a dead run left, run what is missing.

The same command again runs only the cells that are not ``done``. Each cell's run
id is fixed before it starts, so a cell killed mid-run is recognised next time
and run again under a fresh id. ``max_cost_usd`` covers the whole experiment,
past attempts included: a stopped experiment resumes within what is left.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from personafm.experiments.executors import (
    EXECUTORS,
    CellOutcome,
    CellTask,
    Executor,
    threads_per_cell,
)
from personafm.experiments.spec import Experiment
from personafm.experiments.store import (
    DONE,
    FAILED,
    INTERRUPTED,
    CellRow,
    cells_of,
    interrupt,
    recover,
    register,
    spent_usd,
)
from personafm.runner import new_run_id
from sim.paths import default_log_dir
from sim.runstate import run_state
from sim.store import RunRow


class ExperimentError(RuntimeError):
    """The experiment cannot run as asked; the message says why and what to do."""


@dataclass(slots=True)
class GridState:
    experiment_id: str
    total: int
    done: int = 0
    running: int = 0
    failed: int = 0
    interrupted: int = 0
    recovered: int = 0  # cells found in flight from a run that died
    spent_usd: float = 0.0
    budget_usd: float | None = None
    started: float = field(default_factory=time.perf_counter)
    finished_now: int = 0  # cells finished by this command (for the ETA)
    stopped: str = ""  # why this command stopped early ("" = it ran the grid)

    @property
    def eta_s(self) -> float | None:
        left = self.total - self.done - self.failed
        if not self.finished_now or left <= 0:
            return None
        return (time.perf_counter() - self.started) / self.finished_now * left

    def line(self) -> str:
        eta = f", ETA {self.eta_s:.0f} s" if self.eta_s is not None else ""
        budget = f" of ${self.budget_usd:.2f}" if self.budget_usd is not None else ""
        return (
            f"cells {self.done}/{self.total} done, {self.running} running, {self.failed} failed"
            f", ${self.spent_usd:.4f}{budget}{eta}"
        )


def check_store_for_workers(db_url: str, workers: int, ray: bool) -> None:
    """Several processes writing one SQLite file contend for its single write lock: under
    load a run fails with 'database is locked' and its rows are lost. Refuse it."""
    if (workers > 1 or ray) and make_url(db_url).get_backend_name() == "sqlite":
        how = "Ray" if ray else f"--workers {workers}"
        raise ExperimentError(
            f"{how} needs a server database: several processes writing one SQLite file would "
            "fail with 'database is locked' and lose rows. Use --db postgresql://USER@HOST/DB, "
            "or --workers 1"
        )


def run_experiment(
    exp: Experiment,
    engine: Engine,
    db_url: str,
    *,
    workers: int = 1,
    ray_address: str | None = None,
    max_cost_usd: float | None = None,
    log_dir: Path | None = None,
    file_path: str = "",
    file_text: str = "",
    on_update: Callable[[GridState], None] | None = None,
    threads: int | None = None,
) -> GridState:
    """Run every cell of ``exp`` that is not done yet; return where the grid stands.

    ``threads``: local-model threads per cell (default: the rule, cores // workers).
    """
    check_store_for_workers(db_url, workers, ray_address is not None)
    register(
        engine, exp.id, exp.spec.name, exp.cells, file_path=file_path, file_toml=file_text,
        control=exp.spec.control_arm, metrics_json=json.dumps(exp.spec.metrics),
        primary_metric=exp.spec.primary_metric, max_cost_usd=max_cost_usd or exp.spec.max_cost_usd,
    )  # fmt: skip
    state = GridState(exp.id, len(exp.cells), recovered=recover(engine, exp.id))
    state.budget_usd = max_cost_usd if max_cost_usd is not None else exp.spec.max_cost_usd
    todo = [c for c in cells_of(engine, exp.id) if c.status != DONE]
    state.done = state.total - len(todo)
    state.spent_usd = spent_usd(engine, exp.id)
    update = on_update or (lambda s: None)
    update(state)
    if not todo:
        return state
    name = "ray" if ray_address is not None else ("pool" if workers > 1 else "inline")
    executor: Executor = EXECUTORS[name](workers, ray_address or "")
    threads = threads or threads_per_cell(executor.slots)
    in_flight: dict[Any, CellRow] = {}
    current: CellRow | None = None  # being handed to the executor (inline: being run)
    try:
        while todo or in_flight:
            while todo and len(in_flight) < executor.slots and not state.stopped:
                left = _budget_left(state)
                if left is not None and left <= 0:
                    state.stopped = f"budget of ${state.budget_usd:.2f} spent"
                    todo = []
                    break
                cell = todo.pop(0)
                share = None if left is None else left / min(executor.slots, len(todo) + 1)
                task = _task(engine, exp, cell, db_url, threads, log_dir, share)
                current = cell
                try:
                    in_flight[executor.submit(task)] = cell
                except BrokenExecutor as exc:  # a worker died and took the pool with it
                    _settle(engine, state, cell, exc)
                    todo = []
                current = None
                state.running = len(in_flight)
                update(state)
            if not in_flight:
                break
            for handle, result in executor.wait(list(in_flight)):
                cell = in_flight.pop(handle)
                _settle(engine, state, cell, result)
                state.running = len(in_flight)
                update(state)
    except KeyboardInterrupt:
        executor.cancel(list(in_flight))
        stopped = list(in_flight.values()) + ([current] if current is not None else [])
        _interrupt(engine, stopped, "stopped by Ctrl-C")
        state.interrupted += len(stopped)
        state.running = 0
        state.stopped = "interrupted: run the same command again to resume"
        update(state)
        raise
    finally:
        executor.close()
    return state


def _budget_left(state: GridState) -> float | None:
    if state.budget_usd is None:
        return None
    return state.budget_usd - state.spent_usd


def _task(
    engine: Engine,
    exp: Experiment,
    cell: CellRow,
    db_url: str,
    threads: int,
    log_dir: Path | None,
    limit: float | None,
) -> CellTask:
    assert cell.id is not None
    scenario = exp.cell_scenario(cell.arm, cell.seed)
    resumable = (
        cell.status == INTERRUPTED and cell.run_id is not None and _resumable(engine, cell.run_id)
    )
    return CellTask(
        db_url=db_url, cell_id=cell.id, arm=cell.arm, seed=cell.seed,
        run_id=cell.run_id if resumable and cell.run_id else new_run_id(),
        scenario_json=scenario.model_dump_json(), local_threads=threads,
        log_dir=str(log_dir or default_log_dir()), cost_limit_usd=limit, resume=resumable,
    )  # fmt: skip


def _resumable(engine: Engine, run_id: str) -> bool:
    """An interrupted cell's run continues in place if it stopped at a consistent point."""
    from personafm.replaying import RESUMABLE

    with Session(engine) as s:
        row = s.get(RunRow, run_id)
    return row is not None and bool(row.owner) and run_state(row) in RESUMABLE


def _settle(
    engine: Engine, state: GridState, cell: CellRow, result: CellOutcome | BaseException
) -> None:
    if isinstance(result, BaseException):  # the worker died (killed, out of memory...)
        _interrupt(engine, [cell], f"its worker died: {type(result).__name__}: {result}"[:500])
        state.interrupted += 1
        state.stopped = "a worker died: run the same command again to resume"
        return
    state.finished_now += 1
    state.spent_usd += result.cost_usd
    if result.status == DONE:
        state.done += 1
    elif result.status == FAILED:
        state.failed += 1
    elif result.status == INTERRUPTED:
        state.interrupted += 1


def _interrupt(engine: Engine, cells: list[CellRow], why: str) -> None:
    with Session(engine) as s:
        for c in cells:
            fresh = s.get(CellRow, c.id)
            if fresh is not None and fresh.status not in (DONE, FAILED):
                interrupt(s, fresh, why)
        s.commit()
