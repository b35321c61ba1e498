"""Speech and WAV export against the real espeak-ng (through pyttsx3 and the espeak-ng program).

Nothing is mocked. Audio is never played: the machine may have no sound card, so the Speaker
runs with ``play=False`` (real synthesis, audio discarded) or with a stand-in player command
(``false``, ``sleep``) that behaves like a broken or hung audio device.
"""

from __future__ import annotations

import logging
import shutil
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from audio.export import AudioExportError, _join, render_wav, wav_duration
from audio.speech import (
    MAX_RATE_WPM,
    MIN_RATE_WPM,
    EspeakSynth,
    Speaker,
    clamp_rate,
    english_voices,
    pick_voice,
    speakable,
)

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)"
)

TWELVE = "Good morning, this is Persona FM with the traffic and weather together."
EIGHT = "Buy Sunny Acres oat milk at your corner store."
STATIONS = ("KPFM", "WXYZ", "KROK", "WFMU", "KEXP", "WNYC", "KCRW", "WBEZ", "KQED", "WAMU")


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def expected_range(words: int, rate_wpm: int, gaps_s: float = 0.0) -> tuple[float, float]:
    speech = words / rate_wpm * 60
    return 0.5 * speech + gaps_s, 2.0 * speech + gaps_s


@pytest.fixture
def speaker_factory() -> Iterator[Callable[..., Speaker]]:
    """Started speakers, always stopped afterwards (libespeak-ng allows one engine at a time)."""
    made: list[Speaker] = []

    def make(**kwargs: object) -> Speaker:
        speaker = Speaker(**kwargs)  # type: ignore[arg-type]
        made.append(speaker)
        speaker.start()
        return speaker

    yield make
    for speaker in made:
        speaker.stop()


# --------------------------------------------------------------------------- speakable


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("Good evening, Springfield.", "Good evening, Springfield."),
        ("Call\x00 now\x07 on\tthe\nline", "Call now on the line"),
        ("\x1b[31mRed\x1b[0m alert", "Red alert"),
        (
            "Tickets at https://persona.fm/tix?id=3 and www.example.com today",
            "Tickets at and today",
        ),
        ("Write to dj@persona.fm now", "Write to now"),
        ("***NEW*** hits ===== right here", "NEW hits right here"),
        ("Big sale!!!!! Hurry?!?!", "Big sale! Hurry?"),
        ("Rock 🎸🔥 on", "Rock on"),
        ("**bold** and `code` and #tag", "bold and code and tag"),
        ("-- and we're back", "and we're back"),
        ("ﬁne Cafe\u0301", "fine Café"),
        ("", ""),
        ("   \n\t ", ""),
        ("!!! ### ... ***", ""),
        ("https://only.a.link/", ""),
    ],
)
def test_speakable_cleans_text(raw: str, spoken: str) -> None:
    assert speakable(raw) == spoken


def test_speakable_bounds_length_at_a_sentence_or_word() -> None:
    sentences = "This is one sentence. " * 100
    text = speakable(sentences, max_chars=200)
    assert 100 <= len(text) <= 200
    assert text.endswith("sentence.")

    words = "word " * 300
    text = speakable(words, max_chars=120)
    assert len(text) <= 120
    assert text.endswith("word.")
    assert "wor." not in text

    assert len(speakable("A" * 1000, max_chars=50)) <= 50
    assert len(speakable(TWELVE * 50)) <= 600


def test_voice_helpers_are_pure_and_stable() -> None:
    ids = ["gmw/en-US", "mb/mb-en1", "!v/Storm", "roa/fr", "gmw/en", "gmw/en-GB-scotland"]
    assert english_voices(ids) == ("gmw/en", "gmw/en-gb-scotland", "gmw/en-us")
    assert english_voices(["roa/fr", "gmw/de"]) == ("gmw/de", "roa/fr")  # no English: all
    assert english_voices([]) == ()
    pool = english_voices(ids)
    assert pick_voice("KPFM", pool) == pick_voice(" kpfm ", pool)  # call signs, not spellings
    assert len({pick_voice(s, pool) for s in STATIONS}) > 1
    assert pick_voice("KPFM", ()) is None
    assert clamp_rate(10) == MIN_RATE_WPM
    assert clamp_rate(10_000) == MAX_RATE_WPM


# --------------------------------------------------------------------------- render_wav


@needs_espeak
@pytest.mark.parametrize("backend", ["pyttsx3", "espeak-ng"])
def test_render_wav_duration_follows_word_count(tmp_path: Path, backend: str) -> None:
    path = tmp_path / "break.wav"
    gap = 0.4
    seconds = render_wav(
        [("KPFM", TWELVE), ("KPFM", EIGHT)], path, rate_wpm=165, gap_s=gap, backend=backend
    )
    low, high = expected_range(12 + 8, 165, gaps_s=gap)
    assert low <= seconds <= high
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() >= 1
        assert wav.getsampwidth() > 0
        assert wav.getframerate() > 0
        assert wav.getnframes() > 0
    assert wav_duration(path) == pytest.approx(seconds)
    assert not list(tmp_path.glob("*.part"))


