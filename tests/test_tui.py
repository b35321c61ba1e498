"""The terminal UI, driven by Textual's pilot: live watching, replay, attach, the station
screen, and snapshots of the grid and the station screen at a fixed seed. Longer than 400
lines because it is one feature's end-to-end tests: they share the stored-run fixture and
the pilot set-up, and the snapshot files are kept under this module's name
(``__snapshots__/test_tui``), so a split would also move and rename them."""

from __future__ import annotations

import bisect
import dataclasses
import io
import json
import math
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine
from textual.widgets import DataTable, Footer, Input, Static

import tui.pacer
from audio.export import wav_duration
from audio.speech import Speaker
from personafm.cli import main
from personafm.providers import providers_for
from personafm.scenario import parse_scenario
from personafm.watching import attach_source, live_source, stored_source
from sim.store import open_store
from testkit.helpers import export_rows, query_run, run, scripted_scenario, scripted_toml
from tui.app import PersonaApp
from tui.cards import CARD_HEIGHT, render_card
from tui.dialogs import GotoScreen
from tui.pacer import Pacer
from tui.sources import StoredSource
from tui.station_screen import ASRUN_ROWS, PANES, StationScreen
from tui.timeline import TAIL, Timeline

SIZE = (120, 40)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> str:
    """A 6-hour, 3-station scripted run (seed 3) in the store."""
    return run(scripted_scenario(hours=6, stations=3, seed=3), engine, tmp_path).run_id


