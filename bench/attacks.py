"""The hostile-station attack, measured: what one station can take from three others.

Runs the scenario of tests/test_hostile_station.py (KEVL's model, over a real
Chat Completions server on loopback, tries other stations' negotiations,
contracts, messages and songs, sends non-finite numbers, deep nesting, escape
sequences and pieces of its API key) three times with the same seed:

* control: KEVL sends the same turns without foreign ids;
* attack: as it is;
* unguarded: the attack with the authority checks switched off, to show what
  the checks prevent (the situation the issue reported).

It prints, per run, the attempts, the victims' rows that differ from the
control, the contracts forced on victims and the up-front fees they paid, and
the key fragments found in every file the run wrote. Figures for docs/security.md.

    .venv/bin/python bench/attacks.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest

from economy.negotiation import NegotiationBook
from economy.sponsors import SponsorFault
from personafm.export import FORMATS, whats, write_export
from personafm.scenario import parse_scenario
from sim.redact import FRAGMENT
from sim.store import open_store
from stations.station import Station
from testkit.helpers import export_rows, query_run, run
from testkit.hostile import KEY, VICTIMS, hostile_sponsor_toml, run_hostile, sponsor_answer
from testkit.servers import ScriptedOpenAIServer


@contextmanager
def unguarded() -> Iterator[None]:
    """The authority checks off: a station's move is taken for whoever owns the id."""
    submit = NegotiationBook.submit

    def trusting(self: NegotiationBook, *args: Any, actor: str | None = None, **kw: Any) -> bool:
        return submit(self, *args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(NegotiationBook, "submit", trusting)
        mp.setattr(Station, "_foreign", lambda self, *a: False)
        yield


def victim_rows(engine: Any, run_id: str, what: str) -> list[dict[str, Any]]:
    rows = export_rows(engine, run_id, what)
    return [
        {k: v for k, v in r.items() if k != "run_id"} for r in rows if r.get("station") in VICTIMS
    ]


def leaks(engine: Any, run_id: str, folder: Path) -> int:
    for what in whats():
        for fmt in FORMATS:
            with (folder / f"{what}.{fmt}").open("w", encoding="utf-8", newline="") as fh:
                write_export(engine, run_id, what, fmt, fh)
    engine.dispose()
    pieces = {KEY[i : i + FRAGMENT].encode() for i in range(len(KEY) - FRAGMENT + 1)}
    return sum(
        any(p in path.read_bytes() for p in pieces) for path in folder.rglob("*") if path.is_file()
    )


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="personafm-attacks-"))
    runs: dict[str, tuple[Any, ...]] = {}
    for name in ("control", "attack", "unguarded"):
        started = time.perf_counter()
        folder = base / name
        folder.mkdir()
        if name == "unguarded":
            with unguarded():
                runs[name] = (*run_hostile(folder, True), time.perf_counter() - started)
        else:
            runs[name] = (*run_hostile(folder, name == "attack"), time.perf_counter() - started)
    c_engine, c_result, *_ = runs["control"]
    print(
        f"{'run':<10} {'turns':>5} {'foreign ids':>11} {'victim rows changed':>19} "
        f"{'contracts forced':>16} {'fees paid':>9} {'files with key':>14} {'wall s':>6}"
    )
    for name, (engine, result, hostile, folder, wall) in runs.items():
        tried = sum(hostile.tried[k] for k in ("deal", "reply", "ad", "queue"))
        changed = 0
        for what in ("asrun", "ledger", "negotiations", "contracts", "messages"):
            ours = victim_rows(engine, result.run_id, what)
            theirs = victim_rows(c_engine, c_result.run_id, what)
            changed += sum(a != b for a, b in zip(ours, theirs, strict=False))
            changed += abs(len(ours) - len(theirs))
        control_deals = {
            r["negotiation_id"] for r in victim_rows(c_engine, c_result.run_id, "contracts")
        }
        forced = [
            r
            for r in victim_rows(engine, result.run_id, "contracts")
            if r["negotiation_id"] not in control_deals
        ]
        fees = sum(r["upfront_fee_usd"] for r in forced)
        print(
            f"{name:<10} {next(hostile.turns):>5} {tried:>11} {changed:>19} {len(forced):>16} "
            f"{fees:>9.2f} {leaks(engine, result.run_id, folder):>14} {wall:>6.1f}"
        )
    print(f"(files under {base})")
    hostile_sponsors(base)


def hostile_sponsors(base: Path) -> None:
    """Six model-driven sponsors whose model answers Infinity, NaN, deep nesting and overpays."""
    counter = [0]
    folder = base / "sponsors"
    folder.mkdir()
    engine = open_store(f"sqlite:///{folder / 'runs.db'}")
    with ScriptedOpenAIServer(arguments=sponsor_answer(counter)) as server:
        result = run(
            parse_scenario(hostile_sponsor_toml(server.base_url), "s.toml"), engine, folder
        )
    faults = dict(
        query_run(
            engine,
            "select kind, count(*) from faults where run_id = :r and station like 'sponsor:%' "
            "group by kind",
            result.run_id,
        )
    )
    (over,) = query_run(
        engine,
        "select count(*) from contracts c join sponsors s on s.run_id = c.run_id and "
        "s.name = c.sponsor where c.run_id = :r and c.price_cents > s.reservation_cents",
        result.run_id,
    )[0]
    (signed,) = query_run(
        engine, "select count(*) from contracts where run_id = :r", result.run_id
    )[0]
    print(
        f"hostile sponsor model: {counter[0]} answers, status {result.status}, "
        f"unusable {faults.get(SponsorFault.SPONSOR_INVALID_OUTPUT, 0)}, "
        f"beyond its means {faults.get(SponsorFault.SPONSOR_OUT_OF_BOUNDS, 0)}, "
        f"contracts {signed}, above the reservation price {over}"
    )


if __name__ == "__main__":
    main()