@needs_espeak
def test_gap_joins_segments_end_to_end(tmp_path: Path) -> None:
    a = render_wav([("KPFM", TWELVE)], tmp_path / "a.wav")
    b = render_wav([("KPFM", EIGHT)], tmp_path / "b.wav")
    both = render_wav([("KPFM", TWELVE), ("KPFM", EIGHT)], tmp_path / "ab.wav", gap_s=0.4)
    assert both > max(a, b)
    assert both == pytest.approx(a + b + 0.4, abs=0.01)
    no_gap = render_wav([("KPFM", TWELVE), ("KPFM", EIGHT)], tmp_path / "ab0.wav", gap_s=0)
    assert no_gap == pytest.approx(a + b, abs=0.01)


@needs_espeak
def test_rate_and_voice_reach_the_engine(tmp_path: Path) -> None:
    """pyttsx3's driver can silently keep an old rate or voice; the audio must show the new."""
    slow = render_wav([("KPFM", TWELVE)], tmp_path / "slow.wav", rate_wpm=100, backend="pyttsx3")
    fast = render_wav([("KPFM", TWELVE)], tmp_path / "fast.wav", rate_wpm=300, backend="pyttsx3")
    assert slow > 2 * fast
    for voice in ("gmw/en-us", "gmw/en-gb-scotland"):
        render_wav([("KPFM", TWELVE)], tmp_path / f"{voice[4:]}.wav", voice=voice)
    with (
        wave.open(str(tmp_path / "en-us.wav"), "rb") as us,
        wave.open(str(tmp_path / "en-gb-scotland.wav"), "rb") as scot,
    ):
        assert us.readframes(us.getnframes()) != scot.readframes(scot.getnframes())


@needs_espeak
def test_pyttsx3_and_espeak_ng_program_agree(tmp_path: Path) -> None:
    segments = [("KPFM", TWELVE), ("WXYZ", EIGHT), ("KROK", "And now, the weather.")]
    via_pyttsx3 = render_wav(segments, tmp_path / "p.wav", backend="pyttsx3")
    via_program = render_wav(segments, tmp_path / "e.wav", backend="espeak-ng")
    assert via_pyttsx3 == pytest.approx(via_program, rel=0.02)


@needs_espeak
@pytest.mark.parametrize("backend", ["auto", "pyttsx3", "espeak-ng"])
def test_voice_names_are_checked(tmp_path: Path, backend: str) -> None:
    # the espeak-ng program alone would read "no-such-voice" as Norwegian and exit 0
    with pytest.raises(AudioExportError, match="unknown espeak-ng voice 'no-such-voice'"):
        render_wav([("KPFM", TWELVE)], tmp_path / "x.wav", voice="no-such-voice", backend=backend)
    assert not (tmp_path / "x.wav").exists()
    for alias in ("gmw/en-us", "en-US", "English (America)"):
        assert render_wav([("KPFM", EIGHT)], tmp_path / "ok.wav", voice=alias, backend=backend) > 1


def test_nothing_speakable_raises(tmp_path: Path) -> None:
    with pytest.raises(AudioExportError, match="nothing speakable"):
        render_wav([("KPFM", "https://persona.fm ***"), ("WXYZ", "  ")], tmp_path / "x.wav")
    with pytest.raises(AudioExportError, match="nothing speakable"):
        render_wav([], tmp_path / "y.wav")
    assert not list(tmp_path.iterdir())


def test_missing_espeak_ng_program_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no espeak-ng on PATH
    with pytest.raises(AudioExportError, match=r"apt-get install espeak-ng"):
        render_wav([("KPFM", TWELVE)], tmp_path / "x.wav", backend="espeak-ng")


