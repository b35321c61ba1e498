"""A/B experiments: the file, the grid, resuming after a dead worker, Ctrl-C and budgets,
the process pool on PostgreSQL and Ray on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from personafm.cli import main
from personafm.experiments.runner import ExperimentError, run_experiment
from personafm.experiments.spec import load_experiment, parse_experiment
from personafm.experiments.store import CellRow, cells_of, runs_by_arm
from personafm.pgserver import new_database
from personafm.scenario import ScenarioError
from sim.store import RunRow, open_store
from testkit.helpers import default_sigint

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("asrun", "model_calls", "ledger", "messages", "ratings", "turns", "faults")


def grid_toml(name: str = "grid", hours: float = 8.0, seeds: str = "[1, 2, 3]") -> str:
    return f"""
name = "{name}"
scenario = "traits"
seeds = {seeds}
metrics = ["sycophancy.index", "reflexes.words_per_break"]
patch = {{ run = {{ hours = {hours} }} }}

[[arms]]
name = "plain"

[[arms]]
name = "agreeable"
[arms.set]
"stations.1.model.persona.sycophancy_rate" = 0.9
"""


def write(tmp_path: Path, body: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def counts(engine: Engine, run_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(
                text(f"select count(*) from {t} where run_id = :r"), {"r": run_id}
            ).scalar_one()
            for t in TABLES
        }


def per_cell_counts(engine: Engine, experiment_id: str) -> dict[tuple[str, int], dict[str, int]]:
    return {
        (c.arm, c.seed): counts(engine, c.run_id or "")
        for c in cells_of(engine, experiment_id)
        if c.status == "done"
    }


# -- the file ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            grid_toml().replace('name = "plain"', 'name = "bad name!"'),
            "arms.0: arm name 'bad name!'",
        ),
        (
            grid_toml().replace('"grid"', '"grid"\nbogus = 1'),
            "bogus: Extra inputs are not permitted",
        ),
        (grid_toml().replace("seeds = [1, 2, 3]", "replicates = 0"), "give seeds = [...]"),
        (grid_toml().replace('"grid"', '"grid"\ncontrol = "nope"'), "control 'nope' is not an arm"),
        (grid_toml().replace('"sycophancy.index",', '"sycophancy index",'), "dimension.key"),
        (grid_toml().replace('scenario = "traits"', 'scenario = "nope"'), "no such scenario"),
        (grid_toml().replace('"stations.1.model', '"stations.9.model'), "no such place"),
        (grid_toml().replace("0.9", "9.0"), "arm agreeable: invalid scenario"),
    ],
)
def test_a_bad_experiment_file_names_the_file_and_field(
    tmp_path: Path, body: str, words: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert words in str(info.value)
    assert main(["experiment", str(path), "--db", f"sqlite:///{tmp_path}/x.db", "--quiet"]) == 2


def test_cells_patch_the_base_scenario_and_take_the_seed(tmp_path: Path) -> None:
    exp = parse_experiment(grid_toml(), "exp.toml")
    assert exp.cells == [(a, s) for a in ("plain", "agreeable") for s in (1, 2, 3)]
    cell = exp.cell_scenario("agreeable", 2)
    assert cell.run.seed == 2 and cell.run.hours == 8.0 and cell.run.name == "grid:agreeable"
    assert cell.stations[1].model.persona.sycophancy_rate == 0.9
    assert exp.cell_scenario("plain", 2).stations[1].model.persona.sycophancy_rate == 0.2
    assert exp.id == parse_experiment(grid_toml(), "other.toml").id  # the grid, not the path
    assert exp.id != parse_experiment(grid_toml(hours=9), "exp.toml").id


def test_the_bundled_experiments_load() -> None:
    for name in ("ab_prompt", "persona_variants", "harness"):
        exp, path, _ = load_experiment(name)
        assert path.parent.name == "experiments" and len(exp.cells) >= 8
        assert exp.spec.primary_metric in exp.spec.metrics


# -- running, resuming --------------------------------------------------------------------
def test_the_grid_runs_once_and_a_rerun_does_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, grid_toml(hours=4, seeds="[1, 2]"))
    url = f"sqlite:///{tmp_path}/x.db"
    args = ["experiment", str(path), "--db", url, "--quiet", "--log-dir", str(tmp_path / "l")]
    assert main(args) == 0
    engine = open_store(url)
    exp, _, _ = load_experiment(path)
    arms = runs_by_arm(engine, exp.id)
    assert {a: len(r) for a, r in arms.items()} == {"plain": 2, "agreeable": 2}
    with Session(engine) as s:
        runs = s.exec(select(RunRow)).all()
    assert len(runs) == 4 and {r.name for r in runs} == {"grid:plain", "grid:agreeable"}
    assert main(args) == 0  # resumable: nothing left, nothing run
    with Session(engine) as s:
        assert len(s.exec(select(RunRow)).all()) == 4


def test_several_workers_refuse_a_sqlite_store(tmp_path: Path) -> None:
    exp = parse_experiment(grid_toml(), "exp.toml")
    url = f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(ExperimentError, match="needs a server database"):
        run_experiment(exp, open_store(url), url, workers=2)


def _wait_for(engine: Engine, predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as s:
            if predicate(s.exec(select(CellRow)).all()):
                return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the experiment")


def _running_cell_with_rows(engine: Engine, timeout: float = 120.0) -> CellRow:
    """A cell in flight whose run has started writing rows (its run row exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as s:
            for cell in s.exec(select(CellRow).where(CellRow.status == "running")).all():
                if cell.run_id and s.get(RunRow, cell.run_id) is not None:
                    return cell
        time.sleep(0.05)
    raise AssertionError("no cell started running")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "personafm.cli", *args]


