"""Wiring the terminal UI to a run: live (a simulation in a worker thread), replay, attach."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from personafm.providers import providers_for
from personafm.runner import run_scenario
from personafm.scenario import Scenario
from sim.events import Event
from sim.models.local import LocalLlamaProvider
from tui.paging import Pager
from tui.sources import AttachSource, LiveSource, StoredSource
from tui.timeline import Timeline


def live_source(
    scenario: Scenario,
    engine: Engine,
    *,
    scenario_path: str = "",
    scenario_text: str = "",
    log_dir: Path | None = None,
    speed: float = 60.0,
    run_kwargs: dict[str, Any] | None = None,
) -> LiveSource:
    """A source whose worker runs ``scenario`` (stored as usual) while the UI watches.

    The local model gets at most half the cores (``default_threads``), so the UI always
    has one, and a second model process on the machine does not make both collapse.
    """
    kwargs = dict(run_kwargs or {})
    if "providers" not in kwargs:  # built here, so a missing key fails before the UI opens
        kwargs["providers"] = providers_for(scenario, local=LocalLlamaProvider())
    timeline = Timeline("", scenario.run.name, scenario.run.seed, scenario.run.start,
                        scenario.run.hours)  # fmt: skip

    def run(
        observers: list[Callable[[Event], None]],
        pace: Callable[[float], None],
        should_stop: Callable[[], bool],
    ) -> None:
        result = run_scenario(
            scenario,
            engine=engine,
            scenario_path=scenario_path,
            scenario_text=scenario_text,
            log_dir=log_dir,
            observers=observers,
            pace=pace,
            should_stop=should_stop,
            **kwargs,
        )
        timeline.run_id = result.run_id

    return LiveSource(timeline, run, speed=speed)


def stored_source(
    engine: Engine, run_id: str, at_s: float = 0.0, page_s: float | None = None
) -> StoredSource:
    """A replay that holds one page of the run at a time (``tui.paging``)."""
    timeline = Timeline.of_run(engine, run_id)
    return StoredSource(timeline, at_s=at_s, pager=Pager(timeline, engine, page_s))


def attach_source(engine: Engine, run_id: str) -> AttachSource:
    return AttachSource(Timeline.of_run(engine, run_id), engine)
