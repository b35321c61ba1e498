"""An experiment and its cells in the run store: what makes a stopped experiment resume.

A cell is one (arm, seed) of the grid. It is ``pending`` until a worker takes it,
``running`` (with the id of its run, known before the run starts) while it runs,
then ``done`` or ``failed``. A cell still ``running`` when the next ``experiment``
command starts was in flight when the last one died: it becomes ``interrupted``
(its run too), and runs again under a new run id, so every cell ends with exactly
one finished run and nothing half-done is counted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import BigInteger, Engine, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from sim.events import ModelCallRow
from sim.store import RunRow, utcnow

DONE, PENDING, RUNNING, FAILED, INTERRUPTED = "done", "pending", "running", "failed", "interrupted"


class ExperimentRow(SQLModel, table=True):
    __tablename__ = "experiments"

    id: str = Field(primary_key=True)  # name-digest: the same file resumes the same grid
    name: str = Field(index=True)
    file_path: str = ""
    file_toml: str = ""
    control: str = ""
    metrics_json: str = "[]"
    primary_metric: str = ""
    max_cost_usd: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class CellRow(SQLModel, table=True):
    __tablename__ = "experiment_cells"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(index=True)
    arm: str
    seed: int = Field(sa_type=BigInteger)
    status: str = PENDING
    run_id: str | None = Field(default=None, index=True)
    attempts: int = 0
    worker: str = ""
    error: str = ""
    cost_usd: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None


def register(
    engine: Engine,
    experiment_id: str,
    name: str,
    cells: list[tuple[str, int]],
    *,
    file_path: str = "",
    file_toml: str = "",
    control: str = "",
    metrics_json: str = "[]",
    primary_metric: str = "",
    max_cost_usd: float | None = None,
) -> None:
    """Record the experiment and any of its cells not yet in the store."""
    SQLModel.metadata.create_all(engine, tables=[ExperimentRow.__table__, CellRow.__table__])  # type: ignore[attr-defined]
    with Session(engine) as s:
        if s.get(ExperimentRow, experiment_id) is None:
            s.add(
                ExperimentRow(
                    id=experiment_id, name=name, file_path=file_path, file_toml=file_toml,
                    control=control, metrics_json=metrics_json, primary_metric=primary_metric,
                    max_cost_usd=max_cost_usd,
                )
            )  # fmt: skip
        have = {
            (c.arm, c.seed)
            for c in s.exec(select(CellRow).where(col(CellRow.experiment_id) == experiment_id))
        }
        for arm, seed in cells:
            if (arm, seed) not in have:
                s.add(CellRow(experiment_id=experiment_id, arm=arm, seed=seed))
        s.commit()


def recover(engine: Engine, experiment_id: str) -> int:
    """Cells left ``running`` by a process that died become ``interrupted`` (their runs too)."""
    with Session(engine) as s:
        stale = s.exec(
            select(CellRow).where(
                col(CellRow.experiment_id) == experiment_id, col(CellRow.status) == RUNNING
            )
        ).all()
        for cell in stale:
            interrupt(s, cell, "the experiment stopped while it ran")
        s.commit()
        return len(stale)


def interrupt(s: Session, cell: CellRow, why: str) -> None:
    cell.status, cell.error, cell.finished_at = INTERRUPTED, why, utcnow()
    s.add(cell)
    if cell.run_id:
        s.execute(
            update(RunRow)
            .where(col(RunRow.id) == cell.run_id, col(RunRow.status) == RUNNING)
            .values(status=INTERRUPTED, finished_at=utcnow())
        )


def cells_of(engine: Engine, experiment_id: str) -> list[CellRow]:
    with Session(engine, expire_on_commit=False) as s:
        return list(
            s.exec(
                select(CellRow)
                .where(col(CellRow.experiment_id) == experiment_id)
                .order_by(col(CellRow.id))
            ).all()
        )


def start_cell(engine: Engine, cell_id: int, run_id: str, worker: str) -> None:
    with Session(engine) as s:
        cell = s.get(CellRow, cell_id)
        assert cell is not None
        cell.status, cell.run_id, cell.worker = RUNNING, run_id, worker
        cell.attempts += 1
        cell.started_at, cell.finished_at, cell.error = utcnow(), None, ""
        s.add(cell)
        s.commit()


def finish_cell(
    engine: Engine, cell_id: int, status: str, cost_usd: float, error: str = ""
) -> None:
    with Session(engine) as s:
        cell = s.get(CellRow, cell_id)
        assert cell is not None
        cell.status, cell.cost_usd, cell.error, cell.finished_at = status, cost_usd, error, utcnow()
        s.add(cell)
        s.commit()


def runs_by_arm(engine: Engine, experiment_id: str) -> dict[str, list[str]]:
    """The finished run of every done cell, by arm (in seed order)."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for c in cells_of(engine, experiment_id):
        if c.status == DONE and c.run_id:
            out[c.arm].append((c.seed, c.run_id))
    return {arm: [r for _, r in sorted(v)] for arm, v in out.items()}


def spent_usd(engine: Engine, experiment_id: str) -> float:
    """What the experiment's cells have cost so far (all attempts, interrupted ones too)."""
    ids = [c.run_id for c in cells_of(engine, experiment_id) if c.run_id]
    if not ids:
        return 0.0
    with Session(engine) as s:  # calls, not runs: a killed run's calls are stored, its total not
        total = s.exec(
            select(func.sum(ModelCallRow.cost_usd)).where(col(ModelCallRow.run_id).in_(ids))
        ).one()
    return float(total or 0.0)


def find_experiment(engine: Engine, ref: str) -> ExperimentRow | None:
    """By id, by name (the latest of that name), or ``latest``."""
    SQLModel.metadata.create_all(engine, tables=[ExperimentRow.__table__, CellRow.__table__])  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as s:
        if ref == "latest":
            q = select(ExperimentRow)
        else:
            exact = s.get(ExperimentRow, ref)
            if exact is not None:
                return exact
            q = select(ExperimentRow).where(col(ExperimentRow.name) == ref)
        return s.exec(q.order_by(col(ExperimentRow.created_at).desc())).first()