@pytest.mark.postgres
def test_a_killed_worker_loses_nothing_and_the_grid_resumes(
    postgres_url: str, tmp_path: Path
) -> None:
    """2 workers on PostgreSQL; one is killed mid-cell; the same command again completes
    the grid, and every cell's run has exactly the rows of an uninterrupted run."""
    url = new_database(postgres_url, "exp_kill")
    path = write(tmp_path, grid_toml(hours=12))
    cmd = _cli("experiment", str(path), "--workers", "2", "--db", url, "--quiet",
               "--log-dir", str(tmp_path / "logs"))  # fmt: skip
    engine = open_store(url)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=default_sigint
    )
    try:
        victim = _running_cell_with_rows(engine)
        os.kill(int(victim.worker.rsplit(":", 1)[1]), signal.SIGKILL)
        out = proc.communicate(timeout=180)[0].decode()
    finally:
        proc.kill()
    assert proc.returncode == 3 and "worker died" in out, out
    exp, _, _ = load_experiment(path)
    cells = {c.id: c for c in cells_of(engine, exp.id)}
    assert cells[victim.id].status == "interrupted"
    with Session(engine) as s:
        assert s.get(RunRow, victim.run_id).status == "interrupted"  # type: ignore[union-attr]

    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, [(c.status, c.error) for c in cells_of(engine, exp.id)]
    cells_now = cells_of(engine, exp.id)
    assert len(cells_now) == 6 and all(c.status == "done" for c in cells_now)
    assert len({c.run_id for c in cells_now}) == 6  # one run per cell, none shared
    killed = next(c for c in cells_now if c.id == victim.id)
    assert killed.attempts == 2 and killed.run_id == victim.run_id  # resumed in place

    control_url = f"sqlite:///{tmp_path}/control.db"  # the same grid, never interrupted
    assert main(["experiment", str(path), "--db", control_url, "--quiet",
                 "--log-dir", str(tmp_path / "c")]) == 0  # fmt: skip
    control = per_cell_counts(open_store(control_url), exp.id)
    assert per_cell_counts(engine, exp.id) == control
    assert all(c["asrun"] > 0 and c["model_calls"] > 0 for c in control.values())
    engine.dispose()


def test_ctrl_c_stops_cleanly_and_the_cell_in_flight_reruns(tmp_path: Path) -> None:
    path = write(tmp_path, grid_toml(hours=48, seeds="[1]"))
    url = f"sqlite:///{tmp_path}/x.db"
    cmd = _cli("experiment", str(path), "--db", url, "--quiet", "--log-dir", str(tmp_path / "l"))
    engine = open_store(url)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=default_sigint
    )
    try:
        _wait_for(engine, lambda cells: any(c.status == "running" for c in cells))
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0].decode()
    finally:
        proc.kill()
    assert proc.returncode == 130, out
    exp, _, _ = load_experiment(path)
    first = cells_of(engine, exp.id)
    assert [c.status for c in first] == ["interrupted", "pending"]
    assert main(["experiment", str(path), "--db", url, "--quiet",
                 "--log-dir", str(tmp_path / "l")]) == 0  # fmt: skip
    assert all(c.status == "done" for c in cells_of(engine, exp.id))


def _priced(tmp_path: Path) -> Path:
    prices = tmp_path / "prices.toml"
    prices.write_text('version = "test"\n[models."scripted"]\ninput = 20.0\noutput = 20.0\n')
    return prices


