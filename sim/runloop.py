"""The run loop: SimPy stepping with model-call batching at each instant."""

from __future__ import annotations

from collections.abc import Callable

import simpy

from sim.dispatch import Dispatcher


def run_until(
    env: simpy.Environment,
    until: float,
    dispatcher: Dispatcher,
    on_progress: Callable[[float], None] | None = None,
    progress_every: int = 5_000,
    should_stop: Callable[[], bool] | None = None,
    pace: Callable[[float], None] | None = None,
    tally: list[int] | None = None,
    on_instant: Callable[[float, int], None] | None = None,
) -> int:
    """Process events up to (not including) ``until``; return how many were processed.

    Requests raised at one instant are flushed together once every process at
    that instant has had its turn, i.e. when the next event lies in the future.
    ``should_stop`` is polled at every instant boundary (so a stop never splits an
    instant); it ends the run early (a cost limit, a UI, a signal). ``pace(t)`` is called
    before each step with the time of the next event: a UI uses it to run at wall-clock
    speed, pause or step.
    ``tally[0]`` gets the count even when the loop is interrupted (Ctrl-C, SIGTERM).
    ``on_instant(now, steps)`` is called whenever every event at ``now`` has run and the
    clock is about to move on: a consistent point, where the recorder may commit.
    """
    steps = 0
    peek, step = env.peek, env.step
    try:
        while True:
            t = peek()
            if t > env.now:  # every event at this instant has run, unless calls are pending
                if dispatcher.has_pending:
                    dispatcher.flush()
                    continue
                # a consistent point: a stop, or a commit, never splits an instant
                if on_instant is not None:
                    on_instant(env.now, steps)
                if should_stop is not None and should_stop():
                    break
            if t >= until:
                break
            if pace is not None:
                pace(t)
            step()
            steps += 1
            if steps % progress_every == 0 and on_progress is not None:
                on_progress(env.now)
    finally:
        if tally is not None:
            tally[0] = steps
    return steps
