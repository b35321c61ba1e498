"""``watch`` and ``replay``: the terminal UI, live or on a stored run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from personafm.commands.common import (
    HOURS,
    SEED,
    add_db,
    time_arg,
)  # fmt: skip
from personafm.export import resolve_run
from personafm.scenario import load_scenario
from sim.store import open_store


def add(sub: Any) -> None:
    w = sub.add_parser("watch", help="run a scenario and watch it live in the terminal")
    w.add_argument("scenario", nargs="?", default=None, help="scenario file or bundled name")
    w.add_argument("--attach", metavar="RUN", help="follow a run another process is writing")
    w.add_argument("--hours", type=HOURS, help="simulated hours (overrides run.hours)")
    w.add_argument("--seed", type=SEED, help="run seed (overrides run.seed)")
    w.add_argument("--speed", choices=("1", "10", "60", "max"), default="60",
                   help="simulated seconds per wall second (default 60)")  # fmt: skip
    w.add_argument("--log-dir", type=Path)
    w.add_argument("--no-speech", action="store_true", help="never start the speech engine")
    add_db(w)
    w.set_defaults(func=cmd_watch)

    rp = sub.add_parser("replay", help="scrub through a stored run in the terminal UI")
    rp.add_argument("run", help="run id, unique prefix, or 'latest'")
    rp.add_argument("--at", default="0h", help="start at this time, e.g. 6h")
    rp.add_argument("--no-speech", action="store_true")
    add_db(rp)
    rp.set_defaults(func=cmd_replay)


def _speaker(disabled: bool) -> Any:
    if disabled:
        return None
    from audio.speech import Speaker

    return Speaker()


def cmd_watch(args: argparse.Namespace) -> int:
    from personafm.watching import attach_source, live_source
    from tui.app import PersonaApp

    engine = open_store(args.db)
    if args.attach:
        source: Any = attach_source(engine, resolve_run(engine, args.attach).id)
    else:
        overrides: dict[str, Any] = {}
        if args.hours is not None:
            overrides["run.hours"] = args.hours
        if args.seed is not None:
            overrides["run.seed"] = args.seed
        scenario, path, text = load_scenario(args.scenario, overrides)
        speed = float("inf") if args.speed == "max" else float(args.speed)
        source = live_source(scenario, engine, scenario_path=str(path), scenario_text=text,
                             log_dir=args.log_dir, speed=speed)  # fmt: skip
    PersonaApp(source, speaker=_speaker(args.no_speech), store=engine).run()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from personafm.watching import stored_source
    from tui.app import PersonaApp

    at_s = time_arg("--at", args.at)
    engine = open_store(args.db)
    run = resolve_run(engine, args.run)
    source = stored_source(engine, run.id, at_s)
    PersonaApp(source, speaker=_speaker(args.no_speech), store=engine).run()
    return 0
