"""Record and replay: a re-run reproduces the as-run export byte for byte with no model
calls, a changed run is caught at its first differing request, and a fork keeps its
parent's prefix and goes its own way after the fork point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from personafm.cli import main
from personafm.export import resolve_run
from personafm.replaying import fork, forked_scenario, rerun, scenario_of
from personafm.scenario import ScenarioError
from sim.clock import parse_duration
from sim.store import open_store
from testkit.helpers import query_run, scripted_toml


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _export(db: str, run: str, capsys: pytest.CaptureFixture[str], what: str = "asrun") -> str:
    code, out, _ = _cli(["export", run, "--what", what, "--no-run-id", "--db", db], capsys)
    assert code == 0
    return out


def _run_id(out: str) -> str:
    """The id the CLI printed last as ``run <id>``."""
    return [line for line in out.splitlines() if line.startswith("run ")][-1].split()[1]


@pytest.fixture
def recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A 4-hour scripted run stored in a fresh database: (db url, run id)."""
    path = tmp_path / "show.toml"
    path.write_text(scripted_toml(hours=4, stations=3), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    code, out, _ = _cli(
        ["run", str(path), "--db", db, "--quiet", "--log-dir", str(tmp_path)], capsys
    )
    assert code == 0
    return db, _run_id(out)


def test_rerun_reproduces_the_as_run_byte_for_byte(recorded, capsys) -> None:
    db, parent = recorded
    code, out, _ = _cli(["rerun", parent, "--db", db, "--quiet"], capsys)
    assert code == 0
    child = _run_id(out)
    assert f"re-run of {parent}: as-run identical" in out and "0 live model calls" in out
    for what in ("asrun", "ledger", "messages", "negotiations", "ratings"):
        assert _export(db, child, capsys, what) == _export(db, parent, capsys, what), what
    engine = open_store(db)
    sources = query_run(engine, "select distinct source from model_calls where run_id = :r", child)
    assert sources == [("replay",)]
    row = resolve_run(engine, child)
    assert row.parent_run_id == parent and row.fork_at_s is None


def test_a_changed_run_is_reported_at_its_first_differing_request(recorded, capsys) -> None:
    db, parent = recorded
    engine = open_store(db)
    scenario = scenario_of(resolve_run(engine, parent))
    changed = scenario.model_copy(update={"system_prompt": "Be a completely different DJ."})
    with engine.begin() as conn:
        conn.execute(
            text("update runs set scenario_json = :j where id = :r"),
            {"j": changed.model_dump_json(), "r": parent},
        )
    code, _, err = _cli(["rerun", parent, "--db", db, "--quiet"], capsys)
    assert code == 1
    assert "differs" in err
    assert "first differing request: KTA call #1 (recorded seq 1, t=0.0s" in err


def test_fork_keeps_the_prefix_and_changes_the_rest(recorded, capsys, tmp_path: Path) -> None:
    db, parent = recorded
    args = ["fork", parent, "--at", "2h", "--set", "model.persona.verbosity=300", "--db", db]
    code, out, err = _cli([*args, "--quiet", "--log-dir", str(tmp_path)], capsys)
    assert code == 0
    assert "prefix identical" in err
    child = _run_id(out)
    engine = open_store(db)
    row = resolve_run(engine, child)
    assert (row.parent_run_id, row.fork_at_s) == (parent, 7200.0)

    def segments(run: str) -> list[dict]:
        return [json.loads(line) for line in _export(db, run, capsys).splitlines()]

    a, b = segments(parent), segments(child)
    assert [r for r in a if r["start_s"] < 7200] == [r for r in b if r["start_s"] < 7200]
    talk_a = [r["text"] for r in a if r["kind"] == "talk" and r["start_s"] >= 7200]
    talk_b = [r["text"] for r in b if r["kind"] == "talk" and r["start_s"] >= 7200]
    assert talk_a and talk_b and talk_a != talk_b
    words = lambda rows: sum(len(t.split()) for t in rows) / len(rows)  # noqa: E731
    assert words(talk_b) > 2 * words(talk_a)  # the new verbosity after the fork
    sources = dict(
        query_run(
            engine,
            "select source, count(*) from model_calls where run_id = :r group by source",
            child,
        )
    )
    assert sources["replay"] > 0 and sources["live"] > 0


def test_a_fork_answers_from_the_recording_while_a_stations_requests_match(
    recorded, capsys
) -> None:
    """Only the station whose prompt changed goes live at the fork; the others are answered
    from the recording for as long as their requests are the recorded ones."""
    db, parent = recorded
    prompt = "stations.ktb.system_prompt='You are a completely different DJ.'"
    code, out, err = _cli(["fork", parent, "--at", "1h", "--set", prompt, "--db", db, "--quiet"],
                          capsys)  # fmt: skip
    assert code == 0, err
    child = _run_id(out)
    engine = open_store(db)
    after = dict(query_run(engine, "select source, count(*) from model_calls where run_id = :r "
                                   "and sim_time_s >= 3600 group by source", child))  # fmt: skip
    said = re.search(r"after 1h, ([\d,]+) calls were answered from the recording \(requests "
                     r"unchanged\) and ([\d,]+) went live \(callers whose model or requests "
                     r"changed: ([^)]*)\)", " ".join(err.split()))  # fmt: skip
    assert said, err
    served, live, callers = int(said[1].replace(",", "")), int(said[2].replace(",", "")), said[3]
    assert (served, live) == (after.get("replay", 0), after.get("live", 0))
    assert served > 0 and live > 0 and "KTB" in callers.split(", ")
    ktb = query_run(engine, "select distinct source from model_calls where run_id = :r "
                            "and station = 'KTB' and sim_time_s >= 3600", child)  # fmt: skip
    assert ktb == [("live",)]
    code, _, err = _cli(["fork", parent, "--at", "1h", "--set", "stations.KXX.seed=1", "--db", db,
                         "--quiet"], capsys)  # fmt: skip
    assert code == 2 and "no station 'KXX' (stations: KTA, KTB, KTC; or an index from 0)" in err


def test_fork_arguments_are_checked(recorded, tmp_path: Path) -> None:
    db, parent = recorded
    engine = open_store(db)
    run = resolve_run(engine, parent)
    base = scenario_of(run)
    with pytest.raises(ScenarioError, match="must lie inside the run"):
        fork(engine, run, base, 5 * 3600.0)
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        forked_scenario(base, ["seed"], None, None)
    with pytest.raises(ScenarioError, match="no such place"):
        forked_scenario(base, ["stations.9.seed=1"], None, None)
    patch = tmp_path / "patch.toml"
    patch.write_text("[economy]\nstart_balance_usd = 99.0\n[run]\nhours = 2\n", encoding="utf-8")
    patched = forked_scenario(base, ["stations.1.city='Paris'"], patch, None)
    assert patched.economy.start_balance_usd == 99.0 and patched.run.hours == 2
    assert patched.stations[1].city == "Paris" and patched.stations[0].city == base.stations[0].city
    assert [parse_duration(x) for x in ("6h", "90m", "30s", "1.5d", "2")] == [
        21600.0, 5400.0, 30.0, 129600.0, 7200.0,
    ]  # fmt: skip
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.local_model
def test_rerun_of_a_local_model_run_makes_no_model_calls(engine: Engine, tmp_path: Path) -> None:
    from personafm.runner import run_scenario
    from personafm.scenario import load_scenario

    scenario, _, _ = load_scenario("default", {"run.hours": 0.25})
    scenario = scenario.model_copy(update={"stations": scenario.stations[:2]})
    original = run_scenario(scenario, engine=engine, log_dir=tmp_path)
    assert original.live_calls >= 2
    _, again, comparison = rerun(engine, original.run_id, log_dir=tmp_path)
    assert again.live_calls == 0 and again.replayed_calls == original.model_calls
    assert comparison.first_difference is None and again.divergence is None
