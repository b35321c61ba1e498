"""Speak the focused station's talk and ad reads aloud through espeak-ng, driven by pyttsx3.

pyttsx3 2.99's espeak driver on Linux has traps that shape this module (all seen on espeak-ng 1.51):

* ``runAndWait()`` can return as soon as synthesis *starts*; the WAV is written later from
  espeak's own callback thread. :class:`EspeakSynth` waits for the ``finished-utterance`` event
  and for the driver to go idle before it trusts the file or queues the next utterance.
* Setting the voice and then the rate in one batch lost the rate in about half of our trials
  (the voice switch resets it); rate, voice, rate never did (0 wrong in 800 random switches,
  checked against the espeak-ng program's output for the same voice and rate).
* libespeak-ng has ONE process-wide synthesis callback, re-pointed by every new driver: two live
  engines in one process steal each other's audio and one waits for ever. :data:`ESPEAK_LOCK`
  lets only one engine exist at a time; a second :class:`EspeakSynth` fails cleanly instead.
* The driver prints ``Audio saved to …`` on stdout for every file, which would scribble over the
  TUI, so that one ``print`` is silenced.
* ``engine.say()`` plays through ``os.system("aplay …")`` from the callback thread: errors land on
  the terminal and playback cannot be interrupted. The :class:`Speaker` therefore synthesises
  each utterance with ``save_to_file`` and plays the WAV itself with ``aplay`` (or ``paplay``,
  ``pw-play``) in a child process that it can time out and kill.

Without an audio device (a headless box, a container, CI) the Speaker probes the player once at
start: no player on PATH, a player that fails, or one that hangs makes ``available`` False with
a one-line ``problem``, and ``say`` returns False. ``Speaker(play=False)`` still runs the real
engine on its thread (synthesising and discarding the audio), which is how the tests exercise it.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
import wave
import weakref
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

MIN_RATE_WPM = 80  # espeak-ng's own limits; rates outside are clamped
MAX_RATE_WPM = 450
DEFAULT_MAX_CHARS = 600  # about 100 words, ~35 s at 165 wpm: one talk break, not a monologue

ESPEAK_LOCK = threading.Lock()
"""Held by whichever :class:`EspeakSynth` exists; libespeak-ng allows one user per process."""

ESPEAK_INSTALL_HINT = "espeak-ng not found (apt-get install espeak-ng)"
_PLAYERS: tuple[tuple[str, ...], ...] = (("aplay", "-q"), ("paplay",), ("pw-play",))


class SpeechUnavailable(RuntimeError):
    """The TTS engine cannot be created here; the message is one human-readable line."""


class SpeechError(RuntimeError):
    """One utterance failed (the engine stalled, rejected a voice, or wrote no audio)."""


class UnknownVoice(SpeechError):
    """The voice is not installed. Checked up front: a voice that espeak-ng rejects leaves
    pyttsx3's driver in a state where later rate changes can be lost."""


def unknown_voice_message(voice: str) -> str:
    return f"unknown espeak-ng voice {voice!r} (list them with `espeak-ng --voices`)"


def voice_aliases(voice_id: str, name: str = "", languages: Iterable[str] = ()) -> set[str]:
    """The lower-cased names by which espeak-ng finds a voice: file id (``gmw/en-us``), its
    last part (``en-us``), display name (``English (America)``) and language codes."""
    names = {voice_id, voice_id.rsplit("/", 1)[-1], name, name.replace("_", " "), *languages}
    return {n.strip().lower() for n in names if n and n.strip()}


# --------------------------------------------------------------------------- text and voices

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.I)
_MARKUP = set("*_#`~|<>[]{}^\\")
_PUNCT_RUN = re.compile(r"[^\w\s]{3,}")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = ".!?"


def _plain_char(ch: str) -> str:
    if ch in _MARKUP:
        return " "
    cat = unicodedata.category(ch)
    # control, format, surrogate, private use, unassigned; emoji and other pictographs
    if cat[0] == "C" or cat in ("So", "Sk"):
        return " "
    return ch


def _squash_run(match: re.Match[str]) -> str:
    """Keep one sentence end from a run like ``!!!`` or ``?!?!``; drop ``=====`` and ``-*-*-``."""
    run = match.group(0)
    ends = [c for c in run if c in _SENTENCE_END]
    return ends[0] if ends else " "


