"""Speak the focused station's talk and ad reads aloud through espeak-ng, driven by pyttsx3.

``engine.say()`` in pyttsx3's espeak driver plays through ``os.system("aplay …")`` from the
callback thread: errors land on the terminal and playback cannot be interrupted. The
:class:`Speaker` therefore synthesises each utterance with ``save_to_file`` (through
:class:`audio.espeak.EspeakSynth`, which works around the driver's other traps) and plays the
WAV itself with ``aplay`` (or ``paplay``, ``pw-play``) in a child process that it can time out
and kill.

Without an audio device (a headless box, a container, CI) the Speaker probes the player once at
start: no player on PATH, a player that fails, or one that hangs makes ``available`` False with
a one-line ``problem``, and ``say`` returns False. ``Speaker(play=False)`` still runs the real
engine on its thread (synthesising and discarding the audio), which is how the tests exercise it.

What is read aloud, and in which voice, is ``audio.voices``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import wave
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audio.espeak import (
    ESPEAK_LOCK,
    EspeakSynth,
    SpeechError,
    SpeechUnavailable,
    UnknownVoice,
)
from audio.voices import (
    MAX_RATE_WPM,
    MIN_RATE_WPM,
    clamp_rate,
    english_voices,
    pick_voice,
    speakable,
    voice_aliases,
)

__all__ = [
    "ESPEAK_LOCK",
    "MAX_RATE_WPM",
    "MIN_RATE_WPM",
    "EspeakSynth",
    "Speaker",
    "SpeechError",
    "SpeechUnavailable",
    "UnknownVoice",
    "clamp_rate",
    "english_voices",
    "pick_voice",
    "speakable",
    "voice_aliases",
]

_PLAYERS: tuple[tuple[str, ...], ...] = (("aplay", "-q"), ("paplay",), ("pw-play",))


# --------------------------------------------------------------------------- the speaker


@dataclass(frozen=True, slots=True)
class _Utterance:
    station: str
    text: str
    generation: int


def _silence_wav(path: Path, seconds: float = 0.05, rate: int = 22050) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * int(rate * seconds))


def _first_line(data: bytes | str | None) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class Speaker:
    """Reads station talk aloud on one daemon thread that owns the pyttsx3 engine.

    The queue holds at most ``max_queue`` utterances. When it is full, ``say`` drops the OLDEST
    one to make room (``dropped`` counts them): on the radio the newest break is the one on air,
    and a fast simulation must never build a backlog that keeps talking minutes behind. Each
    utterance is also capped by :func:`speakable` (~35 s), so the backlog is bounded in time too.

    ``say`` only touches the queue, so it never blocks. ``clear`` empties the queue and cuts off
    the utterance being played (use it when the focused station changes). ``stop`` joins the
    thread; it returns within about a second because playback runs in a child process that is
    killed, and synthesis (hundreds of times faster than real time) has a timeout.

    ``play=False`` synthesises every utterance with the real engine and discards the audio.
    A stopped Speaker stays stopped; make a new one to speak again.
    ``player`` overrides the audio player command (the WAV path is appended); an explicit
    player is trusted and not probed at start, but a failing one still switches speech off.
    """

    PROBE_TIMEOUT_S = 3.0
    START_TIMEOUT_S = 6.0
    POLL_S = 0.05

    def __init__(
        self,
        enabled: bool = True,
        rate_wpm: int = 165,
        max_queue: int = 8,
        *,
        driver_name: str | None = None,
        play: bool = True,
        player: Sequence[str] | None = None,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.rate_wpm = clamp_rate(rate_wpm)
        self.max_queue = max_queue
        self._enabled = enabled
        self._driver_name = driver_name
        self._play = play
        self._player: tuple[str, ...] | None = tuple(player) if player else None
        self._player_given = player is not None
        self._queue: queue.Queue[_Utterance] = queue.Queue(maxsize=max_queue)
        self._put_lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._engine_ok = False
        self._failure: str | None = None
        self._voices: tuple[str, ...] = ()
        self._pool: tuple[str, ...] = ()
        self.spoken = 0  # utterances synthesised (and played, when playing) to the end
        self.dropped = 0  # utterances pushed out of a full queue
        self.interrupted = 0  # utterances cut off by clear() or stop()

    # ---- state

    @property
    def available(self) -> bool:
        """True when ``say`` would be accepted: started, engine working, output working, on."""
        return self._engine_ok and self._failure is None and self._enabled

    @property
    def problem(self) -> str | None:
        """One line saying why speech is off, or None when it works (or has not started)."""
        if self._failure is not None:
            return f"speech off: {self._failure}"
        if not self._enabled:
            return "speech off: disabled"
        return None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def voices(self) -> tuple[str, ...]:
        """Every voice the engine reported, sorted; empty until started (or if it failed)."""
        return self._voices

    @property
    def running(self) -> bool:
        """Whether the speech thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def voice_for(self, station: str) -> str | None:
        """The station's voice (stable across runs), from the engine's English voices."""
        return pick_voice(station, self._pool)

    # ---- control

    def start(self) -> None:
        """Start the speech thread and wait (at most ``START_TIMEOUT_S``) until the engine and
        audio output are checked, so ``available`` and ``problem`` mean something afterwards."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="persona-fm-speech", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.START_TIMEOUT_S) and self._failure is None:
            self._failure = "speech engine did not start in time"

    def say(self, station: str, text: str) -> bool:
        """Queue ``text`` in ``station``'s voice. Never blocks. False when speech is off, the
        text has nothing speakable, or the queue could not take it."""
        if not self.available or self._stop.is_set() or self._thread is None:
            return False
        clean = speakable(text)
        if not clean:
            return False
        with self._put_lock:
            item = _Utterance(station, clean, self._generation)
            for _ in range(self.max_queue + 1):
                try:
                    self._queue.put_nowait(item)
                    return True
                except queue.Full:
                    with contextlib.suppress(queue.Empty):
                        self._queue.get_nowait()
                        self.dropped += 1
        return False

    def set_enabled(self, flag: bool) -> None:
        """Turn speech on or off; turning it off also empties the queue and cuts the voice."""
        self._enabled = flag
        if not flag:
            self.clear()

    def clear(self) -> None:
        """Drop everything queued and cut off the utterance being played, if any."""
        with self._put_lock:
            self._generation += 1
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread (dropping what is queued) and wait for it to finish."""
        self._stop.set()
        self.clear()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def __enter__(self) -> Speaker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- the thread

    def _fail(self, reason: str) -> None:
        if self._failure is None:  # keep the first reason: it is the cause, later ones follow
            self._failure = reason

    def _run(self) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="personafm-speech-"))
        # a daemon thread never reaches its finally when the program exits without stop()
        remove_workdir = weakref.finalize(self, shutil.rmtree, workdir, ignore_errors=True)
        synth: EspeakSynth | None = None
        try:
            try:
                synth = EspeakSynth(self._driver_name)
            except SpeechUnavailable as exc:
                self._fail(str(exc))
                return
            self._voices = synth.voices
            self._pool = english_voices(synth.voices)
            if self._play and not self._choose_player(workdir):
                return
            self._engine_ok = True
            self._ready.set()
            self._loop(synth, workdir)
        except Exception as exc:  # never let the thread die silently
            self._fail(f"speech thread crashed: {type(exc).__name__}: {exc}")
        finally:
            self._engine_ok = False
            self._ready.set()
            if synth is not None:
                synth.close()
            remove_workdir()

    def _choose_player(self, workdir: Path) -> bool:
        if self._player_given:
            return True
        for candidate in _PLAYERS:
            if shutil.which(candidate[0]):
                self._player = candidate
                break
        else:
            self._fail("no audio player found (apt-get install alsa-utils)")
            return False
        probe = workdir / "probe.wav"
        _silence_wav(probe)
        outcome, detail = self._run_player(probe, self.PROBE_TIMEOUT_S, lambda: self._stop.is_set())
        name = self._player[0]
        if outcome == "hung":
            self._fail(f"audio device not responding ({name} hung)")
        elif outcome == "failed":
            self._fail(f"no usable audio device ({name}: {detail})")
        return outcome == "ok"

    def _loop(self, synth: EspeakSynth, workdir: Path) -> None:
        wav = workdir / "utterance.wav"
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=self.POLL_S * 4)
            except queue.Empty:
                continue
            if not self._enabled or item.generation != self._generation:
                continue
            try:
                synth.to_file(
                    item.text, wav, voice=self.voice_for(item.station), rate_wpm=self.rate_wpm
                )
            except SpeechError as exc:
                self._fail(f"espeak-ng failed: {exc}")
                return
            if item.generation != self._generation:  # cleared while it was being synthesised
                self.interrupted += 1
                continue
            if self._play and not self._play_wav(wav, item.generation):
                if self._failure is not None:
                    return
                self.interrupted += 1
                continue
            self.spoken += 1

    def _play_wav(self, wav: Path, generation: int) -> bool:
        """Play through the player; False if cut off (by clear/stop) or failed (sets problem)."""
        with wave.open(str(wav), "rb") as w:
            seconds = w.getnframes() / max(1, w.getframerate())
        outcome, detail = self._run_player(
            wav,
            2 * seconds + 5.0,
            lambda: self._stop.is_set() or generation != self._generation or not self._enabled,
        )
        name = self._player[0] if self._player else "player"
        if outcome == "hung":
            self._fail(f"audio device not responding ({name} hung)")
        elif outcome == "failed":
            self._fail(f"audio playback failed ({name}: {detail})")
        return outcome == "ok"

    def _run_player(
        self, wav: Path, limit_s: float, cancelled: Callable[[], bool]
    ) -> tuple[str, str]:
        """Run the player on ``wav``: ("ok" | "cancelled" | "hung" | "failed", detail).

        The player gets its own session so that killing it also kills anything it started
        (``sh -c …`` wrappers, pipelines), and its stderr goes to a file, not a pipe that a
        surviving grandchild could hold open."""
        assert self._player is not None
        errors = wav.with_suffix(".err")
        try:
            with errors.open("wb") as err:
                proc = subprocess.Popen(
                    [*self._player, str(wav)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    start_new_session=True,
                )
        except OSError as exc:
            return "failed", str(exc)
        deadline = time.monotonic() + limit_s
        outcome = ""
        try:
            while outcome == "":
                try:
                    proc.wait(self.POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancelled():
                    outcome = "cancelled"
                elif time.monotonic() > deadline:
                    outcome = "hung"
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if outcome:
            return outcome, ""
        if proc.returncode != 0:
            detail = _first_line(errors.read_bytes()) or f"exit status {proc.returncode}"
            return "failed", detail
        return "ok", ""
