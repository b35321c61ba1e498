"""Nothing lost: a run killed at any moment resumes into the same run, and its exports
equal those of a run never interrupted (apart from run-level timestamps)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from personafm.cli import main
from personafm.export import whats
from personafm.scenario import parse_scenario
from sim.runstate import run_state
from sim.store import RunRow, open_store
from testkit.helpers import export_rows, run, scripted_toml

ROOT = Path(__file__).resolve().parents[1]
HOURS, STATIONS, SEED = 36, 3, 17
VARYING = ("run_id", "latency_s")  # what differs between any two runs of one scenario


def _exports(engine: Engine, run_id: str) -> dict[str, list[dict]]:
    return {
        what: [
            {k: v for k, v in r.items() if k not in VARYING}
            for r in export_rows(engine, run_id, what)
        ]
        for what in whats()
    }


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("resume") / "s.toml"
    path.write_text(scripted_toml(hours=HOURS, stations=STATIONS, seed=SEED), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def control(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("control")
    engine = open_store(f"sqlite:///{tmp}/control.db")
    scenario = parse_scenario(scenario_file.read_text("utf-8"), str(scenario_file))
    result = run(scenario, engine, tmp)
    assert result.status == "finished"
    return _exports(engine, result.run_id)


def _interrupt(scenario: Path, url: str, logs: Path, sig: int, delay: float) -> str | None:
    """Start a run in a process, signal it ``delay`` s after its first commit; its id, or
    None when it finished first."""
    engine = open_store(url)
    with engine.connect() as conn:
        before = set(conn.execute(text("select id from runs")).scalars())
    proc = subprocess.Popen(
        [sys.executable, "-m", "personafm.cli", "run", str(scenario), "--db", url, "--quiet",
         "--log-dir", str(logs)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        run_id = None
        deadline = time.monotonic() + 60
        while run_id is None and time.monotonic() < deadline and proc.poll() is None:
            with engine.connect() as conn:
                ids = set(conn.execute(text("select id from runs")).scalars()) - before
            run_id = next(iter(ids), None)
            time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(sig)
        proc.wait(timeout=60)  # reaped: a dead pid is not a zombie "alive"
    finally:
        proc.kill()
        proc.wait()
    assert run_id is not None
    with engine.connect() as conn:
        status = conn.execute(text("select status from runs where id = :r"), {"r": run_id}).scalar()
    return None if status == "finished" else run_id


def test_kill_9_at_random_moments_then_resume_gives_the_uninterrupted_run(
    scenario_file: Path, control: dict, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/runs.db"
    engine = open_store(url)
    rng = random.Random(2026)
    plan = [signal.SIGKILL] * 20 + [signal.SIGTERM] * 3
    resumed = 0
    for i, sig in enumerate(plan):
        run_id = _interrupt(scenario_file, url, tmp_path / "logs", sig, rng.uniform(0.0, 0.8))
        if run_id is None:
            continue  # it finished before the signal: nothing to resume
        with engine.connect() as conn:
            row = conn.execute(text("select * from runs where id = :r"), {"r": run_id}).one()
        expected = "stopped" if sig == signal.SIGTERM else "interrupted"
        assert run_state(RunRow.model_validate(dict(row._mapping))) == expected, i
        assert main(["resume", run_id, "--db", url, "--quiet",
                     "--log-dir", str(tmp_path / "logs")]) == 0  # fmt: skip
        got = _exports(engine, run_id)
        for what in whats():
            assert got[what] == control[what], f"moment {i} ({sig!r}): {what} differs"
        with engine.connect() as conn:
            status, events = conn.execute(
                text("select status, events from runs where id = :r"), {"r": run_id}
            ).one()
        assert status == "finished" and events > 0
        resumed += 1
    assert resumed >= 18, f"only {resumed} of {len(plan)} signals landed mid-run"
    print(f"{resumed} of {len(plan)} runs interrupted and resumed")


def test_a_finished_or_running_run_does_not_resume(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/runs.db"
    engine = open_store(url)
    scenario = parse_scenario(scripted_toml(hours=2, stations=1), "s.toml")
    done = run(scenario, engine, tmp_path).run_id
    assert main(["resume", done, "--db", url, "--quiet"]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "finished: only a stopped or interrupted run resumes" in said
