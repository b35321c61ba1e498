"""``personafm show RUN``: what a stored run was: its scenario as run, each station's
prompt (its hash unless ``--prompts``), model and harness, and where the run stands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import tomli_w
from rich.markup import escape

from analysis.reader import read_run
from personafm.commands.common import add_db, out
from personafm.replaying import scenario_of
from personafm.summary import list_runs
from sim.models.base import sha256_text
from sim.store import open_store
from sim.text import printable


def add(sub: Any) -> None:
    sh = sub.add_parser("show", help="a stored run: scenario as run, prompts, harness, status")
    sh.add_argument("run", help="run id, unique prefix, or 'latest'")
    sh.add_argument("--prompts", action="store_true", help="each station's whole prompt")
    sh.add_argument("--json", action="store_true", help="all of it as JSON")
    add_db(sh)
    sh.set_defaults(func=cmd_show)


def describe(db: Any, ref: str) -> dict[str, Any]:
    """A stored run as data: its row in `runs`, its stations and its scenario as run."""
    engine = open_store(db) if isinstance(db, str) else db
    data = read_run(engine, ref)
    (row,) = list_runs(engine, data.run_id)
    scenario = scenario_of(data.run)
    configs = {c.call_sign: c for c in scenario.expanded()}
    stations = []
    for s in data.stations:
        config = configs.get(s.station)
        prompt = scenario.prompt_for(config) if config is not None else None
        stations.append({
            "station": s.station, "name": s.name, "city": s.city, "provider": s.provider,
            "model": s.model, "system_prompt_sha256": s.system_prompt_sha256,
            "system_prompt": prompt if prompt is not None and sha256_text(prompt)
            == s.system_prompt_sha256 else None,
            "harness": data.harness(s.station),
        })  # fmt: skip
    return {
        "run": row,
        "parent": {"run_id": data.run.parent_run_id, "fork_at_s": data.run.fork_at_s}
        if data.run.parent_run_id else None,
        "scenario_path": data.run.scenario_path,
        "stations": stations,
        "scenario": scenario.model_dump(mode="json", exclude_none=True),
    }  # fmt: skip


def cmd_show(args: argparse.Namespace) -> int:
    shown = describe(args.db, args.run)
    if args.json:
        sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
        return 0
    r = shown["run"]
    label = f" · {r['label']}" if r["label"] else ""
    out.print(f"[bold]run {r['id']}[/]  {_safe(r['name'])}{_safe(label)}")
    hours = f"{r['sim_hours_done']:g} of {r['sim_hours']:g}"
    out.print(
        f"{r['status']} · seed {r['seed']} · {hours} simulated hours · {r['stations']} stations"
        f" · {r['events']:,} events · ${r['cost_usd']:.4f} · created {r['created_at']}"
    )
    if shown["parent"]:
        at = (shown["parent"]["fork_at_s"] or 0.0) / 3600
        out.print(f"forked from {shown['parent']['run_id']} at {at:g}h")
    if shown["scenario_path"]:
        out.print(f"scenario file: {_safe(shown['scenario_path'])}")
    for s in shown["stations"]:
        out.print(f"\n[bold]{_safe(s['station'])}[/] {_safe(s['name'])} ({_safe(s['city'])})"
                  f" · {_safe(s['provider'])}/{_safe(s['model'])}")  # fmt: skip
        if args.prompts and s["system_prompt"] is not None:
            out.print("  prompt: " + _safe(s["system_prompt"]).replace("\n", "\n          "))
        else:
            more = "" if args.prompts else " (the text: --prompts)"
            out.print(f"  prompt sha256 {s['system_prompt_sha256'][:16]}…{more}")
        if s["harness"]:
            out.print("  harness: " + _safe(_harness_line(s["harness"])))
    out.print("\n[bold]scenario as run[/] (TOML; `personafm run` takes it as a file):")
    out.print(printable(tomli_w.dumps(shown["scenario"])), markup=False)
    return 0


def _harness_line(harness: dict[str, Any]) -> str:
    parts = []
    for key, value in harness.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "none"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def _safe(text: str) -> str:
    return escape(printable(text))
