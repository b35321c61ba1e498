"""Where the UI's rows come from: a live simulation, a stored run, or a run being written.

Each source fills a ``Timeline`` and says what simulated time to show. Only the
UI thread touches the timeline: the live worker and the attach poller hand rows
over through a queue that the UI drains on its refresh tick.

The live simulation's pacing is ``tui.pacer.Pacer``.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine

from economy.airplay import SegmentStatus
from sim.dispatch import report_waits
from sim.events import Event
from tui.pacer import Pacer
from tui.paging import Pager, last_ids, page_seconds
from tui.timeline import Timeline

SPEEDS: tuple[float, ...] = (1.0, 10.0, 60.0, math.inf)
MAX_DRAIN = 20_000  # rows applied per UI tick, so a burst never freezes the screen


def speed_label(speed: float) -> str:
    return "max" if math.isinf(speed) else f"{speed:g}×"


class Source(Protocol):
    timeline: Timeline
    mode: str  # live | replay | attach

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def poll(self) -> int: ...  # apply pending rows; return how many
    def now(self) -> float: ...
    @property
    def paused(self) -> bool: ...
    @property
    def speed(self) -> float: ...
    def toggle_pause(self) -> None: ...
    def cycle_speed(self) -> None: ...
    def step(self, direction: int = 1) -> None: ...
    def seek(self, t: float) -> None: ...
    @property
    def finished(self) -> bool: ...
    def waiting(self) -> dict[str, float]: ...  # station -> seconds waited on a model


RunFn = Callable[[list[Callable[[Event], None]], Callable[[float], None], Callable[[], bool]], Any]


class LiveSource:
    """Runs the simulation in a worker thread; rows reach the UI through a queue."""

    mode = "live"

    def __init__(self, timeline: Timeline, run: RunFn, speed: float = 60.0) -> None:
        self.timeline = timeline
        self._run = run
        self.pacer = Pacer(speed=speed)
        self._rows: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self._sim_now = 0.0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        # station -> when (monotonic) its model call began; the sim thread writes it
        self._waiting: dict[str, float] = {}
        self._waiting_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="simulation", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # Linux: niceness is per thread
            # the UI thread must win the CPU; threads the model starts inherit this
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            with report_waits(self._calls_started):
                self._run([self._observe], self._pace, lambda: self.pacer.stopped)
        except BaseException as exc:  # shown by the UI; the thread must not die silently
            self.error = exc
        finally:
            with self._waiting_lock:
                self._waiting.clear()
            self._done.set()

    def _calls_started(self, stations: list[str]) -> None:
        """The sim thread is about to wait on these stations' model calls."""
        now = time.monotonic()
        with self._waiting_lock:
            for station in stations:
                self._waiting.setdefault(station, now)

    def _pace(self, t: float) -> None:
        self.pacer.wait(t)
        self._sim_now = max(self._sim_now, t)

    def _observe(self, event: Event) -> None:
        table = event.table
        if table is None:
            return
        name = table.__tablename__  # type: ignore[attr-defined]
        row = event.row()
        self._rows.put((name, row))
        if name == "model_calls" and self._waiting:
            with self._waiting_lock:
                self._waiting.pop(row["station"], None)
        if name == "asrun" and row.get("status") == SegmentStatus.AIRED:
            self.pacer.segment_aired()

    def stop(self) -> None:
        self.pacer.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poll(self) -> int:
        n = 0
        while n < MAX_DRAIN:
            try:
                table, row = self._rows.get_nowait()
            except queue.Empty:
                break
            self.timeline.apply(table, row)
            n += 1
        _keep_recent(self.timeline, self._sim_now)
        return n

    def now(self) -> float:
        return self._sim_now

    @property
    def paused(self) -> bool:
        return self.pacer.paused

    @property
    def speed(self) -> float:
        return self.pacer.speed

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def waiting(self) -> dict[str, float]:
        """How long each station has been waiting on its model call, in seconds."""
        now = time.monotonic()
        with self._waiting_lock:
            return {station: now - t0 for station, t0 in self._waiting.items()}

    def toggle_pause(self) -> None:
        self.pacer.set_paused(not self.pacer.paused)

    def cycle_speed(self) -> None:
        self.pacer.set_speed(_next_speed(self.pacer.speed))

    def step(self, direction: int = 1) -> None:
        if direction > 0:
            self.pacer.step()

    def seek(self, t: float) -> None:  # a live run cannot go back in time
        return


