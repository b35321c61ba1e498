"""Re-running a logged run from its recorded responses, and forking it at a time T.

A re-run rebuilds the run's scenario exactly as it ran (stored as JSON with the
run) and answers every model request from the recording, so it makes no model
calls; its as-run log must equal the parent's. A fork replays the prefix up to
T, then goes live with the changed scenario, as a new run linked to its parent.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, func, select

from analysis.reader import RunData, read_run
from personafm.export import RunNotFound, resolve_run
from personafm.runner import ReplayPlan, ResumePlan, RunResult, run_scenario
from personafm.scenario import (
    Scenario,
    ScenarioError,
    format_errors,
    merge_patch,
    not_utf8,
    parse_scenario,
    set_dotted,
)
from sim.events import ModelCallRow
from sim.models.base import Provider
from sim.replay import Replay
from sim.runstate import run_state
from sim.store import RunRow
from sim.text import excerpt
from stations.records import AsRunRow


def scenario_of(run: RunRow) -> Scenario:
    """The scenario exactly as the run used it (an error if today's ranges refuse it)."""
    if run.scenario_json:
        try:
            return Scenario.model_validate_json(run.scenario_json)
        except ValidationError as exc:
            raise ScenarioError(format_errors(f"run {run.id}", exc)) from None
    if run.scenario_toml:  # runs stored before scenario_json existed
        return parse_scenario(run.scenario_toml, f"run {run.id}")
    raise RunNotFound(f"run {run.id} has no stored scenario to re-run")


@dataclass(slots=True)
class Comparison:
    rows: int
    first_difference: str | None  # None: identical


def compare_asrun(
    engine: Engine, parent_id: str, child_id: str, until_s: float | None = None
) -> Comparison:
    """Compare two runs' as-run logs station by station (a station's rows with the same
    station's rows, by sequence), optionally only segments before T. Streamed: one
    station's rows at a time are held."""
    parent, child = read_run(engine, parent_id), read_run(engine, child_id)

    def rows(data: RunData, station: str) -> list[str]:
        if station not in data.station_names:
            return []
        return [
            json.dumps({k: v for k, v in asdict(r).items() if k not in ("id", "run_id")},
                       ensure_ascii=False)
            for r in data.station(station).stream(AsRunRow, "seq")
            if until_s is None or r.start_s < until_s
        ]  # fmt: skip

    total = 0
    for station in sorted(set(parent.station_names) | set(child.station_names)):
        a, b = rows(parent, station), rows(child, station)
        total += len(a)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return Comparison(total, f"{station} row {i + 1}: parent {x} | re-run {y}")
        if len(a) != len(b):
            return Comparison(total, f"{station}: parent has {len(a)} rows, re-run {len(b)}")
    return Comparison(total, None)


def recorded_until_s(engine: Engine, parent: RunRow) -> float:
    """How far ``parent``'s recording reaches (simulated seconds): its planned end if it
    finished, else the last thing it recorded (a segment that began, or a model call)."""
    if parent.status == "finished":
        return parent.sim_hours * 3600.0
    a, c = AsRunRow.__table__, ModelCallRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        last_segment = conn.execute(select(func.max(a.c.start_s)).where(a.c.run_id == parent.id))
        last_call = conn.execute(select(func.max(c.c.sim_time_s)).where(c.c.run_id == parent.id))
        return max(last_segment.scalar() or 0.0, last_call.scalar() or 0.0)


def rerun(
    engine: Engine,
    ref: str,
    *,
    log_dir: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> tuple[RunRow, RunResult, Comparison]:
    """Re-run ``ref`` from its recording, as far as the recording reaches: a run that was
    stopped early is re-run up to where it stopped (``recorded_until_s``), not beyond."""
    parent = resolve_run(engine, ref)
    scenario = scenario_of(parent)
    end_s = recorded_until_s(engine, parent)
    if end_s < scenario.run.hours * 3600.0:
        hours = (end_s + _INSTANT_S) / 3600.0  # the last recorded instant included
        scenario = scenario.model_copy(
            update={"run": scenario.run.model_copy(update={"hours": hours})}
        )
    result = _replayed(engine, parent, scenario, float("inf"), log_dir, on_progress)
    return (
        parent,
        result,
        compare_asrun(engine, parent.id, result.run_id, until_s=end_s + _INSTANT_S),
    )


_INSTANT_S = 0.001  # past the last recorded instant, before anything later


def fork(
    engine: Engine,
    parent: RunRow,
    scenario: Scenario,
    at_s: float,
    *,
    log_dir: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Replay ``parent`` before ``at_s``, then run ``scenario`` live; a new, linked run."""
    check_fork_time(scenario, at_s)
    check_recorded(engine, parent, at_s)
    return _replayed(engine, parent, scenario, at_s, log_dir, on_progress)


def _replayed(
    engine: Engine,
    parent: RunRow,
    scenario: Scenario,
    until_s: float,
    log_dir: Path,
    on_progress: Callable[[float], None] | None,
) -> RunResult:
    """Run ``scenario`` answering requests before ``until_s`` from ``parent``'s recording."""
    fork_at = None if until_s == float("inf") else until_s
    replay = Replay.from_store(engine, parent.id)
    if fork_at is not None:
        replay.go_live(changed_models(scenario_of(parent), scenario, replay.callers))
    plan = ReplayPlan(replay, parent.id, until_s, fork_at)
    return run_scenario(
        scenario,
        engine=engine,
        scenario_path=parent.scenario_path,
        scenario_text=parent.scenario_toml,
        log_dir=log_dir,
        on_progress=on_progress,
        replay=plan,
    )


def changed_models(before: Scenario, after: Scenario, callers: list[str]) -> set[str]:
    """Callers whose model settings differ between two scenarios (new stations too). A
    request's hash shows its prompt, model and parameters, but not, say, a scripted
    persona's traits: a fork must not answer such a station from the old recording."""
    old = {s.call_sign: before.model_for(s) for s in before.expanded()}
    new = {s.call_sign: after.model_for(s) for s in after.expanded()}
    changed = {c for c, spec in new.items() if old.get(c) != spec}
    if before.sponsor_model() != after.sponsor_model():  # every non-station caller
        changed.update(c for c in callers if c not in new)
    return changed


def check_fork_time(scenario: Scenario, at_s: float) -> None:
    if not 0 < at_s < scenario.run.hours * 3600.0:
        raise ScenarioError(
            f"--at {at_s / 3600:g}h must lie inside the run (0 < T < {scenario.run.hours:g}h)"
        )


RESUMABLE = ("stopped", "interrupted", "failed")


def resume(
    engine: Engine,
    ref: str,
    *,
    log_dir: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
    providers: dict[str, Provider] | None = None,
    cost_limit_usd: float | None = None,
) -> tuple[RunRow, RunResult]:
    """Continue an interrupted or stopped run from its last consistent point, in place.

    The simulation is replayed from the start: calls up to the checkpoint are served
    from the run's own recording (already paid for), the events the store holds are
    skipped, and from the checkpoint on it runs live, writing into the same run.
    """
    row = resolve_run(engine, ref)
    state = run_state(row)
    if state not in RESUMABLE:
        what = {"running": "is still running" + (f" ({row.owner})" if row.owner else "")}
        raise ScenarioError(
            f"run {row.id} {what.get(state, state)}: only a stopped or interrupted run "
            "resumes (a finished one can be forked: `personafm fork`)"
        )
    if row.checkpoint_s is None and not row.owner:
        raise ScenarioError(
            f"run {row.id} has no consistent point stored (an older Persona FM made it): "
            "re-run or fork it instead"
        )
    # killed before its first commit: nothing but the run row is stored; start over in it
    at = row.checkpoint_s if row.checkpoint_s is not None else -1.0
    plan = ResumePlan(Replay.from_store(engine, row.id), at, row.checkpoint_events)
    result = run_scenario(
        scenario_of(row),
        engine=engine,
        run_id=row.id,
        resume=plan,
        scenario_path=row.scenario_path,
        scenario_text=row.scenario_toml,
        log_dir=log_dir,
        on_progress=on_progress,
        providers=providers,
        cost_limit_usd=cost_limit_usd,
    )
    return row, result


def check_recorded(engine: Engine, parent: RunRow, at_s: float) -> None:
    """A fork replays the parent up to ``at_s``: refuse a time past what it recorded."""
    end_s = recorded_until_s(engine, parent)
    if at_s > end_s:
        raise ScenarioError(
            f"--at {at_s / 3600:g}h is past what run {parent.id} recorded: it {parent.status} "
            f"at {end_s / 3600:.3g}h; fork at an earlier time"
        )


def forked_scenario(
    base: Scenario, sets: list[str], patch: Path | None, hours: float | None
) -> Scenario:
    data: dict[str, Any] = base.model_dump(mode="json")
    if patch is not None:
        try:
            merge_patch(data, tomllib.loads(patch.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ScenarioError(f"{patch}: cannot read patch: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ScenarioError(f"{patch}: {not_utf8(exc)}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{patch}: not valid TOML: {exc}") from None
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(
                f"--set {excerpt(item)}: expected KEY=VALUE, e.g. stations.WBRV.seed=9"
            )
        set_dotted(data, key.strip(), _value(raw))
    if hours is not None:
        data["run"]["hours"] = hours
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors("fork", exc)) from None


def _value(raw: str) -> Any:
    """A TOML value if it parses as one (numbers, booleans, lists, quoted strings), else text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
