"""A newcomer's first hour: the demo, output that reads at 80 columns, runs that can be
told apart and inspected, helpful errors, and nothing written into the checkout."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from personafm.cli import main
from personafm.experiments.spec import load_experiment
from sim.paths import LOG_DIR_ENV
from sim.store import open_store
from testkit.helpers import scripted_toml

WIDTH = 80


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _run_id(out: str) -> str:
    return [line for line in out.splitlines() if line.startswith("run ")][-1].split()[1]


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "two.toml"
    path.write_text(scripted_toml(hours=1, stations=3), encoding="utf-8")
    return path


def _fits(out: str) -> None:
    """Every line fits the terminal, and no cell was cut short with an ellipsis."""
    table = [line for line in out.splitlines() if "──" in line or "  " in line]
    assert table and all(len(line) <= WIDTH for line in table), out
    assert "…" not in out, out


def test_the_run_summary_reads_at_80_columns(narrow, scenario, tmp_path, capsys) -> None:
    db = str(tmp_path / "runs.db")  # a plain path: a SQLite file
    code, out, err = _cli(["run", str(scenario), "--db", db, "--quiet", "--label", "try A"],
                          capsys)  # fmt: skip
    assert code == 0, err
    assert "1 hour simulated" in err and "hours simulated" not in err
    _fits(out)
    header = out.splitlines()[0].split()
    assert header == ["station", "model", "songs", "talk", "calls", "AQH", "$", "balance",
                      "faults"]  # fmt: skip
    assert all(f"KT{c}" in out for c in "ABC") and "scripted-persona" in out
    run_id = _run_id(out)
    lines = out.splitlines()
    assert [line for line in lines if run_id in line and "event log" not in line] == [
        f"run {run_id}"
    ]  # the id once, last, where a script finds it
    code, wide, _ = _cli(["run", str(scenario), "--db", db, "--quiet", "--wide"], capsys)
    assert "talk words" in wide and "income usd" in wide
    code, raw, _ = _cli(["run", str(scenario), "--db", db, "--quiet", "--json"], capsys)
    summary = json.loads(raw)  # JSON alone on standard output
    assert summary["status"] == "finished" and len(summary["stations"]) == 3
    assert {"talk_words", "income_usd", "balance_usd"} <= set(summary["stations"][0])


def test_runs_shows_whole_ids_labels_and_the_hours_really_run(
    narrow, scenario, tmp_path, capsys
) -> None:
    db = str(tmp_path / "runs.db")
    ids = []
    for label in ("prompt A", "prompt B, a label long enough to wrap in its column"):
        code, out, _ = _cli(["run", str(scenario), "--db", db, "--quiet", "--name", "ab",
                             "--label", label], capsys)  # fmt: skip
        ids.append(_run_id(out))
    engine = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    with engine.begin() as conn:  # as a run stopped at half an hour would be
        conn.execute(text("update runs set status = 'stopped', checkpoint_s = 1800 "
                          "where id = :r"), {"r": ids[1]})  # fmt: skip
    code, out, _ = _cli(["runs", "--db", db], capsys)
    assert code == 0
    _fits(out)
    assert all(run_id in out for run_id in ids)  # whole, on one line each
    lines = {run_id: next(line for line in out.splitlines() if run_id in line) for run_id in ids}
    assert re.search(r"ab · prompt A\s+finished\s+1\s+3\s+\d+", lines[ids[0]])
    assert re.search(r"stopped\s+0\.5 of 1\s+3\s+[1-9]", lines[ids[1]])
    code, raw, _ = _cli(["runs", "--db", db, "--json"], capsys)
    runs = json.loads(raw)
    assert [(r["label"], r["sim_hours_done"]) for r in runs] == [
        ("prompt A", 1.0), ("prompt B, a label long enough to wrap in its column", 0.5),
    ]  # fmt: skip
    code, wide, _ = _cli(["runs", "--db", db, "--wide"], capsys)
    assert "created at" in wide and "cost usd" in wide


def test_show_prints_a_run_as_it_ran_and_its_scenario_runs_again(
    scenario, tmp_path, capsys
) -> None:
    db = str(tmp_path / "runs.db")
    code, out, _ = _cli(["run", str(scenario), "--db", db, "--quiet", "--label", "first"],
                        capsys)  # fmt: skip
    run_id = _run_id(out)
    code, shown, err = _cli(["show", run_id[:12], "--db", db], capsys)
    assert code == 0, err
    assert f"run {run_id}" in shown and "first" in shown and "finished · seed 3" in shown
    assert "KTA Test 0 (Testville) · scripted/scripted-persona" in shown
    assert re.search(r"prompt sha256 [0-9a-f]{16}… \(the text: --prompts\)", shown)
    stations = shown.split("scenario as run")[0]
    assert "harness: tools: queue" in stations and "broadcast forever" not in stations
    code, full, _ = _cli(["show", run_id, "--db", db, "--prompts"], capsys)
    assert full.split("scenario as run")[0].count("You will broadcast forever.") == 3
    again = tmp_path / "as_run.toml"
    again.write_text(shown.split("`personafm run` takes it as a file):\n", 1)[1], encoding="utf-8")
    code, out2, _ = _cli(["run", str(again), "--db", db, "--quiet", "--json"], capsys)
    data = json.loads(out2)
    code, first, _ = _cli(["show", run_id, "--db", db, "--json"], capsys)
    assert data["events"] == json.loads(first)["run"]["events"]  # the same run, again


def test_plain_db_paths_and_wrong_names_get_errors_that_name_the_fix(
    scenario, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _cli(["run", str(scenario), "--db", "relative.db", "--quiet"], capsys)
    assert code == 0 and (tmp_path / "relative.db").exists()
    run_id = _run_id(out)
    with pytest.raises(SystemExit):
        main(["runs", "--db", ""])
    assert "give a file path (runs.db) or a URL" in capsys.readouterr().err
    code, _, err = _cli(["export-audio", run_id, "--station", "kxyz", "--out", "x.wav",
                         "--db", "relative.db"], capsys)  # fmt: skip
    assert code == 2 and "has no station 'kxyz' (stations: KTA, KTB, KTC)" in err
    code, _, err = _cli(["export-audio", run_id, "--station", "kta", "--from", "5h", "--out",
                         "x.wav", "--db", "relative.db"], capsys)  # fmt: skip
    assert code == 2 and "no talk or ad reads for KTA" in err and "widen --from/--to" in err


def test_csv_times_are_written_as_people_read_them(scenario, tmp_path, capsys) -> None:
    db = str(tmp_path / "runs.db")
    _cli(["run", str(scenario), "--db", db, "--quiet"], capsys)
    _, out, _ = _cli(["export", "latest", "--what", "calls", "--format", "csv", "--db", db],
                     capsys)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    times = [r["sim_time_s"] for r in rows] + [r["latency_s"] for r in rows]
    assert times and all(len(t.replace(".", "").lstrip("0")) <= 12 for t in times)


def test_the_demo_runs_offline_scores_and_says_where_to_look(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path / "logs"))
    monkeypatch.delenv("DISPLAY", raising=False)
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    t0 = time.perf_counter()
    code, out, err = _cli(["demo", "--db", db], capsys)
    took = time.perf_counter() - t0
    assert code == 0, err
    assert "persona scoreboard (judge: rules-v1)" in out and "divergence of talk" in out
    for station in ("KALF", "WBRV", "KCHL", "WDLT"):
        assert station in out
    report = tmp_path / "logs" / "demo" / "report.html"
    assert report.exists() and (report.parent / "scoreboard.json").exists()
    assert f"report: {report}" in out and "(open it in a browser)" in out
    assert "personafm replay latest --db" in out and "personafm experiment ab_prompt" in out
    assert took < 60  # the tour's promise (measured: ~7 s on 2 cores)
    code, runs, _ = _cli(["runs", "--db", db, "--json"], capsys)
    (run,) = json.loads(runs)
    assert (run["name"], run["label"], run["status"]) == ("demo", "scripted personas", "finished")


def test_experiment_cells_are_labelled_by_arm_and_seed() -> None:
    exp, _, _ = load_experiment("ab_prompt")
    run = exp.cell_scenario("skeptic", 4).run
    assert (run.name, run.label) == ("ab_prompt:skeptic", "skeptic seed 4")


def test_default_logs_go_where_the_environment_says(scenario, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path / "elsewhere"))
    code, out, _ = _cli(["run", str(scenario), "--quiet"], capsys)
    assert code == 0
    run_id = _run_id(out)
    assert (tmp_path / "elsewhere" / f"{run_id}.jsonl").exists()
    assert (tmp_path / "elsewhere" / "personafm.db").exists()
