"""The machine-readable event log: one JSON line per event, written with structlog."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import structlog

from sim.events import Event

_LONG_TEXT = 240


class EventLog:
    """Writes every published event to ``path`` as JSON lines (long texts clipped)."""

    def __init__(self, path: Path, run_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._log = structlog.wrap_logger(
            structlog.WriteLogger(self._file),
            processors=[structlog.processors.JSONRenderer(sort_keys=False)],
            context_class=dict,
            cache_logger_on_first_use=True,
        ).bind(run_id=run_id)

    def __call__(self, event: Event) -> None:
        self._log.info(event.event_type, sim_time_s=round(event.sim_time, 3), **_clip(event.row()))

    def info(self, message: str, **fields: Any) -> None:
        self._log.info(message, **fields)

    def close(self) -> None:
        self._file.close()


def _clip(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("sim_time_s", "messages_json"):
            continue
        if isinstance(value, str) and len(value) > _LONG_TEXT:
            value = value[:_LONG_TEXT] + "…"
        out[f"{key}_" if key == "event" else key] = value  # "event" is structlog's message key
    return out