def speakable(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """What of ``text`` is worth reading aloud: no control characters, URLs, e-mail addresses,
    markup, emoji or runs of symbols; whitespace collapsed; at most ``max_chars`` characters,
    cut at a sentence end (or failing that a word) and closed with a full stop.
    Returns "" when nothing with a letter or digit is left."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    text = unicodedata.normalize("NFKC", text)
    text = _ANSI.sub(" ", text)  # terminal colour codes would otherwise leave "31m" behind
    text = _URL.sub(" ", text)
    text = "".join(_plain_char(ch) for ch in text)
    text = _PUNCT_RUN.sub(_squash_run, text)
    text = _SPACE.sub(" ", text).strip().lstrip("-,;:.!?)]} ").strip()
    if not any(ch.isalnum() for ch in text):
        return ""
    if len(text) > max_chars:
        cut = text[: max_chars + 1]
        sentence = max(cut.rfind(c) for c in _SENTENCE_END)
        if sentence >= max_chars // 2:
            text = cut[: sentence + 1]
        else:
            space = cut.rfind(" ")
            text = cut[:space] if space > 0 else cut[:max_chars]
            text = text.rstrip(" ,;:-'\"(") + "."
            if len(text) > max_chars:  # a single enormous word
                text = text[: max_chars - 1] + "."
    return text


def english_voices(voice_ids: Iterable[str]) -> tuple[str, ...]:
    """The English voices among ``voice_ids``, lower-cased and sorted (all voices if none is).

    MBROLA voices (``mb/…``, need the separate mbrola program) and bare variants (``!v/…``)
    are left out: espeak-ng lists them even when they cannot speak."""
    usable = sorted({v.lower() for v in voice_ids if v and not v.startswith(("mb/", "!v/"))})
    english = tuple(v for v in usable if v.rsplit("/", 1)[-1].startswith("en"))
    return english or tuple(usable)


def pick_voice(station: str, voices: Sequence[str]) -> str | None:
    """A stable voice for ``station``: CRC-32 of the call sign (unlike ``hash()``, not salted
    per process) indexes the sorted voice list, so a station sounds the same on every run."""
    if not voices:
        return None
    return voices[zlib.crc32(station.strip().upper().encode("utf-8")) % len(voices)]


def clamp_rate(rate_wpm: int) -> int:
    return max(MIN_RATE_WPM, min(MAX_RATE_WPM, int(rate_wpm)))


# --------------------------------------------------------------------------- the engine


def _libespeak_present() -> bool:
    for name in ("libespeak-ng.so.1", "libespeak.so.1"):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def _quiet(*_args: object, **_kwargs: object) -> None:
    """Stands in for ``print`` inside pyttsx3's espeak driver (see module notes)."""


class EspeakSynth:
    """One pyttsx3 engine, used only from the thread that created it, with a synchronous
    :meth:`to_file`. Holds :data:`ESPEAK_LOCK` until :meth:`close`."""

    def __init__(self, driver_name: str | None = None) -> None:
        if not ESPEAK_LOCK.acquire(blocking=False):
            raise SpeechUnavailable("espeak-ng is already in use by another speaker here")
        try:
            self._engine, self.driver_name, self._is_playing = self._create(driver_name)
            self._thread = threading.get_ident()
            self._done = threading.Event()
            self._errors: list[str] = []
            self._completed = False
            self._used = False
            self._engine.connect("finished-utterance", self._on_finished)
            self._engine.connect("error", self._on_error)
            voices = self._engine.getProperty("voices")
            self.voices: tuple[str, ...] = tuple(sorted(str(v.id) for v in voices))
            self._voice_names: set[str] = set()
            for v in voices:
                self._voice_names |= voice_aliases(
                    str(v.id), str(v.name or ""), [str(lang) for lang in v.languages or ()]
                )
        except BaseException:
            self._engine = None
            ESPEAK_LOCK.release()
            raise

    @staticmethod
    def _create(driver_name: str | None) -> tuple[Any, str, Callable[[], int] | None]:
        try:
            import pyttsx3.engine
        except ImportError as exc:
            raise SpeechUnavailable(f"pyttsx3 not installed (pip install pyttsx3): {exc}") from exc
        driver = driver_name or pyttsx3.engine.default_engine_by_sys_platform()
        try:
            module = importlib.import_module(f"pyttsx3.drivers.{driver}")
        except ModuleNotFoundError as exc:
            raise SpeechUnavailable(f"pyttsx3 has no {driver!r} driver") from exc
        except Exception as exc:  # the espeak driver raises at import when the library is absent
            if driver == "espeak" and not _libespeak_present():
                raise SpeechUnavailable(ESPEAK_INSTALL_HINT) from exc
            raise SpeechUnavailable(f"pyttsx3 {driver} driver failed to load: {exc}") from exc
        if driver == "espeak":
            module.print = _quiet  # type: ignore[attr-defined]
        try:
            # Engine(), not pyttsx3.init(): init() hands back a cached engine that may belong to
            # another (possibly finished) thread.
            engine = pyttsx3.engine.Engine(driver)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SpeechUnavailable(f"could not start the {driver} TTS engine: {reason}") from exc
        is_playing = getattr(getattr(module, "_espeak", None), "IsPlaying", None)
        return engine, driver, is_playing

    def _on_finished(self, completed: bool = True, **_kw: object) -> None:
        self._completed = bool(completed)
        self._done.set()

    def _on_error(self, exception: BaseException | None = None, **_kw: object) -> None:
        self._errors.append(str(exception) if exception else "unknown pyttsx3 error")

    def to_file(
        self,
        text: str,
        path: Path,
        *,
        voice: str | None = None,
        rate_wpm: int = 165,
        timeout_s: float | None = None,
    ) -> None:
        """Synthesise ``text`` into the WAV file ``path``; returns once the file is complete."""
        if self._engine is None:
            raise SpeechError("engine closed")
        if threading.get_ident() != self._thread:
            raise RuntimeError("an EspeakSynth must be used from the thread that created it")
        if not text.strip():
            raise SpeechError("nothing to say")
        if voice and voice.strip().lower() not in self._voice_names:
            raise UnknownVoice(unknown_voice_message(voice))
        limit = timeout_s if timeout_s is not None else 10.0 + len(text) / 50
        # One retry: the driver cancels a new utterance when espeak still reports the previous
        # one as playing; _wait_idle makes that rare, the retry makes it harmless.
        for attempt in (1, 2):
            if self._synthesise(text, path, voice, clamp_rate(rate_wpm), limit) or attempt == 2:
                break
        if self._errors:
            raise SpeechError(self._errors[0])
        if not self._completed:
            raise SpeechError("espeak-ng cancelled the utterance")
        try:
            with wave.open(str(path), "rb") as wav:
                frames = wav.getnframes()
        except (OSError, EOFError, wave.Error) as exc:
            raise SpeechError(f"espeak-ng wrote no readable WAV: {exc}") from exc
        if frames == 0:
            raise SpeechError("espeak-ng wrote an empty WAV")

    def _synthesise(
        self, text: str, path: Path, voice: str | None, rate: int, limit: float
    ) -> bool:
        """One attempt; True when it completed (or failed for a reason a retry will not fix)."""
        engine = self._engine
        # A fresh driver reports busy until its first run loop (it queues the commands below);
        # afterwards it runs them at once and espeak applies them on its own thread.
        settle = self._used
        self._used = True
        if settle:
            self._wait_idle()
        self._done.clear()
        self._errors.clear()
        self._completed = False
        path.unlink(missing_ok=True)
        engine.setProperty("rate", rate)
        if voice:
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)  # again: the voice switch can drop the first one
        engine.save_to_file(text, str(path))
        if settle:
            # runAndWait() first calls the driver's stop(), which cancels the next utterance if
            # espeak still counts as "playing" while it applies the rate and voice just sent.
            self._wait_idle()
        engine.runAndWait()
        if not self._done.wait(limit):
            raise SpeechError(f"espeak-ng did not finish an utterance within {limit:.0f} s")
        self._wait_idle()
        return self._completed or bool(self._errors)

    def _wait_idle(self, limit_s: float = 1.0) -> None:
        """The finished event fires just before the driver marks itself idle, and espeak's own
        thread may still be winding down: commands sent in that gap run on espeak's callback
        thread or cancel the next utterance, so wait for both to settle."""
        engine = self._engine
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            playing = bool(self._is_playing()) if self._is_playing is not None else False
            if not engine.isBusy() and not playing:
                return
            time.sleep(0.002)

    def __enter__(self) -> EspeakSynth:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the engine (its driver unhooks the espeak callback) and release the lock."""
        if self._engine is None:
            return
        self._engine = None  # last reference: the DriverProxy's __del__ runs destroy() now
        ESPEAK_LOCK.release()


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
