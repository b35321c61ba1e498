"""Render a station's talk and ad reads, in air order, to one WAV file with espeak-ng.

Two ways to reach the same engine:

* ``"pyttsx3"``: pyttsx3's espeak driver and its ``save_to_file`` (through
  :class:`audio.espeak.EspeakSynth`, which works around the driver's races). This is what
  ``backend="auto"`` uses, and it works on the development machine (pyttsx3 2.99, espeak-ng 1.51).
* ``"espeak-ng"``: the ``espeak-ng`` program (``espeak-ng -w part.wav -s RATE -v VOICE``, text on
  stdin). ``auto`` falls back to it when pyttsx3 or libespeak-ng cannot be loaded, when the
  driver fails to write a file, or when a :class:`audio.speech.Speaker` already holds the engine
  in this process (libespeak-ng serves one engine per process).

Which one ran is logged at INFO on the ``audio.export`` logger. Each segment becomes its own
temporary WAV; the parts are joined with :mod:`wave`, ``gap_s`` of silence between them.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from audio.espeak import (
    ESPEAK_INSTALL_HINT,
    EspeakSynth,
    SpeechError,
    SpeechUnavailable,
    UnknownVoice,
    unknown_voice_message,
)
from audio.voices import clamp_rate, english_voices, pick_voice, speakable, voice_aliases

__all__ = ["AudioExportError", "Backend", "render_wav", "wav_duration"]

log = logging.getLogger(__name__)

Backend = Literal["auto", "pyttsx3", "espeak-ng"]
_BINARY_TIMEOUT_S = 60.0


class AudioExportError(RuntimeError):
    """The WAV could not be made; the message says why and what to install."""


@dataclass(frozen=True, slots=True)
class _Format:
    channels: int
    sample_width: int
    frame_rate: int

    def __str__(self) -> str:
        return f"{self.frame_rate} Hz, {8 * self.sample_width}-bit, {self.channels} channel(s)"


def wav_duration(path: Path) -> float:
    """Length of a WAV file in seconds."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            if rate <= 0:
                raise AudioExportError(f"{path}: WAV header has frame rate {rate}")
            return wav.getnframes() / rate
    except (EOFError, wave.Error) as exc:
        raise AudioExportError(f"{path} is not a readable WAV file: {exc}") from exc


def render_wav(
    segments: Sequence[tuple[str, str]],
    path: Path,
    *,
    rate_wpm: int = 165,
    gap_s: float = 0.4,
    voice: str | None = None,
    backend: Backend = "auto",
) -> float:
    """Speak ``(station, text)`` pairs, in order, into one WAV file at ``path``.

    Each station reads in its own voice (the one :meth:`audio.speech.Speaker.voice_for` picks)
    unless ``voice`` names one espeak-ng voice for all. Text is cleaned with
    :func:`audio.voices.speakable`; segments with nothing speakable are skipped. The rate is
    clamped to espeak-ng's 80–450 wpm. Returns the file's duration in seconds."""
    if gap_s < 0:
        raise ValueError("gap_s must not be negative")
    cleaned = [(station, speakable(text)) for station, text in segments]
    parts = [(station, text) for station, text in cleaned if text]
    if not parts:
        raise AudioExportError(
            f"nothing speakable in {len(segments)} segment(s): no talk or ad text to read"
        )
    rate = clamp_rate(rate_wpm)
    with tempfile.TemporaryDirectory(prefix="personafm-wav-") as tmp:
        files = _render_parts(parts, Path(tmp), rate, voice, backend)
        return _join(files, path, gap_s)


def _render_parts(
    parts: list[tuple[str, str]], tmp: Path, rate: int, voice: str | None, backend: Backend
) -> list[Path]:
    if backend not in ("auto", "pyttsx3", "espeak-ng"):
        raise ValueError(f"unknown backend {backend!r}")
    if backend in ("auto", "pyttsx3"):
        try:
            files = _render_pyttsx3(parts, tmp, rate, voice)
        except UnknownVoice as exc:
            raise AudioExportError(f"audio export: {exc}") from exc
        except (SpeechUnavailable, SpeechError) as exc:
            if backend == "pyttsx3":
                raise AudioExportError(_pyttsx3_message(exc)) from exc
            log.info("pyttsx3 path unavailable (%s); using the espeak-ng program", exc)
        else:
            log.info("rendered %d segment(s) with pyttsx3 save_to_file", len(parts))
            return files
    files = _render_binary(parts, tmp, rate, voice)
    log.info("rendered %d segment(s) with the espeak-ng program", len(parts))
    return files


