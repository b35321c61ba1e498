"""The ``personafm`` commands, a module per command or group of commands.

Each module has ``add(sub)``, which adds its parsers (with ``set_defaults(func=…)``) to
the CLI's subparsers. Adding a command: a new module here and one line in ``COMMANDS``
(the order of ``personafm --help``).
"""

from personafm.commands import (
    analyze,
    demo,
    experiments,
    exports,
    replays,
    run,
    runs,
    show,
    ui,
)

COMMANDS = (run, replays, runs, show, ui, exports, analyze, experiments, demo)

__all__ = ["COMMANDS"]
