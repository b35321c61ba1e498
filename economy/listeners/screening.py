"""Screening listener text before a model sees it: ``clean_text`` strips control characters
and bounds the length, ``suspected_injection`` flags what reads like a prompt injection, and
``plain_words`` folds text to lowercase words for matching a phrase against what aired.
"""

from __future__ import annotations

import re

from sim.text import UNSAFE_ONE_LINE

TEXT_LIMIT = 280
_SPACE = re.compile(r"\s+")
_WORDS = re.compile(r"[a-z0-9']+")
_INJECTION = re.compile(
    r"ignore (?:all |your |any )?(?:previous |prior )?instructions|system (?:prompt|override)"
    r"|admin mode|new instructions|send me (?:your|the) (?:entire )?(?:balance|money)"
    r"|disable .{0,30}rules|developer mode|jailbreak",
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    """Listener text as it may be shown to a model: no control characters, bounded length."""
    return _SPACE.sub(" ", UNSAFE_ONE_LINE.sub(" ", text)).strip()[:TEXT_LIMIT]


def suspected_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


def plain_words(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))