def test_join_refuses_parts_in_different_formats(tmp_path: Path) -> None:
    parts = []
    for index, rate in enumerate((22050, 16000)):
        part = tmp_path / f"{index}.wav"
        with wave.open(str(part), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(b"\0\0" * 100)
        parts.append(part)
    with pytest.raises(AudioExportError, match=r"16000 Hz.*22050 Hz"):
        _join(parts, tmp_path / "joined.wav", 0.1)
    assert not (tmp_path / "joined.wav").exists()
    assert _join(parts[:1] * 2, tmp_path / "joined.wav", 0.5) == pytest.approx(0.5 + 200 / 22050)


# --------------------------------------------------------------------------- Speaker


@needs_espeak
def test_speaker_voices_are_stable_and_vary_by_station(
    speaker_factory: Callable[..., Speaker],
) -> None:
    first = speaker_factory(play=False)
    assert first.available, first.problem
    assert first.problem is None
    voices = {s: first.voice_for(s) for s in STATIONS}
    assert all(v in first.voices for v in voices.values())
    first.stop()

    second = speaker_factory(play=False)  # a fresh engine on a fresh thread
    assert {s: second.voice_for(s) for s in STATIONS} == voices
    if len(english_voices(second.voices)) > 1:
        assert len(set(voices.values())) > 1


@needs_espeak
def test_say_never_blocks_and_the_queue_stays_bounded(
    speaker_factory: Callable[..., Speaker],
) -> None:
    speaker = speaker_factory(play=False, max_queue=4)
    accepted = 0
    for i in range(60):  # how fast say returns is measured by bench/replay.py, not here
        accepted += speaker.say(STATIONS[i % 3], f"Segment {i}: {TWELVE}")
        assert speaker.pending <= 4
    assert accepted == 60  # full queue: the oldest utterance makes room, say still accepts
    assert speaker.dropped > 0
    assert wait_for(lambda: speaker.spoken + speaker.dropped == accepted)
    assert speaker.spoken >= 4  # the newest ones survived and were really synthesised
    assert speaker.available


@needs_espeak
def test_stop_returns_promptly_with_work_queued(speaker_factory: Callable[..., Speaker]) -> None:
    speaker = speaker_factory(play=False)
    for i in range(20):
        speaker.say("KPFM", f"Item {i}. {TWELVE} {TWELVE}")
    speaker.stop()
    assert speaker.spoken < 20  # stop dropped the queue instead of speaking it all first
    assert not speaker.running
    assert speaker.say("KPFM", TWELVE) is False
    with EspeakSynth() as synth:  # the engine was handed back
        assert synth.voices


@needs_espeak
def test_hung_audio_device_never_blocks_the_caller(
    speaker_factory: Callable[..., Speaker],
) -> None:
    hung = ("sh", "-c", "sleep 30", "sh")  # a player that never finishes, like a stuck device
    speaker = speaker_factory(player=hung)
    assert speaker.available, speaker.problem
    assert speaker.say("KPFM", TWELVE)
    assert wait_for(lambda: speaker.pending == 0)
    time.sleep(0.2)  # synthesis is quick; the player is now "playing"
    started = time.perf_counter()
    for _ in range(20):
        speaker.say("WXYZ", EIGHT)
    assert time.perf_counter() - started < 15  # the stuck player would hold it for 30 s
    speaker.clear()  # focus moved: drop the queue, cut the stuck utterance
    assert speaker.pending == 0
    assert wait_for(lambda: speaker.interrupted == 1, 2.0)
    assert speaker.available
    speaker.say("KPFM", TWELVE)
    started = time.perf_counter()
    speaker.stop()
    assert time.perf_counter() - started < 15  # not the stuck player's 30 s


@needs_espeak
def test_failing_audio_device_turns_speech_off_once(
    speaker_factory: Callable[..., Speaker],
) -> None:
    speaker = speaker_factory(player=("false",))
    assert speaker.say("KPFM", TWELVE)
    assert wait_for(lambda: not speaker.available)
    assert speaker.problem is not None
    assert speaker.problem.startswith("speech off: audio playback failed")
    assert "\n" not in speaker.problem
    assert speaker.say("KPFM", TWELVE) is False


@needs_espeak
def test_no_audio_player_is_reported(
    speaker_factory: Callable[..., Speaker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no aplay, paplay or pw-play
    speaker = speaker_factory()
    assert not speaker.available
    assert speaker.problem == "speech off: no audio player found (apt-get install alsa-utils)"
    assert speaker.voice_for("KPFM") is not None  # the engine itself worked
    assert speaker.say("KPFM", TWELVE) is False


def test_missing_driver_fails_softly(speaker_factory: Callable[..., Speaker]) -> None:
    speaker = speaker_factory(driver_name="nonexistent")
    assert not speaker.available
    assert speaker.problem is not None
    assert "nonexistent" in speaker.problem
    assert "\n" not in speaker.problem
    assert speaker.say("KPFM", TWELVE) is False
    assert speaker.voice_for("KPFM") is None
    speaker.stop()


def test_disabled_speaker_refuses_politely(speaker_factory: Callable[..., Speaker]) -> None:
    speaker = speaker_factory(enabled=False, play=False)
    assert not speaker.available
    assert speaker.problem == "speech off: disabled"
    assert speaker.say("KPFM", TWELVE) is False


@needs_espeak
def test_enable_toggle_and_nothing_speakable(speaker_factory: Callable[..., Speaker]) -> None:
    speaker = speaker_factory(enabled=False, play=False)
    speaker.set_enabled(True)
    assert speaker.available and speaker.problem is None
    assert speaker.say("KPFM", "https://persona.fm") is False  # nothing to read
    assert speaker.say("KPFM", TWELVE)
    assert wait_for(lambda: speaker.spoken == 1)
    speaker.set_enabled(False)
    assert speaker.say("KPFM", TWELVE) is False


@needs_espeak
def test_one_engine_per_process(
    speaker_factory: Callable[..., Speaker], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = speaker_factory(play=False)
    second = speaker_factory(play=False)
    assert first.available
    assert not second.available
    assert second.problem is not None and "already in use" in second.problem
    with caplog.at_level(logging.INFO, logger="audio.export"):
        seconds = render_wav([("KPFM", TWELVE)], tmp_path / "x.wav")  # while first speaks
    assert seconds > 1.0
    assert "espeak-ng program" in caplog.text