async def test_the_grid_fills_as_a_live_run_advances(engine: Engine, tmp_path: Path) -> None:
    source = live_source(
        scripted_scenario(hours=3, stations=3), engine, log_dir=tmp_path, speed=math.inf
    )
    app = PersonaApp(source, refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if source.finished and app.now_s > 2 * 3600:
                break
        await pilot.pause(0.2)
        assert list(app.cards) == ["KTA", "KTB", "KTC"]
        cards = [card.last for card in app.cards.values()]
        assert all(c is not None and c.now is not None for c in cards)
        assert all(c.balance_cents is not None and c.aqh is not None for c in cards)  # type: ignore[union-attr]
        assert app.now_s > 2 * 3600
    assert source.finished and source.error is None


async def test_pause_stops_the_clock_and_speed_changes(engine: Engine, tmp_path: Path) -> None:
    source = live_source(
        scripted_scenario(hours=24, stations=2), engine, log_dir=tmp_path, speed=600.0
    )
    app = PersonaApp(source, refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await pilot.press("space")
        assert source.paused
        await pilot.pause(0.3)  # let the worker reach its next wait
        frozen = app.now_s
        await pilot.pause(0.6)
        assert app.now_s == frozen
        assert "paused" in str(app.query_one("#status").render())
        await pilot.press("space")
        await pilot.pause(0.6)
        assert app.now_s > frozen  # 600 simulated seconds per second
        speeds = []
        for _ in range(4):
            await pilot.press("s")
            speeds.append(source.speed)
        assert speeds == [1.0, 10.0, 60.0, math.inf]
        assert "speed max" in str(app.query_one("#status").render())


async def test_step_lets_exactly_one_segment_air(engine: Engine, tmp_path: Path) -> None:
    source = live_source(
        scripted_scenario(hours=24, stations=1), engine, log_dir=tmp_path, speed=60.0
    )
    app = PersonaApp(source, refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await pilot.pause(0.4)
        before = len(app.timeline.stations["KTA"].segs)
        await pilot.press("n")
        for _ in range(40):
            await pilot.pause(0.05)
            if source.paused and len(app.timeline.stations["KTA"].segs) > before:
                break
        await pilot.pause(0.3)
        assert source.paused
        assert len(app.timeline.stations["KTA"].segs) == before + 1


async def test_focusing_a_station_opens_its_screen(engine: Engine, stored: str) -> None:
    app = PersonaApp(stored_source(engine, stored, at_s=5 * 3600))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert isinstance(app.screen, StationScreen) and app.screen.call_sign == "KTB"
        aired = [
            r
            for r in export_rows(engine, stored, "asrun")
            if r["station"] == "KTB" and r["status"] == "aired" and r["start_s"] <= 5 * 3600
        ]
        assert app.screen.asrun_lines == min(ASRUN_ROWS, len(aired))
        await pilot.press("slash", *"talk")
        assert app.screen.query_one("#search", Input).value == "talk"
        await pilot.press("escape")  # leaves the search box, stays on the screen
        assert isinstance(app.screen, StationScreen)
        talk = [r for r in aired if r["kind"] == "talk"]
        assert app.screen.asrun_lines == min(ASRUN_ROWS, len(talk)) > 0
        # the other tabs fill when first shown
        assert not app.screen.query("#calls")
        await pilot.press("c")
        calls = app.screen.query_one("#calls", DataTable)
        expected = [c for c in export_rows(engine, stored, "calls")
                    if c["station"] == "KTB" and c["sim_time_s"] <= 5 * 3600]  # fmt: skip
        assert calls.row_count == len(expected) > 0
        await pilot.press("escape")
        assert not isinstance(app.screen, StationScreen)
        app.query_one("#card-KTC").focus()
        await pilot.press("enter")
        assert isinstance(app.screen, StationScreen) and app.screen.call_sign == "KTC"


async def test_replay_seeks_to_a_time_and_shows_what_aired_then(
    engine: Engine, stored: str
) -> None:
    asrun = [r for r in export_rows(engine, stored, "asrun") if r["status"] == "aired"]
    app = PersonaApp(stored_source(engine, stored))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*"4.5h", "enter")
        await pilot.pause()
        assert app.now_s == 4.5 * 3600
        for station in ("KTA", "KTB", "KTC"):
            on_air = [
                r
                for r in asrun
                if r["station"] == station and r["start_s"] <= app.now_s < r["end_s"]
            ]
            card = app.cards[station].last
            assert card is not None and card.now is not None
            assert (card.now.seq, card.now.title) == (on_air[-1]["seq"], on_air[-1]["title"])
        # step back and forth through segment starts, jump by the hour
        await pilot.press("right")
        later = app.now_s
        assert later > 4.5 * 3600 and any(r["start_s"] == later for r in asrun)
        await pilot.press("left", "left")
        assert app.now_s < 4.5 * 3600
        await pilot.press("left_square_bracket")
        assert app.now_s < 3.5 * 3600


async def test_attach_follows_rows_written_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    scenario = tmp_path / "long.toml"
    scenario.write_text(scripted_toml(hours=24 * 20, stations=12), encoding="utf-8")
    writer = subprocess.Popen(
        [sys.executable, "-m", "personafm.cli", "run", str(scenario), "--db", f"sqlite:///{db}",
         "--quiet", "--log-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        engine = open_store(f"sqlite:///{db}")
        run_id = None
        for _ in range(100):
            rows = query_run(engine, "select id from runs where :r = :r", "")
            if rows:
                run_id = rows[0][0]
                if query_run(engine, "select count(*) from asrun where run_id = :r", run_id)[0][0]:
                    break
            time.sleep(0.1)
        assert run_id is not None
        source = attach_source(engine, run_id)
        app = PersonaApp(source, refresh_s=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.3)
            first_end, first_rows = (
                app.now_s,
                sum(len(s.segs) for s in app.timeline.stations.values()),
            )
            await pilot.pause(2.0)
            rows_now = sum(len(s.segs) for s in app.timeline.stations.values())
            assert rows_now > first_rows and app.now_s > first_end  # the picture moved on
            assert len(app.cards) == 12
            await pilot.press("space")  # hold the picture
            held = app.now_s
            await pilot.pause(1.5)
            assert app.now_s == held
    finally:
        writer.terminate()
        writer.wait(timeout=10)


def test_pacer_runs_at_wall_clock_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pacer's arithmetic on a fake clock (its accuracy on a real one: bench/replay.py)."""
    clock = FakeClock()
    monkeypatch.setattr(tui.pacer, "time", SimpleNamespace(monotonic=clock.monotonic))
    pacer = Pacer(speed=100.0)
    monkeypatch.setattr(pacer._cond, "wait", clock.sleep)
    pacer.wait(0.0)  # anchors simulated 0 s at the current wall time
    assert clock.now == 0.0
    pacer.wait(30.0)  # 30 simulated seconds at 100x: 0.3 s, in waits of at most 0.1 s
    assert clock.now == pytest.approx(0.3)
    assert clock.waits == pytest.approx([0.1, 0.1, 0.1])
    pacer.wait(15.0)  # already due: no wait
    assert clock.now == pytest.approx(0.3) and len(clock.waits) == 3
    pacer.set_speed(math.inf)
    pacer.wait(10_000.0)  # max speed never waits
    assert clock.now == pytest.approx(0.3) and len(clock.waits) == 3
    pacer.set_speed(10.0)  # a new speed re-anchors at the current instant
    pacer.wait(10_000.0)
    pacer.wait(10_002.0)
    assert clock.now == pytest.approx(0.5)


class FakeClock:
    """``time.monotonic`` and a condition's ``wait`` that advance a counter, not the wall."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, timeout: float | None = None) -> bool:
        assert timeout is not None and timeout > 0
        self.waits.append(timeout)
        self.now += timeout
        return False


TEMPLATE_GRAMS = {"is in the", "in the books", "the books next", "books next up"}
WORD = re.compile(r"[a-z']+")


def _trigrams(text: str) -> set[str]:
    words = WORD.findall(text.lower())
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def test_timeline_cards_alerts_and_deals(engine: Engine, tmp_path: Path) -> None:
    persona = "template_rate = 0.9\ngullibility = 0.9\n"  # the template 90%; scams taken
    result = run(scripted_scenario(hours=24, stations=2, persona=persona), engine, tmp_path)
    tl = Timeline.from_store(engine, result.run_id)
    card = tl.card("KTA", 20 * 3600)
    phrase = tl.catchphrase("KTA", 20 * 3600)
    # expected, from the as-run log: the 3-word phrase said in most of the last 20 talk
    # breaks (ties: alphabetically first); the template's four phrases tie, "books next up"
    asrun = export_rows(engine, result.run_id, "asrun")
    talk = sorted(
        (r for r in asrun if r["station"] == "KTA" and r["kind"] == "talk"
         and r["status"] == "aired" and r["start_s"] <= 20 * 3600),
        key=lambda r: (r["start_s"], r["seq"]),
    )[-20:]  # fmt: skip
    assert len(talk) == 20
    said = [_trigrams(r["text"] or "") for r in talk]
    times = {g: sum(g in grams for grams in said) for g in TEMPLATE_GRAMS}
    assert len(set(times.values())) == 1  # the template's phrases are said together
    assert phrase == ("books next up", times["books next up"])
    assert phrase[1] >= 10
    assert card.alerts[-1] == f'catchphrase "books next up" ×{phrase[1]}'
    ledger = [r for r in export_rows(engine, result.run_id, "ledger") if r["station"] == "KTA"]
    upto = [r for r in ledger if r["sim_time_s"] <= 20 * 3600]
    assert card.balance_cents == round(upto[-1]["balance_after"] * 100)
    assert card.balance_history == [round(r["balance_after"] * 100) for r in upto][-24:]
    contracts = export_rows(engine, result.run_id, "contracts")
    assert {c["status"] for c in contracts} >= {"active", "cancelled", "scam"}
    ended = {
        cid: at
        for cid, kind, at in query_run(
            engine,
            "select contract_id, kind, sim_time_s from contract_events where run_id = :r",
            result.run_id,
        )
        if kind in ("completed", "cancelled", "scam")
    }
    assert set(ended) == {c["contract_id"] for c in contracts if c["status"] != "active"}
    checked = 0
    for station in ("KTA", "KTB"):
        for hour in range(25):
            t = hour * 3600.0
            expected = [
                c["sponsor"]
                for c in contracts
                if c["station"] == station
                and c["signed_s"] <= t < c["end_s"]
                and not (c["contract_id"] in ended and ended[c["contract_id"]] <= t)
            ]
            assert sorted(tl.active_deals(station, t)) == sorted(expected), (station, hour)
            checked += len(expected)
    assert checked > 0
    assert tl.card("KTA", 0.0).now is not None


def test_snapshot_of_the_grid(snap_compare, engine: Engine, stored: str) -> None:
    app = PersonaApp(stored_source(engine, stored, at_s=4 * 3600 + 600))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_of_the_station_screen(snap_compare, engine: Engine, stored: str) -> None:
    app = PersonaApp(stored_source(engine, stored, at_s=4 * 3600 + 600))

    async def open_station(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_station)


class RecordingApp(PersonaApp):
    """The app, keeping the notifications it shows."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, **kwargs) -> None:  # type: ignore[no-untyped-def,override]
        self.notes.append(message)
        super().notify(message, **kwargs)


async def test_speech_reads_the_focused_station(engine: Engine, tmp_path: Path) -> None:
    """The real engine (espeak-ng through pyttsx3) on its own thread; audio is rendered but
    not played (the test machine has no sound card)."""
    speaker = Speaker(play=False)
    source = live_source(scripted_scenario(hours=6, stations=2), engine, log_dir=tmp_path,
                         speed=3600.0)  # fmt: skip
    app = RecordingApp(source, speaker=speaker, refresh_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            await pilot.pause(0.05)
            if speaker.available and app.cards:
                break
        assert speaker.available, speaker.problem
        app.cards["KTB"].focus()
        await pilot.press("t")
        assert "speech" in str(app.status_bar.render())
        for _ in range(60):
            await pilot.pause(0.1)
            if speaker.spoken + speaker.dropped + speaker.pending >= 2:
                break
        assert speaker.spoken + speaker.dropped + speaker.pending >= 2
        await pilot.press("t")
        assert speaker.pending == 0  # turning speech off drops what was queued


async def test_missing_speech_is_said_once(engine: Engine, stored: str) -> None:
    speaker = Speaker(driver_name="nonexistent")
    app = RecordingApp(stored_source(engine, stored), speaker=speaker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("t", "t", "t")
        assert not speaker.available
        assert len([n for n in app.notes if n.startswith("speech off")]) == 1


def test_export_audio_renders_a_stretch_of_talk(
    engine: Engine, stored: str, tmp_path: Path
) -> None:
    out = tmp_path / "ktb.wav"
    db = str(engine.url)
    assert main(["export-audio", stored, "--station", "KTB", "--from", "1h", "--to", "2h",
                 "--out", str(out), "--db", db]) == 0  # fmt: skip
    words = sum(
        len((r["text"] or "").split())
        for r in export_rows(engine, stored, "asrun")
        if r["station"] == "KTB" and r["kind"] in ("talk", "ad") and r["status"] == "aired"
        and 3600 <= r["start_s"] < 7200
    )  # fmt: skip
    seconds = wav_duration(out)
    assert words > 20
    assert 0.4 * words / 165 * 60 < seconds < 2.5 * words / 165 * 60 + 30
    assert main(["export-audio", stored, "--station", "KZZZ", "--out", str(out), "--db", db]) == 2


async def test_the_scoreboard_screen_shows_the_run_it_replays(engine: Engine, stored: str) -> None:
    from analysis.scoreboard import analyze
    from tui.scoreboard import ScoreboardScreen

    app = PersonaApp(stored_source(engine, stored, at_s=3600), store=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, ScoreboardScreen) and screen.run_id == stored
        for _ in range(200):
            if screen.board is not None:
                break
            await pilot.pause(0.05)
        assert screen.board is not None
        assert screen.board.to_json() == analyze(engine, [stored]).to_json()
        console = Console(record=True, width=200, file=io.StringIO())
        console.print(screen.shown)
        shown = console.export_text()
        assert all(s["label"] in shown for s in screen.board.stations)
        assert "sycophancy" in shown and "divergence of talk" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, ScoreboardScreen)


async def test_the_scoreboard_key_explains_itself_without_a_store(
    engine: Engine, stored: str
) -> None:
    app = PersonaApp(stored_source(engine, stored))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause(0.1)
        assert not app.screen.query("#board")  # no screen pushed: a notice instead


def _held(tl: Timeline) -> int:
    return sum(
        len(st.segs) + len(st.words) + len(st.ledger) + len(st.ratings) + len(st.faults)
        + len(st.calls) + len(st.messages) + len(st.negotiations) + len(st.contracts)
        for st in tl.stations.values()
    )  # fmt: skip


def _picture(tl: Timeline, t: float) -> list[tuple[Any, ...]]:
    """What the grid and the panes' newest rows show at ``t``."""
    out = []
    for cs in tl.order():
        card = tl.card(cs, t)
        out.append((dataclasses.replace(card, cost_usd=round(card.cost_usd, 9)),
                    [r["id"] for r in tl.rows_until(cs, "ledger", t)[-TAIL["ledger"]:]],
                    [r["id"] for r in tl.rows_until(cs, "calls", t)[-TAIL["calls"]:]],
                    [(r["message_id"], tl.answer(cs, r["message_id"], t))
                     for r in tl.rows_until(cs, "messages", t)[-TAIL["messages"]:]],
                    [s.seq for s in tl.segments(cs, t)[-TAIL["segs"]:]]))  # fmt: skip
    return out


def test_a_replay_holds_one_page_and_shows_what_the_whole_run_shows(
    engine: Engine, tmp_path: Path
) -> None:
    """Memory stays flat as a run grows: the replay holds a page of time plus short tails,
    and at every instant it shows exactly what a timeline of every row shows, whether it
    got there by playing on, by stepping or by jumping."""
    probes = '[[listeners.probes]]\ncategory = "manners"\nat_hours = [1, 13, 25, 37]\n'
    scenario = scripted_scenario(hours=48, stations=3, extra=probes)
    run_id = run(scenario, engine, tmp_path).run_id
    full = Timeline.from_store(engine, run_id)
    rng = random.Random(5)
    instants = sorted(rng.uniform(0, 48 * 3600) for _ in range(40))
    playing = stored_source(engine, run_id, page_s=3 * 3600)
    jumping = stored_source(engine, run_id, page_s=3 * 3600)
    most = 0
    for t in instants:  # forward: plays on page by page (no reloads)
        playing.seek(t)
        assert _picture(playing.timeline, t) == _picture(full, t), t
        most = max(most, _held(playing.timeline))
    assert playing.pager is not None and playing.pager.loads <= 16
    assert most < _held(full) / 4  # a page of 3 h (and tails) out of 48 h
    for t in rng.sample(instants, 15):  # anywhere: reloads the page
        jumping.seek(t)
        assert _picture(jumping.timeline, t) == _picture(full, t), t
    assert jumping.pager is not None and jumping.pager.loads >= 10
    # stepping segment by segment across a page boundary, both ways
    stepper = stored_source(engine, run_id, at_s=3 * 3600 - 120, page_s=3 * 3600)
    starts = sorted(set(full.segment_times()))
    i = bisect.bisect_right(starts, 3 * 3600 - 120)
    for _ in range(6):
        stepper.step(1)
        assert stepper.now() == starts[i]
        i += 1
    for _ in range(6):
        stepper.step(-1)
        i -= 1
        assert stepper.now() == starts[i - 1]
    stepper.seek(10**9)
    assert stepper.past_end and stepper.now() == stepper.end_s
    # a station's part of a page is read only when the station is shown
    lazy = stored_source(engine, run_id, at_s=30 * 3600, page_s=3 * 3600)
    tl = lazy.timeline
    assert not any(st.loaded for st in tl.stations.values()) and _held(tl) == 0
    assert tl.card("KTB", 30 * 3600) == full.card("KTB", 30 * 3600)
    assert [cs for cs, st in tl.stations.items() if st.loaded] == ["KTB"]


def test_attach_holds_the_last_page_and_loads_older_ones_on_demand(
    engine: Engine, tmp_path: Path
) -> None:
    run_id = run(scripted_scenario(hours=60, stations=2), engine, tmp_path).run_id
    full = Timeline.from_store(engine, run_id)
    source = attach_source(engine, run_id)  # 2 stations: pages of 24 h
    source.poll()
    tl = source.timeline
    assert tl.start_s == pytest.approx(full.end_s - 24 * 3600) and not source.paused
    edge = source.now()
    assert edge == full.end_s and _picture(tl, edge) == _picture(full, edge)
    source.seek(5 * 3600)  # before what it holds: that page is loaded and held
    assert source.paused and tl.start_s == 0.0
    assert _picture(tl, 5 * 3600) == _picture(full, 5 * 3600)
    source.poll()  # holding: no catching up into the held page
    assert _picture(tl, 5 * 3600) == _picture(full, 5 * 3600)
    source.toggle_pause()  # follow again: back to the edge
    source.poll()
    assert source.now() == edge and _picture(tl, edge) == _picture(full, edge)


def many_stations_toml(stations: int, hours: float = 1.0) -> str:
    """A scripted scenario of ``stations`` stations with call signs KAA, KAB, ... KDV."""
    blocks = [
        f'[[stations]]\ncall_sign = "K{chr(65 + i // 26)}{chr(65 + i % 26)}"\n'
        f'name = "Test {i}"\ncity = "Testville"\n'
        for i in range(stations)
    ]
    return scripted_toml(hours=hours, stations=0) + "\n".join(blocks)


async def test_a_hundred_stations_scroll_and_every_card_can_be_reached(
    engine: Engine, tmp_path: Path
) -> None:
    """Past a screenful the cards keep their height and the grid scrolls; the keys move the
    focus (and the view) to any card; only the cards in view are redrawn as time moves."""
    scenario = parse_scenario(many_stations_toml(100), "many.toml")
    run_id = run(scenario, engine, tmp_path).run_id
    app = PersonaApp(stored_source(engine, run_id, at_s=1800))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        grid, tl = app.grid, app.timeline
        assert len(app.cards) == 100 and grid.has_class("-scroll")
        assert grid.virtual_size.height >= 50 * CARD_HEIGHT > 2 * grid.size.height
        first, last = app.cards["KAA"], app.cards["KDV"]
        assert app.query_one("#card-KAA").region.height == CARD_HEIGHT
        assert grid.can_view_partial(first) and not grid.can_view_partial(last)
        app.seek(2400)
        await pilot.pause()
        assert first.last == tl.card("KAA", 2400)
        assert last.last == tl.card("KDV", 1800) != tl.card("KDV", 2400)  # out of view: as was
        await pilot.press("end")
        for _ in range(20):
            await pilot.pause(0.05)
            if last.last == tl.card("KDV", 2400):
                break
        assert app.focused is last and grid.scroll_y > 0 and grid.can_view_partial(last)
        assert last.last == tl.card("KDV", 2400)  # in view: drawn at the time shown
        await pilot.press("home")
        await pilot.pause(0.1)
        assert app.focused is first and grid.scroll_y == 0
        per_page = grid.cards_per_page
        await pilot.press("pagedown", "pagedown", "down")
        await pilot.pause(0.1)
        reached = list(app.cards.values())[2 * per_page + 2]
        assert app.focused is reached and grid.can_view_partial(reached)
        await pilot.press("up", "pageup")
        await pilot.pause(0.1)
        assert app.focused is list(app.cards.values())[per_page]
        await pilot.press("enter")
        assert isinstance(app.screen, StationScreen)
        assert app.screen.call_sign == list(app.cards)[per_page]


async def test_the_station_screen_names_the_station_and_lists_its_pane_keys(
    engine: Engine, stored: str
) -> None:
    app = PersonaApp(stored_source(engine, stored, at_s=3600))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StationScreen)
        title = str(screen.query_one("#station-title", Static).render())
        assert title.startswith("KTB Test 1 · ")
        footer = screen.query_one(Footer)
        shown = {getattr(k, "key", ""): getattr(k, "description", "")
                 for k in footer.query("FooterKey")}  # fmt: skip
        assert {key: shown.get(key) for key in "aklmdc"} == {
            "a": "as-run", "k": "talk", "l": "ledger", "d": "deals", "m": "messages",
            "c": "calls",
        }  # fmt: skip
        assert " a as-run " in str(screen.query_one("#tabs", Static).render())  # the tab bar stays


async def test_going_past_the_end_of_a_replay_says_where_it_ends(
    engine: Engine, stored: str
) -> None:
    app = RecordingApp(stored_source(engine, stored, at_s=5 * 3600))
    async with app.run_test(size=SIZE) as pilot:
        source = app.source
        assert isinstance(source, StoredSource)
        said = f"the run ends at {app.timeline.clock.label(source.end_s)}; stopped there"
        assert said == "the run ends at Mon 12:00; stopped there"
        await pilot.press("right_square_bracket")  # 5 h -> 6 h, the end: nothing to say
        assert app.now_s == source.end_s and app.notes == []
        await pilot.press("right_square_bracket")
        assert app.now_s == source.end_s and app.notes == [said]
        await pilot.press("n")  # no segment after the end
        assert app.notes == [said, said]
        await pilot.press("g", *"9h", "enter")
        await pilot.pause()
        assert app.now_s == source.end_s and app.notes == [said] * 3
        await pilot.press("g", *"2h", "enter")
        await pilot.pause()
        assert app.now_s == 2 * 3600 and len(app.notes) == 3
        assert [n.message for n in app._notifications] == [said] * 3


async def test_empty_station_panes_say_nothing_yet(engine: Engine, stored: str) -> None:
    app = PersonaApp(stored_source(engine, stored, at_s=0.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        screen = app.screen
        assert isinstance(screen, StationScreen)
        empty: set[str | None] = set()
        for key in "kldmc":
            await pilot.press(key)
            pane = screen.query_one(f"#pane-{PANES[key][0]}")
            shown = list(pane.children)
            for table in pane.query(DataTable):
                after = shown[shown.index(table) + 1 :]
                said = bool(after) and after[0].has_class("empty")
                assert said == (table.row_count == 0), (key, table.id)
                if said:
                    assert str(after[0].render()) == "nothing yet"
                    empty.add(table.id)
        assert len(empty) >= 4, empty  # little has been said, paid or written at the start
        await pilot.press("escape")
        app.seek(5 * 3600)  # later the panes fill: no placeholder over rows
        await pilot.press("1", "c")
        assert screen.query_one("#calls", DataTable).row_count > 0
        assert not screen.query_one("#pane-calls").query(".empty")


class GatedProvider:
    """A provider whose calls wait until the test opens the gate (a slow model)."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate
        self.name = inner.name
        self.max_concurrency = inner.max_concurrency

    def complete(self, request: Any) -> Any:
        self.gate.wait(60)
        return self.inner.complete(request)


async def test_watch_shows_stations_waiting_on_a_model(engine: Engine, tmp_path: Path) -> None:
    scenario = scripted_scenario(hours=1, stations=2)
    gate = threading.Event()
    gated = {route: GatedProvider(p, gate) for route, p in providers_for(scenario).items()}
    source = live_source(scenario, engine, log_dir=tmp_path, speed=math.inf,
                         run_kwargs={"providers": gated})  # fmt: skip
    app = PersonaApp(source, refresh_s=0.05)
    try:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                cards = list(app.cards.values())
                if len(cards) == 2 and all(c.waited_s is not None for c in cards):
                    break
            frozen = app.now_s
            await pilot.pause(1.2)
            assert set(source.waiting()) >= {"KTA", "KTB"} and app.now_s == frozen
            for card in app.cards.values():
                assert card.waited_s is not None and card.waited_s >= 1
                assert card.last is not None
                shown = render_card(card.last, card.index, card.waited_s)
                console = Console(record=True, width=60, file=io.StringIO())
                console.print(shown)
                assert re.search(r"waiting on model [1-9]\d* s", console.export_text())
            assert re.search(r"\d waiting on model [1-9]\d* s", str(app.status_bar.render()))
            gate.set()
            for _ in range(200):
                await pilot.pause(0.05)
                if source.finished:
                    break
            await pilot.pause(0.2)
            assert source.finished and source.error is None and source.waiting() == {}
            assert all(card.waited_s is None for card in app.cards.values())
            assert "waiting" not in str(app.status_bar.render())
    finally:
        gate.set()
    run_id = app.timeline.run_id
    log = (tmp_path / f"{run_id}.jsonl").read_text(encoding="utf-8").splitlines()
    logged = {json.loads(line)["event"] for line in log}
    assert "ModelCalled" in logged and not any("wait" in e.lower() for e in logged)