class StoredSource:
    """A run in the store: a playhead that plays at any speed, steps and seeks.

    With a ``pager`` the timeline holds only the page of time around the playhead."""

    mode = "replay"

    def __init__(
        self,
        timeline: Timeline,
        at_s: float = 0.0,
        speed: float = 60.0,
        pager: Pager | None = None,
    ) -> None:
        self.timeline = timeline
        self.pager = pager
        self._speed = speed
        self._paused = True
        self._tick_wall: float | None = None
        self._segment_times: tuple[int, list[float]] | None = None
        self._t = 0.0
        self._goto(at_s)

    def _goto(self, t: float) -> None:
        self._t = t
        if self.pager is not None:
            self.pager.ensure(t)

    def start(self) -> None:
        return

    def stop(self) -> None:
        return

    def poll(self) -> int:
        now = time.monotonic()
        if not self._paused and self._tick_wall is not None:
            step = (now - self._tick_wall) * (self._speed if not math.isinf(self._speed) else 3600)
            self._goto(min(self.end_s, self._t + step))
            if self._t >= self.end_s:
                self._paused = True
        self._tick_wall = now
        return 0

    @property
    def end_s(self) -> float:
        return max(self.timeline.end_s, self.timeline.hours * 3600.0)

    @property
    def past_end(self) -> bool:
        """Whether the run has nothing after the playhead (a seek past it stops there)."""
        return self._t >= self.end_s

    def now(self) -> float:
        return self._t

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def finished(self) -> bool:
        return self._t >= self.end_s

    def waiting(self) -> dict[str, float]:
        return {}  # a stored run calls no model

    def toggle_pause(self) -> None:
        self._paused = not self._paused
        self._tick_wall = time.monotonic()

    def cycle_speed(self) -> None:
        self._speed = _next_speed(self._speed)

    def _times(self) -> list[float]:
        version = self.timeline.version
        if self._segment_times is None or self._segment_times[0] != version:
            self._segment_times = (version, self.timeline.segment_times())
        return self._segment_times[1]

    def step(self, direction: int = 1) -> None:
        """Move to the next (or previous) segment start of any station (a paged replay
        asks the store, so the step crosses pages and stations not shown)."""
        if self.pager is not None:
            found = self.pager.next_start(self._t, direction)
        else:
            times = self._times()
            if direction > 0:
                later = times[bisect_right(times, self._t) :]
                found = later[0] if later else None
            else:
                earlier = times[: bisect_left(times, self._t)]
                found = earlier[-1] if earlier else None
        if found is not None:
            self._goto(found)

    def seek(self, t: float) -> None:
        self._goto(min(max(0.0, t), self.end_s))


class AttachSource(StoredSource):
    """Follows a run another process is writing: polls the store and keeps up with it.

    It holds the last page of time while following (older rows are trimmed as the run
    goes on); seeking further back loads that page and holds it until following again."""

    mode = "attach"

    def __init__(self, timeline: Timeline, engine: Engine, every_s: float = 0.5) -> None:
        super().__init__(timeline)
        self._engine = engine
        self._every_s = every_s
        self._last_poll = 0.0
        self._following = True
        self._page_s = page_seconds(len(timeline.stations))
        self._held: Pager | None = None  # the page shown while not following
        self._load_edge()

    def _load_edge(self) -> None:
        """Hold the last page and everything after it; ``catch_up`` goes on from the rows
        there now (each station reads its part when it is shown)."""
        tl = self.timeline
        tl._last_ids.update(last_ids(self._engine, tl.run_id))
        Pager(tl, self._engine, self._page_s).open(max(0.0, tl.end_s - self._page_s))
        self._held = None
        self._segment_times = None

    def poll(self) -> int:
        added = 0
        now = time.monotonic()
        if self._held is None and now - self._last_poll >= self._every_s:
            self._last_poll = now
            added = self.timeline.catch_up(self._engine)
            _keep_recent(self.timeline, self.timeline.end_s)
        if self._following:
            self._t = self.timeline.end_s
        else:
            super().poll()
        return added

    def toggle_pause(self) -> None:
        """Pause holds the picture where it is; resume follows the live edge again."""
        self._following = not self._following
        if self._following and self._held is not None:
            self._load_edge()

    @property
    def paused(self) -> bool:
        return not self._following

    def seek(self, t: float) -> None:
        self._following = False
        t = min(max(0.0, t), self.end_s)
        if self._held is None and t < self.timeline.start_s:
            self._held = Pager(self.timeline, self._engine, self._page_s)
        self.pager = self._held
        super().seek(t)


def _keep_recent(timeline: Timeline, now_s: float) -> None:
    """Trim a growing timeline to about one page behind ``now_s`` (live and attach)."""
    page = page_seconds(len(timeline.stations))
    if now_s - timeline.start_s > 2 * page:
        timeline.trim(now_s - page)


def _next_speed(speed: float) -> float:
    i = SPEEDS.index(speed) if speed in SPEEDS else -1
    return SPEEDS[(i + 1) % len(SPEEDS)]
