"""The pacer of a live simulation: the simulation thread waits on it before each event, so
simulated time runs at a chosen multiple of wall-clock time; the UI thread changes the
speed, pauses, resumes and steps one segment at a time.
"""

from __future__ import annotations

import math
import threading
import time


class Pacer:
    """Paces a simulation thread to wall-clock speed; pause, resume and single steps.

    The worker calls ``wait(t)`` before each event at time ``t``; the UI thread
    changes speed or pauses. ``step()`` lets exactly one more segment air.
    """

    def __init__(self, speed: float = math.inf, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._speed = speed
        self._paused = paused
        self._steps = 0
        self._stopped = False
        self._anchor: tuple[float, float] | None = None  # (wall, sim) at the last change

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def set_speed(self, speed: float) -> None:
        with self._cond:
            self._speed = speed
            self._anchor = None
            self._cond.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._steps = 0
            self._anchor = None
            self._cond.notify_all()

    def step(self) -> None:
        with self._cond:
            self._paused = False
            self._steps = 1
            self._anchor = None
            self._cond.notify_all()

    def segment_aired(self) -> None:
        with self._cond:
            if self._steps:
                self._steps -= 1
                if not self._steps:
                    self._paused = True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def wait(self, t: float) -> None:
        with self._cond:
            while True:
                if self._stopped:
                    return
                if self._paused:
                    self._cond.wait(0.1)
                    continue
                if math.isinf(self._speed):
                    return
                now = time.monotonic()
                if self._anchor is None:
                    self._anchor = (now, t)
                due = self._anchor[0] + (t - self._anchor[1]) / self._speed
                if due <= now:
                    return
                self._cond.wait(min(0.1, due - now))
