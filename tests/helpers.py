"""Shared test helpers: small scenarios and run-and-read utilities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from personafm.export import export_text
from personafm.runner import RunResult, run_scenario
from personafm.scenario import Scenario, parse_scenario

PROMPT = "Develop your own radio personality and turn a profit. You will broadcast forever."


def scripted_toml(
    hours: float = 6.0,
    seed: int = 3,
    stations: int = 3,
    extra: str = "",
    persona: str = "",
    economy: str = "",
) -> str:
    blocks = []
    for i in range(stations):
        blocks.append(
            f'[[stations]]\ncall_sign = "KT{chr(65 + i)}"\nname = "Test {i}"\ncity = "Testville"\n'
        )
    return (
        f'system_prompt = "{PROMPT}"\n'
        f'[run]\nname = "test"\nhours = {hours}\nseed = {seed}\n{extra}\n'
        f'[model]\nprovider = "scripted"\n'
        f"[model.persona]\ntics = ['Stay golden!']\ntic_rate = 0.5\n{persona}\n"
        f"[economy]\n{economy}\n" + "\n".join(blocks)
    )


def scripted_scenario(**kwargs: Any) -> Scenario:
    return parse_scenario(scripted_toml(**kwargs), "test.toml")


def run(scenario: Scenario, engine: Engine, tmp_path: Path, **kwargs: Any) -> RunResult:
    return run_scenario(scenario, engine=engine, log_dir=tmp_path / "logs", **kwargs)


def query_run(engine: Engine, sql: str, run_id: str) -> list[Any]:
    """Rows of ``sql``, which names the run as ``:r``."""
    with engine.connect() as conn:
        return list(conn.execute(text(sql), {"r": run_id}).all())


def export_rows(engine: Engine, run_id: str, what: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in export_text(engine, run_id, what).splitlines()]
