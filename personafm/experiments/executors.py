"""Where an experiment's cells run: in this process, in a local process pool, or on Ray.

Every executor runs the same ``run_cell`` (a top-level function, so it pickles):
it opens the shared store, links the cell to its run id, runs the scenario and
records how the cell ended. Executors differ only in where that happens; the
runner keeps at most ``slots`` cells in flight, so a budget can stop the grid
between cells.

Threads are a budget: a local-model cell takes ``threads_per_cell(workers)`` cores,
so workers x threads <= cores (llama.cpp collapses when processes oversubscribe).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from personafm.experiments.store import DONE, FAILED, INTERRUPTED, finish_cell, start_cell
from personafm.scenario import Scenario
from sim.store import open_store


@dataclass(frozen=True, slots=True)
class CellTask:
    db_url: str
    cell_id: int
    arm: str
    seed: int
    run_id: str
    scenario_json: str
    local_threads: int
    log_dir: str
    cost_limit_usd: float | None = None
    resume: bool = False  # continue the cell's interrupted run in place (``personafm resume``)


@dataclass(frozen=True, slots=True)
class CellOutcome:
    cell_id: int
    run_id: str
    status: str  # done | failed | interrupted
    cost_usd: float = 0.0
    error: str = ""
    wall_s: float = 0.0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def threads_per_cell(workers: int, available: int | None = None) -> int:
    """Model threads for each of ``workers`` concurrent cells: workers x threads <= cores."""
    return max(1, (available or cores()) // max(1, workers))


def uses_local_model(scenario: Scenario) -> bool:
    from personafm.world import identities_for

    sponsor = scenario.sponsor_model()
    specs = [i.spec for i in identities_for(scenario)] + ([sponsor] if sponsor else [])
    return any(s.provider == "local" for s in specs)


_ENGINES: dict[str, Engine] = {}  # one per store and process: a worker runs many cells


def _engine(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = open_store(url)
    return _ENGINES[url]


def run_cell(task: CellTask) -> CellOutcome:
    """Run one cell and record how it ended (in whichever process this is)."""
    from personafm.providers import providers_for
    from personafm.runner import run_scenario
    from sim.models.local import LocalLlamaProvider

    started = time.perf_counter()
    engine = _engine(task.db_url)
    start_cell(engine, task.cell_id, task.run_id, f"{socket.gethostname()}:{os.getpid()}")
    try:
        scenario = Scenario.model_validate_json(task.scenario_json)
        local = (
            LocalLlamaProvider(n_threads=task.local_threads) if uses_local_model(scenario) else None
        )
        providers = providers_for(scenario, local=local)
        if task.resume:  # the cell's interrupted run goes on in place, from its checkpoint
            from personafm.replaying import resume

            _, result = resume(
                engine, task.run_id, log_dir=Path(task.log_dir), providers=providers,
                cost_limit_usd=task.cost_limit_usd,
            )  # fmt: skip
        else:
            result = run_scenario(
                scenario,
                engine=engine,
                run_id=task.run_id,
                log_dir=Path(task.log_dir),
                providers=providers,
                cost_limit_usd=task.cost_limit_usd,
            )
    except Exception as exc:  # a cell that fails is recorded and the grid goes on
        error = f"{type(exc).__name__}: {exc}"[:2000]
        finish_cell(engine, task.cell_id, FAILED, 0.0, error)
        return CellOutcome(
            task.cell_id, task.run_id, FAILED, 0.0, error, time.perf_counter() - started
        )
    if result.status == "finished":
        status, error = DONE, ""
    elif result.status == "cost_limit":
        status, error = INTERRUPTED, "the experiment's budget ran out during this cell"
    else:
        status, error = FAILED, f"run ended {result.status}"
    finish_cell(engine, task.cell_id, status, result.cost_usd, error)
    return CellOutcome(
        task.cell_id, task.run_id, status, result.cost_usd, error, time.perf_counter() - started
    )


class Executor(Protocol):
    slots: int  # cells in flight at most

    def submit(self, task: CellTask) -> Any: ...
    def wait(self, handles: Sequence[Any]) -> list[tuple[Any, CellOutcome | BaseException]]: ...
    def cancel(self, handles: Sequence[Any]) -> None: ...
    def close(self) -> None: ...


class InlineExecutor:
    """This process, one cell at a time."""

    slots = 1

    def __init__(self, workers: int = 1, address: str = "") -> None:
        self._done: dict[int, CellOutcome | BaseException] = {}

    def submit(self, task: CellTask) -> int:
        self._done[task.cell_id] = run_cell(task)
        return task.cell_id

    def wait(self, handles: Sequence[Any]) -> list[tuple[Any, CellOutcome | BaseException]]:
        return [(h, self._done.pop(h)) for h in handles]

    def cancel(self, handles: Sequence[Any]) -> None:
        pass

    def close(self) -> None:
        pass


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops the grid and marks cells in flight."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PoolExecutor:
    """A local process pool (fresh interpreters: no model state crosses a fork)."""

    def __init__(self, workers: int = 2, address: str = "") -> None:
        self.slots = workers
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_ignore_sigint)

    def submit(self, task: CellTask) -> Future[CellOutcome]:
        return self._pool.submit(run_cell, task)

    def wait(self, handles: Sequence[Any]) -> list[tuple[Any, CellOutcome | BaseException]]:
        done, _ = wait(handles, return_when=FIRST_COMPLETED)
        out: list[tuple[Any, CellOutcome | BaseException]] = []
        for f in done:
            exc = f.exception()
            out.append((f, exc if exc is not None else f.result()))
        return out

    def cancel(self, handles: Sequence[Any]) -> None:
        for f in handles:
            f.cancel()
        for p in list(getattr(self._pool, "_processes", {}).values()):
            p.kill()  # a running cell cannot be cancelled: its worker goes, the cell reruns

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Each cell a Ray task (``pip install personafm[ray]``), writing to the shared store."""

    def __init__(self, workers: int = 2, address: str = "auto") -> None:
        try:
            import ray
        except ImportError:
            raise RuntimeError(
                "--ray needs Ray: pip install 'personafm[ray]' (or .venv/bin/pip install ray)"
            ) from None
        self._ray = ray
        if not ray.is_initialized():
            if address in ("", "local"):
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.slots = workers
        self._remote = ray.remote(max_retries=0)(run_cell)

    def submit(self, task: CellTask) -> Any:
        return self._remote.options(num_cpus=task.local_threads).remote(task)

    def wait(self, handles: Sequence[Any]) -> list[tuple[Any, CellOutcome | BaseException]]:
        ready, _ = self._ray.wait(list(handles), num_returns=1)
        out: list[tuple[Any, CellOutcome | BaseException]] = []
        for ref in ready:
            try:
                out.append((ref, self._ray.get(ref)))
            except Exception as exc:  # the task's process died, or the task raised
                out.append((ref, exc))
        return out

    def cancel(self, handles: Sequence[Any]) -> None:
        for ref in handles:
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        pass  # the cluster stays up; ray.shutdown() is the caller's choice


EXECUTORS: dict[str, Callable[..., Executor]] = {
    "inline": InlineExecutor,
    "pool": PoolExecutor,
    "ray": RayExecutor,
}
