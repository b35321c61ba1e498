"""Shared test helpers: small scenarios and run-and-read utilities."""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from personafm.export import export_text
from personafm.runner import RunResult, run_scenario
from personafm.scenario import Scenario, parse_scenario
from stations.programming import RulesConfig

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


def default_sigint() -> None:
    """For a child process: a child of a background job inherits an ignored SIGINT (and
    Python then never turns Ctrl-C into KeyboardInterrupt); restore the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


@dataclass(frozen=True, slots=True)
class Seg:
    """An as-run segment with the attributes of ``economy.airplay.Aired``."""

    sim_time: float
    station: str
    seq: int
    end_s: float
    kind: str
    source: str = "rotation"
    status: str = "aired"
    song_id: str | None = None
    text: str | None = None
    ref: str | None = None


def assert_rules_hold(songs: list[dict[str, Any]], rules: RulesConfig) -> None:
    """Re-check aired songs (as-run rows) for separation, 3-hour caps and in-a-row limits."""
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in songs:
        by_station[r["station"]].append(r)
    for plays in by_station.values():
        plays.sort(key=lambda r: r["start_s"])
        last_title: dict[str, float] = {}
        last_artist: dict[str, float] = {}
        for i, r in enumerate(plays):
            t = r["start_s"]
            if r["song_id"] in last_title:
                assert t - last_title[r["song_id"]] >= rules.title_separation_s
            if r["artist"] in last_artist:
                assert t - last_artist[r["artist"]] >= rules.artist_separation_s
            last_title[r["song_id"]] = t
            last_artist[r["artist"]] = t
            window = [p for p in plays[: i + 1] if t - p["start_s"] < rules.window_s]
            assert sum(p["artist"] == r["artist"] for p in window) <= rules.max_artist_in_window
            same_album = [
                p for p in window if (p["artist"], p["album"]) == (r["artist"], r["album"])
            ]
            assert len(same_album) <= rules.max_album_in_window
            tail = plays[max(0, i - 2) : i + 1]
            assert not (len(tail) == 3 and len({(p["artist"], p["album"]) for p in tail}) == 1)
