"""The command line: run, runs, export; clear errors instead of tracebacks."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from personafm.cli import main
from personafm.export import columns
from testkit.helpers import scripted_toml


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(scripted_toml(hours=2, stations=2), encoding="utf-8")
    return path


def test_run_runs_export_roundtrip(tmp_path: Path, scenario_file: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert (
        main(
            [
                "run",
                str(scenario_file),
                "--db",
                db,
                "--quiet",
                "--hours",
                "1.5",
                "--log-dir",
                str(tmp_path / "logs"),
                "--wide",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    run_id = out.strip().splitlines()[-1].removeprefix("run ")
    assert "KTA" in out and "KTB" in out and "talk words" in out

    assert main(["runs", "--json", "--db", db]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in runs] == [run_id]
    assert runs[0]["status"] == "finished" and runs[0]["sim_hours"] == 1.5
    assert runs[0]["stations"] == 2

    out_csv = tmp_path / "asrun.csv"
    assert (
        main(
            [
                "export",
                "latest",
                "--what",
                "asrun",
                "--format",
                "csv",
                "--out",
                str(out_csv),
                "--db",
                db,
            ]
        )
        == 0
    )
    with out_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == columns("asrun")
    assert {r["run_id"] for r in rows} == {run_id}
    assert max(float(r["start_s"]) for r in rows) < 1.5 * 3600

    for what in ("calls", "ledger"):
        assert main(["export", run_id[:17], "--what", what, "--db", db]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines and all(tuple(json.loads(x)) == columns(what) for x in lines)
    log = (tmp_path / "logs" / f"{run_id}.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(x)["event"] for x in log]
    assert events[0] == "run_started" and events[-1] == "run_ended"
    assert {"SegmentAired", "ModelCalled", "MoneyMoved"} <= set(events)


def test_user_errors_are_clear_and_exit_2(tmp_path: Path, scenario_file: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["export", "latest", "--db", db]) == 2
    assert "no runs in this database yet" in capsys.readouterr().err
    assert main(["export", "nope", "--db", db]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text(scenario_file.read_text().replace("hours = 2", "hours = 0"))
    assert main(["run", str(bad), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "run.hours" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--hours", "-3"])
    assert exit_info.value.code == 2
    assert "must be greater than 0" in capsys.readouterr().err
    assert main(["run", str(scenario_file), "--db", "nosuchdialect://x"]) == 2
    assert "database" in capsys.readouterr().err.lower()


def test_console_script_is_installed() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "personafm"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "export" in proc.stdout
