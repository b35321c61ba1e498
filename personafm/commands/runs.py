"""``personafm runs``: the stored runs, whole ids, labels and the hours really run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from personafm.commands.common import (
    RUNS_COLUMNS,
    RUNS_COMPACT,
    add_db,
    err,
    out,
    print_wide,
    table,
)  # fmt: skip
from personafm.summary import list_runs
from sim.store import open_store


def add(sub: Any) -> None:
    ls = sub.add_parser("runs", help="list stored runs")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.add_argument("--wide", action="store_true", help="every column (created, seed, cost…)")
    add_db(ls)
    ls.set_defaults(func=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    runs = list_runs(open_store(args.db))
    if args.json:
        sys.stdout.write(json.dumps(runs, indent=2) + "\n")
    elif not runs:
        err.print("no runs in this database yet: start one with `personafm run`")
    elif args.wide:
        print_wide(table(runs, RUNS_COLUMNS))
    else:
        for r in runs:
            r["name · label"] = " · ".join(x for x in (r["name"], r["label"]) if x)
            done, planned = r["sim_hours_done"], r["sim_hours"]
            r["hours"] = f"{done:g}" if done == planned else f"{done:.3g} of {planned:g}"
        columns = {("name · label" if k == "name" else k): v for k, v in RUNS_COMPACT.items()}
        out.print(table(runs, columns, compact=True))
    return 0
