"""What of a station's talk is read aloud, and in which voice: ``speakable`` cleans a text
for speech (no control characters, URLs, markup, emoji or symbol runs; cut to about one talk
break), ``english_voices``/``pick_voice`` give each station a stable voice, ``clamp_rate``
keeps the speaking rate within espeak-ng's limits, and ``voice_aliases`` lists the names by
which espeak-ng finds a voice.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence

MIN_RATE_WPM = 80  # espeak-ng's own limits; rates outside are clamped
MAX_RATE_WPM = 450
DEFAULT_MAX_CHARS = 600  # about 100 words, ~35 s at 165 wpm: one talk break, not a monologue


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
