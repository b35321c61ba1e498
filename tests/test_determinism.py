"""Same scenario + seed with the scripted model: identical exports (as-run, ledger, ratings,
messages, negotiations, contracts). Another seed: different."""

from __future__ import annotations

from pathlib import Path

from personafm.export import whats
from testkit.helpers import export_rows, run, scripted_scenario


def _without_run_id(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "run_id"} for r in rows]


def test_same_seed_same_logs_other_seed_other_logs(engine, tmp_path: Path) -> None:
    a = run(scripted_scenario(hours=12, seed=21), engine, tmp_path)
    b = run(scripted_scenario(hours=12, seed=21), engine, tmp_path)
    c = run(scripted_scenario(hours=12, seed=22), engine, tmp_path)
    assert a.run_id != b.run_id
    for what in whats():
        if what == "calls":
            continue  # latency is wall-clock; compared by request hash below
        rows = _without_run_id(export_rows(engine, a.run_id, what))
        assert rows or what == "contracts", f"{what}: nothing to compare"
        assert rows == _without_run_id(export_rows(engine, b.run_id, what)), what
    calls = [export_rows(engine, r.run_id, "calls") for r in (a, b)]
    assert [x["request_hash"] for x in calls[0]] == [x["request_hash"] for x in calls[1]]
    asrun_a = _without_run_id(export_rows(engine, a.run_id, "asrun"))
    assert len(asrun_a) > 500
    assert asrun_a != _without_run_id(export_rows(engine, c.run_id, "asrun"))
