"""Hostile input never gives a traceback: files, huge values, run references, CLI flags,
closed pipes and terminal escapes all end in a clear message (issue 9, inputs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

import personafm.runner
from personafm.cli import main
from personafm.export import RunNotFound, resolve_run
from personafm.replaying import forked_scenario
from personafm.scenario import ScenarioError, load_scenario, parse_scenario
from sim.models.base import ProviderError
from sim.models.prices import PriceTable
from sim.store import RunRow
from testkit.helpers import PROMPT, run, scripted_scenario, scripted_toml

NOT_UTF8 = b"\xff\xfe\x00bad"
PERSONAFM = str(Path(sys.executable).parent / "personafm")


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _not_utf8(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(NOT_UTF8)
    return path


# -- files must be UTF-8 ------------------------------------------------------------------
def test_a_scenario_that_is_not_utf8_is_a_clear_error(tmp_path: Path, db: str, capsys) -> None:
    bad = _not_utf8(tmp_path, "latin.toml")
    with pytest.raises(ScenarioError, match=r"latin\.toml: not UTF-8 text \(byte 0xff"):
        load_scenario(bad)
    assert main(["run", str(bad), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "latin.toml" in err and "UTF-8" in err and "Traceback" not in err


def test_a_patch_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    bad = _not_utf8(tmp_path, "patch.toml")
    with pytest.raises(ScenarioError, match=r"patch\.toml: not UTF-8 text"):
        forked_scenario(scripted_scenario(hours=1), [], bad, None)


def test_a_price_table_that_is_not_utf8_is_a_clear_error(tmp_path: Path, capsys) -> None:
    bad = _not_utf8(tmp_path, "prices.toml")
    with pytest.raises(ProviderError, match=r"prices\.toml: not UTF-8 text"):
        PriceTable.load(bad)
    scenario = tmp_path / "s.toml"
    scenario.write_text(scripted_toml(hours=1), encoding="utf-8")
    assert main(["run", str(scenario), "--prices", str(bad), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "prices.toml" in err and "UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[models."x"]\ninput = inf\noutput = 1\n', "prices must be from 0"),
        ('[models."x"]\ninput = nan\noutput = 1\n', "prices must be from 0"),
        ("models = 3\n", "'models' must be a table"),
        ('[models."x"]\ninput = 1' + "0" * 400 + "\noutput = 1\n", "needs numbers"),
        ('version = "' + "v" * 10_000 + '"\n', "'version' must be a short string"),
    ],
)
def test_a_hostile_price_table_is_a_clear_error(table: str, expected: str) -> None:
    with pytest.raises(ProviderError, match=expected) as err:
        PriceTable.parse(table, "p.toml")
    assert len(str(err.value)) < 500


# -- errors quote only an excerpt ---------------------------------------------------------
MEGA = "A" * 1_000_000


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ((PROMPT, MEGA), "system_prompt"),
        (('call_sign = "KTA"', f'call_sign = "{MEGA}"'), "stations.0.call_sign"),
        (('city = "Testville"', f'city = "{MEGA}"'), "stations.0.city"),
        (("[run]\n", f'[run]\n"{MEGA}" = 1\n'), "run."),
        (('name = "test"', f'name = "{MEGA}"'), "run.name"),
        (("[run]\n", f'[run]\nprices = "{MEGA}"\n'), "run.prices"),
    ],
)
def test_a_megabyte_value_gives_a_short_error(mutation: tuple[str, str], field: str) -> None:
    text = scripted_toml(hours=1, stations=1).replace(*mutation, 1)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "big.toml")
    message = str(err.value)
    assert field in message and len(message) < 500, message[:1000]


def test_a_megabyte_station_prompt_and_probe_station_give_short_errors() -> None:
    text = scripted_toml(hours=1, stations=1).replace(
        'city = "Testville"', f'city = "T"\nsystem_prompt = "{MEGA}"', 1
    )
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "big.toml")
    assert "stations.0.system_prompt" in str(err.value) and len(str(err.value)) < 500
    text = scripted_toml(hours=1, stations=1) + (
        f'[[listeners.probes]]\ncategory = "politics"\nstations = ["{MEGA}"]\n'
    )
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "big.toml")
    assert "no such station" in str(err.value) and len(str(err.value)) < 500


def test_set_of_a_huge_unknown_path_gives_a_short_error() -> None:
    with pytest.raises(ScenarioError) as err:
        forked_scenario(scripted_scenario(hours=1), [f"stations.{'9' * 100_000}.seed=1"], None, 1)
    assert len(str(err.value)) < 500
    with pytest.raises(ScenarioError) as err:
        forked_scenario(scripted_scenario(hours=1), [MEGA], None, 1)
    assert "expected KEY=VALUE" in str(err.value) and len(str(err.value)) < 500


def test_a_cli_error_about_a_huge_argument_is_short(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--hours", "9" * 100_000])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--hours" in err and len(err) < 1500 and "Traceback" not in err


# -- no run stays 'running' ---------------------------------------------------------------
def test_a_failure_while_building_the_world_marks_the_run_failed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no world today")

    monkeypatch.setattr(personafm.runner, "build_world", broken)
    with pytest.raises(RuntimeError, match="no world today"):
        run(scripted_scenario(hours=1, stations=1), engine, tmp_path)
    with Session(engine) as session:
        rows = session.exec(select(RunRow)).all()
    assert [r.status for r in rows] == ["failed"] and rows[0].finished_at is not None
    log = (tmp_path / "logs" / f"{rows[0].id}.jsonl").read_text(encoding="utf-8").splitlines()
    last = json.loads(log[-1])
    assert last["event"] == "run_ended" and last["status"] == "failed"


def test_an_unusable_log_dir_marks_the_run_failed_and_the_cli_says_why(
    tmp_path: Path, db: str, capsys
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scripted_toml(hours=0.1, stations=1), encoding="utf-8")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    args = ["run", str(scenario), "--db", db, "--quiet", "--log-dir", str(blocker / "logs")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not-a-dir" in err and "Traceback" not in err
    assert main(["runs", "--json", "--db", db]) == 0
    assert [r["status"] for r in json.loads(capsys.readouterr().out)] == ["failed"]


# -- run ids are matched literally --------------------------------------------------------
def _stored_run(engine: Engine, run_id: str) -> None:
    with Session(engine) as session:
        session.add(RunRow(id=run_id, name="t", seed=0, sim_start="", sim_hours=1.0))
        session.commit()


def test_run_prefixes_are_literal_not_sql_patterns(engine: Engine) -> None:
    _stored_run(engine, "20260101-aaa")
    _stored_run(engine, "20260101-abb")
    for ref in ("2026010_-a", "%", "_", "%a", "20260101-a_a", "2026%"):
        with pytest.raises(RunNotFound, match="no run"):
            resolve_run(engine, ref)
    assert resolve_run(engine, "20260101-aa").id == "20260101-aaa"
    assert resolve_run(engine, "20260101-ab").id == "20260101-abb"
    assert resolve_run(engine, "20260101-abb").id == "20260101-abb"
    with pytest.raises(RunNotFound, match="more than one run"):
        resolve_run(engine, "20260101-a")


def test_a_run_id_with_wildcard_characters_is_found_by_its_prefix(engine: Engine) -> None:
    _stored_run(engine, "x%_y-1")
    _stored_run(engine, "xa_y-2")
    assert resolve_run(engine, "x%").id == "x%_y-1"
    with pytest.raises(RunNotFound):
        resolve_run(engine, "x_")


# -- CLI numbers are bounded like the settings they override ------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--hours", "inf"],
        ["run", "--hours", "nan"],
        ["run", "--hours", "1e400"],
        ["run", "--hours", "8785"],
        ["run", "--max-cost", "inf"],
        ["run", "--max-cost", "1e17"],
        ["run", "--seed", "99999999999999999999999"],
        ["run", "--seed", str(2**63)],
        ["run", "--seed", "-1"],
        ["watch", "--hours", "inf"],
        ["watch", "--seed", "99999999999999999999999"],
        ["fork", "latest", "--at", "1h", "--hours", "inf"],
    ],
)
def test_out_of_range_numbers_are_argparse_errors(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument --" in err and "must be" in err and "Traceback" not in err


def test_the_largest_seed_is_accepted(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scripted_toml(hours=1), encoding="utf-8")
    assert main(["run", str(scenario), "--seed", str(2**63 - 1), "--dry-run"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("at", ["1e400h", "9" * 400, "soon"])
def test_a_bad_duration_is_a_clear_error(at: str, db: str, capsys) -> None:
    assert main(["replay", "latest", "--at", at, "--db", db]) == 2
    err = capsys.readouterr().err
    assert "--at: expected a duration" in err and len(err) < 500


# -- a closed pipe ends quietly -----------------------------------------------------------
def test_export_into_a_pipe_closed_early_ends_quietly(engine: Engine, tmp_path: Path) -> None:
    result = run(
        scripted_scenario(hours=24, stations=2, extra="event_log = false"), engine, tmp_path
    )
    db = str(engine.url)
    proc = subprocess.run(
        ["bash", "-c", '"$0" export "$1" --what asrun --db "$2" | head -1; exit "${PIPESTATUS[0]}"',
         PERSONAFM, result.run_id, db],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["run_id"] == result.run_id  # head got its one line
    assert proc.returncode == 141


# -- what reaches the terminal ------------------------------------------------------------
HOSTILE = "\x1b[2J[bold]boom[/bold]\x07"


def test_an_error_never_sends_escapes_or_markup_to_the_terminal(db: str, capsys) -> None:
    assert main(["run", f"{HOSTILE}.toml", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "[bold]boom[/bold]" in err  # shown as typed, not read as rich markup
    assert main(["export", HOSTILE, "--db", db]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "[bold]boom[/bold]" in err


def test_tables_show_hostile_run_names_inertly(tmp_path: Path, db: str, capsys) -> None:
    scenario = tmp_path / "s.toml"
    text = scripted_toml(hours=0.2, stations=1).replace(
        'name = "test"', 'name = "\\u001b[2J[bold]boom[/bold]\\u009b"', 1
    )
    scenario.write_text(text, encoding="utf-8")
    args = ["run", str(scenario), "--db", db, "--quiet", "--log-dir", str(tmp_path / "logs")]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert main(["runs", "--db", db]) == 0
    listing = capsys.readouterr().out
    for text in (captured.out, captured.err, listing):
        assert "\x1b" not in text and "\x9b" not in text
    assert "[bold]boom" in captured.err and "[bold]boom" in listing


def test_a_stored_scenario_outside_today_s_ranges_is_a_clear_error(engine: Engine, capsys) -> None:
    stored = json.loads(scripted_scenario(hours=1).model_dump_json())
    stored["economy"]["start_balance_usd"] = 1e17  # stored before the range existed
    with Session(engine) as session:
        session.add(
            RunRow(id="old-run", name="t", seed=0, sim_start="", sim_hours=1.0,
                   scenario_json=json.dumps(stored))
        )  # fmt: skip
        session.commit()
    assert main(["rerun", "old-run", "--db", str(engine.url), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "run old-run: invalid scenario" in err and "start_balance_usd" in err
    assert "Traceback" not in err
