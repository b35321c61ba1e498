"""Where Persona FM writes by default: one folder for event logs, the store and reports."""

from __future__ import annotations

import os
from pathlib import Path

LOG_DIR_ENV = "PERSONAFM_LOG_DIR"


def default_log_dir() -> Path:
    """Where event logs (and the default SQLite store) go: ``$PERSONAFM_LOG_DIR`` or ``logs``."""
    return Path(os.environ.get(LOG_DIR_ENV) or "logs")