def _pyttsx3_message(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, SpeechUnavailable) and text == ESPEAK_INSTALL_HINT:
        return f"audio export: {text}"
    return f"audio export through pyttsx3 failed: {text}"


def _render_pyttsx3(
    parts: list[tuple[str, str]], tmp: Path, rate: int, voice: str | None
) -> list[Path]:
    synth = EspeakSynth()  # created, used and closed on this thread, as pyttsx3 requires
    try:
        pool = english_voices(synth.voices)
        files = []
        for index, (station, text) in enumerate(parts):
            out = tmp / f"part-{index:04d}.wav"
            synth.to_file(text, out, voice=voice or pick_voice(station, pool), rate_wpm=rate)
            files.append(out)
        return files
    finally:
        synth.close()


def _espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise AudioExportError(f"audio export: {ESPEAK_INSTALL_HINT}")
    return found


def _binary_voices(binary: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Voice files from ``espeak-ng --voices`` (e.g. ``gmw/en-US``), and each alias's file.

    Columns: Pty, Language, Age/Gender, VoiceName, File, Other languages."""
    try:
        listing = subprocess.run(
            [binary, "--voices"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise AudioExportError(f"audio export: `espeak-ng --voices` failed: {exc}") from exc
    rows = [line.split() for line in listing.splitlines()[1:]]
    rows = [columns for columns in rows if len(columns) >= 5]
    ids = tuple(columns[4] for columns in rows)
    aliases: dict[str, str] = {}
    for columns in rows:  # a voice's own names first, then language codes, best priority first
        for alias in voice_aliases(columns[4], columns[3]):
            aliases.setdefault(alias, columns[4])
    for columns in sorted(rows, key=lambda c: int(c[0]) if c[0].isdigit() else 99):
        if not columns[4].startswith("mb/"):  # MBROLA voices need the mbrola program
            aliases.setdefault(columns[1].lower(), columns[4])
    return ids, aliases


def _render_binary(
    parts: list[tuple[str, str]], tmp: Path, rate: int, voice: str | None
) -> list[Path]:
    binary = _espeak_binary()
    ids, aliases = _binary_voices(binary)
    # checked here because the program quietly reads "no-such-voice" as Norwegian
    if voice is not None and voice.strip().lower() not in aliases:
        raise AudioExportError(f"audio export: {unknown_voice_message(voice)}")
    fixed = aliases[voice.strip().lower()] if voice is not None else None
    pool = english_voices(ids)
    files = []
    for index, (station, text) in enumerate(parts):
        out = tmp / f"part-{index:04d}.wav"
        chosen = fixed or pick_voice(station, pool)
        command = [binary, "-b", "1", "-s", str(rate), "-w", str(out)]
        if chosen:
            command += ["-v", chosen]
        try:
            # text on stdin, so a segment starting with "-" is never read as an option
            done = subprocess.run(
                [*command, "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=_BINARY_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AudioExportError(f"audio export: espeak-ng failed: {exc}") from exc
        if done.returncode != 0 or not out.exists():
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = detail[0] if detail else f"exit status {done.returncode}"
            raise AudioExportError(f"audio export: espeak-ng failed on segment {index}: {reason}")
        files.append(out)
    return files


def _format_of(wav: wave.Wave_read) -> _Format:
    return _Format(wav.getnchannels(), wav.getsampwidth(), wav.getframerate())


def _join(files: list[Path], path: Path, gap_s: float) -> float:
    """Concatenate same-format WAVs with silence between; written atomically to ``path``."""
    with wave.open(str(files[0]), "rb") as first:
        fmt = _format_of(first)
    silence_byte = b"\x80" if fmt.sample_width == 1 else b"\x00"  # 8-bit WAV is unsigned
    gap = silence_byte * (round(gap_s * fmt.frame_rate) * fmt.sample_width * fmt.channels)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    frames = 0
    try:
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(fmt.channels)
            out.setsampwidth(fmt.sample_width)
            out.setframerate(fmt.frame_rate)
            for index, file in enumerate(files):
                with wave.open(str(file), "rb") as part:
                    if _format_of(part) != fmt:
                        raise AudioExportError(
                            f"audio export: segment {index} is {_format_of(part)}, "
                            f"segment 0 is {fmt}; cannot join them"
                        )
                    if index:
                        out.writeframes(gap)
                        frames += len(gap) // (fmt.sample_width * fmt.channels)
                    count = part.getnframes()
                    out.writeframes(part.readframes(count))
                    frames += count
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return frames / fmt.frame_rate