def test_the_budget_covers_the_whole_experiment_and_resumes_within_it(tmp_path: Path) -> None:
    body = grid_toml(hours=4, seeds="[1, 2]").replace(
        "patch = { run = { hours = 4 } }",
        f'patch = {{ run = {{ hours = 4, prices = "{_priced(tmp_path)}" }} }}',
    )
    path = write(tmp_path, body)
    url = f"sqlite:///{tmp_path}/x.db"
    base = ["experiment", str(path), "--db", url, "--quiet", "--log-dir", str(tmp_path / "l")]
    engine = open_store(url)
    exp, _, _ = load_experiment(path)
    # a cell costs about $0.7 at these prices: a $2 cap stops the grid in its third cell
    assert main([*base, "--max-cost", "2"]) == 3
    first = cells_of(engine, exp.id)
    assert 1 <= sum(c.status == "done" for c in first) < 4
    spent = sum(c.cost_usd for c in first)
    assert main([*base, "--max-cost", "2"]) == 3  # nothing left of the budget: nothing runs
    assert sum(c.cost_usd for c in cells_of(engine, exp.id)) == pytest.approx(spent)
    assert main([*base, "--max-cost", "100"]) == 0  # more budget: it resumes and finishes
    assert all(c.status == "done" for c in cells_of(engine, exp.id))


def test_a_hosted_grid_asks_before_spending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = """
name = "hosted"
scenario = "default"
replicates = 2
patch = { model = { model = "openai:gpt-4o-mini" } }
[[arms]]
name = "warm"
[[arms]]
name = "cool"
[arms.set]
"model.temperature" = 0.2
"""
    path = write(tmp_path, body)
    url = f"sqlite:///{tmp_path}/x.db"
    assert main(["experiment", str(path), "--db", url, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "projected cost of the whole grid: $" in err and "not confirmed" in err
    with Session(open_store(url)) as s:
        assert not s.exec(select(RunRow)).all()  # nothing ran, nothing spent


# -- Ray ---------------------------------------------------------------------------------
@pytest.mark.postgres
def test_ray_on_loopback_gives_the_pools_results(postgres_url: str, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="pip install 'personafm[ray]' (scripts/setup.sh does)")
    import ray

    pool_url = new_database(postgres_url, "exp_pool")
    ray_url = new_database(postgres_url, "exp_ray")
    path = write(tmp_path, grid_toml(hours=4, seeds="[1, 2]"))
    exp, _, _ = load_experiment(path)
    pool_engine, ray_engine = open_store(pool_url), open_store(ray_url)
    state = run_experiment(exp, pool_engine, pool_url, workers=2, log_dir=tmp_path / "p")
    assert state.done == 4
    try:
        state = run_experiment(
            exp, ray_engine, ray_url, workers=2, ray_address="local", log_dir=tmp_path / "r"
        )
    finally:
        ray.shutdown()
    assert state.done == 4 and not state.failed
    assert per_cell_counts(ray_engine, exp.id) == per_cell_counts(pool_engine, exp.id)
    board_pool = _primary_values(pool_engine, exp.id)
    assert board_pool == _primary_values(ray_engine, exp.id)


def _primary_values(engine: Engine, experiment_id: str) -> dict[str, list[float | None]]:
    from analysis.scoreboard import analyze

    out = {}
    for arm, runs in runs_by_arm(engine, experiment_id).items():
        board = analyze(engine, runs, dimensions=("sycophancy",))
        out[arm] = [s["sycophancy"]["index"] for s in board.stations]
    return out


def test_compare_reads_the_grid_by_arm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, grid_toml(hours=4, seeds="[1, 2, 3]"))
    url = f"sqlite:///{tmp_path}/x.db"
    assert main(["compare", str(path), "--db", url]) == 2  # not run yet: said so
    assert "no experiment" in capsys.readouterr().err
    assert main(["experiment", str(path), "--db", url, "--quiet",
                 "--log-dir", str(tmp_path / "l")]) == 0  # fmt: skip
    out_json, out_html = tmp_path / "c.json", tmp_path / "c.html"
    assert main(["compare", "grid", "--db", url, "--json", str(out_json),
                 "--html", str(out_html)]) == 0  # fmt: skip
    shown = capsys.readouterr().out
    assert "sycophancy.index" in shown and "agreeable" in shown and "talk divergence" in shown
    data = json.loads(out_json.read_text("utf-8"))
    assert data["control"] == "plain" and data["primary"] == "sycophancy.index"
    assert {a: len(r) for a, r in data["arms"].items()} == {"plain": 3, "agreeable": 3}
    syc = next(m for m in data["metrics"] if m["metric"] == "sycophancy.index")
    assert syc["contrasts"][0]["difference"] > 0.1  # KPUN's 0.2 -> 0.9, one of four stations
    assert out_html.read_text("utf-8").count('<figure class="plot"') >= 2
    assert main(["compare", "latest", "--db", url]) == 0
