"""The espeak-ng engine, driven by pyttsx3, made synchronous: :class:`EspeakSynth` writes one
utterance to a WAV file and returns once the file is complete.

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

``audio.speech.Speaker`` runs one on its thread; ``audio.export`` renders WAV files with it.
"""

from __future__ import annotations

import ctypes
import importlib
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audio.voices import clamp_rate, voice_aliases

ESPEAK_LOCK = threading.Lock()
"""Held by whichever :class:`EspeakSynth` exists; libespeak-ng allows one user per process."""

ESPEAK_INSTALL_HINT = "espeak-ng not found (apt-get install espeak-ng)"


class SpeechUnavailable(RuntimeError):
    """The TTS engine cannot be created here; the message is one human-readable line."""


class SpeechError(RuntimeError):
    """One utterance failed (the engine stalled, rejected a voice, or wrote no audio)."""


class UnknownVoice(SpeechError):
    """The voice is not installed. Checked up front: a voice that espeak-ng rejects leaves
    pyttsx3's driver in a state where later rate changes can be lost."""


def unknown_voice_message(voice: str) -> str:
    return f"unknown espeak-ng voice {voice!r} (list them with `espeak-ng --voices`)"


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
