"""Stopping a run from outside: SIGTERM (Docker, systemd) is handled like Ctrl-C, and a
stopped run keeps its rows and its counters."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from sim.store import open_store
from testkit.helpers import default_sigint, scripted_toml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_cleanly_with_its_counters(tmp_path: Path, sig: int) -> None:
    scenario = tmp_path / "long.toml"
    scenario.write_text(scripted_toml(hours=24 * 60, stations=3), encoding="utf-8")
    url = f"sqlite:///{tmp_path}/runs.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "personafm.cli", "run", str(scenario), "--db", url, "--quiet",
         "--log-dir", str(tmp_path / "logs")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=default_sigint,
    )  # fmt: skip
    engine = open_store(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until rows are being written
            with engine.connect() as conn:
                if conn.execute(text("select count(*) from asrun")).scalar_one() > 50:
                    break
            time.sleep(0.1)
        proc.send_signal(sig)
        out = proc.communicate(timeout=60)[0].decode()
    finally:
        proc.kill()
    assert proc.returncode == 130, out
    assert "interrupted: rows written so far are kept" in out
    with engine.connect() as conn:
        status, events, finished = conn.execute(
            text("select status, events, finished_at from runs")
        ).one()
        rows = conn.execute(text("select count(*) from asrun")).scalar_one()
    assert status == "stopped" and finished is not None
    assert events > rows > 50  # the counters are the run's, not zero


def test_a_run_stopped_early_reruns_as_far_as_it_recorded_and_no_further(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from personafm.cli import main

    prices = tmp_path / "prices.toml"
    prices.write_text('version = "t"\n[models."scripted"]\ninput = 1000.0\noutput = 1000.0\n')
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        scripted_toml(hours=24, stations=2, extra=f'prices = "{prices}"'), encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path}/runs.db"
    common = ["--db", url, "--quiet", "--log-dir", str(tmp_path / "logs")]
    assert main(["run", str(scenario), "--max-cost", "3", *common]) == 0
    engine = open_store(url)
    with engine.connect() as conn:
        parent, status = conn.execute(text("select id, status from runs")).one()
    assert status == "cost_limit"
    capsys.readouterr()
    assert main(["rerun", parent, *common]) == 0  # as-run identical, as far as it went
    said = capsys.readouterr()
    assert "cost_limit at" in said.err and "re-running the" in said.err
    assert "as-run identical" in said.out
    with engine.connect() as conn:
        child = conn.execute(text("select id from runs where id != :p"), {"p": parent}).scalar()
        missing = conn.execute(
            text("select count(*) from faults where run_id = :c and detail like '%recorded%'"),
            {"c": child},
        ).scalar_one()
    assert missing == 0  # nothing asked of the recording that it never had
    assert main(["fork", parent, "--at", "20h", *common]) == 2
    assert "past what run" in capsys.readouterr().err
