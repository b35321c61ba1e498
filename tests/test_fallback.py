"""Invalid or failed model output is a logged fault; automation keeps the station on air."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

from sim.models.base import ModelRequest, ModelResponse
from testkit.helpers import export_rows, query_run, run, scripted_scenario

BAD_OUTPUTS = [
    ModelResponse(text="Sure! Here is my turn: talk about music"),
    ModelResponse(text='{"talk": 5, "queue": "s0001"}'),
    ModelResponse(text=""),
    ModelResponse(text="[1, 2, 3]"),
    ModelResponse(text="", ok=False, error="TimeoutError: model took too long"),
]


class Misbehaving:
    name = "scripted"
    max_concurrency = 0

    def __init__(self) -> None:
        self._outputs = itertools.cycle([*BAD_OUTPUTS, "raise"])

    def complete(self, request: ModelRequest) -> ModelResponse:
        out = next(self._outputs)
        if out == "raise":
            raise ConnectionError("server went away")
        return out  # type: ignore[return-value]


def test_bad_output_falls_back_to_rotation_without_dead_air(engine, tmp_path: Path) -> None:
    scenario = scripted_scenario(hours=4, stations=2)
    result = run(scenario, engine, tmp_path, providers={"scripted": Misbehaving()})
    assert result.status == "finished"
    rows = export_rows(engine, result.run_id, "asrun")
    aired = [r for r in rows if r["status"] == "aired"]
    assert not [r for r in aired if r["source"] == "model"]
    assert {r["kind"] for r in aired} == {"song", "id", "ad"}
    assert all(r["source"] == "rotation" for r in aired if r["kind"] == "song")
    by_station = defaultdict(list)
    for r in aired:
        by_station[r["station"]].append(r)
    for segs in by_station.values():  # no dead air: each segment starts as the last one ends
        segs.sort(key=lambda r: r["start_s"])
        assert segs[0]["start_s"] == 0
        for a, b in itertools.pairwise(segs):
            assert abs(b["start_s"] - a["end_s"]) < 1e-6
        assert segs[-1]["end_s"] >= 4 * 3600
    faults = query_run(engine, "select kind, detail from faults where run_id = :r", result.run_id)
    kinds = {k for k, _ in faults}
    # a caller the station could not answer is declined, with the reason
    assert kinds == {"invalid_output", "model_error", "call_declined"}
    details = " ".join(d for _, d in faults)
    assert "not JSON" in details and "talk" in details and "empty output" in details
    assert "expected a JSON object" in details
    assert "ConnectionError: server went away" in details and "TimeoutError" in details
    calls = export_rows(engine, result.run_id, "calls")
    assert len(calls) == len(faults)  # every call is recorded, ok or not
    assert sum(not c["ok"] for c in calls) == sum(
        k == "model_error" or (k == "call_declined" and "model error" in d) for k, d in faults
    )
