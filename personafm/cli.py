"""The ``personafm`` command line: parsing, and errors as messages, never tracebacks.

The commands themselves live in ``personafm.commands``, a module per command.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from personafm.commands import COMMANDS
from personafm.commands.common import (
    ERROR_LIMIT,
    CliError,
    db_shown,
    err,
    fit_consoles,
    safe,
)
from personafm.experiments.runner import ExperimentError
from personafm.export import RunNotFound
from personafm.scenario import ScenarioError
from sim.models.base import ProviderError
from sim.store import StoreError
from sim.text import printable

# The exit status of a process killed by SIGPIPE (128 + 13), as a shell reports it.
EXIT_BROKEN_PIPE = 141


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (how Docker and systemd stop a process) stops a run like Ctrl-C does: the
    rows so far are kept and the run is marked stopped, with its counters."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    fit_consoles()
    with _sigterm_as_ctrl_c():
        return _main_guarded(argv)


def _main_guarded(argv: list[str] | None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader went away (`personafm export ... | head -1`): stop quietly, as the
        # Python docs advise, pointing stdout at devnull so the final flush cannot raise.
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (
        CliError,
        ScenarioError,
        RunNotFound,
        ProviderError,
        StoreError,
        ExperimentError,
    ) as exc:
        err.print(f"[bold red]error:[/] {safe(exc, ERROR_LIMIT)}", highlight=False)
        return 2
    except SQLAlchemyError as exc:
        first = (str(exc).splitlines() or [""])[0]
        err.print(
            f"[bold red]database error[/] ({safe(db_shown(args.db), 200)}): "
            f"{exc.__class__.__name__}: {safe(first, ERROR_LIMIT)}",
            highlight=False,
        )
        return 2
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file or folder the user named (--log-dir, --out...)
        where = f"{safe(exc.filename, 500)}: " if exc.filename else ""
        err.print(
            f"[bold red]error:[/] {where}{safe(exc.strerror or exc, ERROR_LIMIT)}",
            highlight=False,
        )
        return 2
    except KeyboardInterrupt:
        err.print("interrupted: rows written so far are kept")
        return 130


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind stdout (a test's capture)
        pass


class _Parser(argparse.ArgumentParser):
    """argparse that quotes what the user typed safely in its errors (it echoes choices)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {printable(message[:ERROR_LIMIT], one_line=True)}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="personafm", description="Simulate AI-run radio stations and log everything.")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
    return p


if __name__ == "__main__":
    sys.exit(main())
