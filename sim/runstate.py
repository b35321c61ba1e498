"""Whether a stored run is really running: a run whose process died is ``interrupted``.

A run row says ``running`` until its process marks it ended. If that process was
killed (``kill -9``, a power cut), the row still says so. The run's ``owner``
(``host:pid``) and ``heartbeat_at`` (refreshed at every commit) tell: on this host,
a dead pid means interrupted; elsewhere, a heartbeat older than ``STALE_S``.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from sim.store import RunRow

STALE_S = 600.0  # a live run commits at least every second of wall time it makes progress


def run_state(row: RunRow, now: datetime | None = None) -> str:
    """``row.status``, except ``interrupted`` for a ``running`` run whose process is gone."""
    if row.status != "running":
        return row.status
    host, _, pid = row.owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return "running" if _alive(int(pid)) else "interrupted"
    if row.heartbeat_at is None:
        return "running"  # an older Persona FM: nothing to tell by
    beat = row.heartbeat_at if row.heartbeat_at.tzinfo else row.heartbeat_at.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - beat).total_seconds()
    return "interrupted" if age > STALE_S else "running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
