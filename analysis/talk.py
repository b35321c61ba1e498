"""Is it radio talk? A check of what a DJ said on air, break by break.

A break passes when it is mostly words (at least 80% of its tokens alphabetic),
has no JSON or brace fragments, no digit runs, no stretch of the system prompt
(six words or more in a row), and does not repeat an earlier break of the same
station word for word. Used by ``bench/local.py`` and the local-model tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

WORDY_SHARE = 0.8
PROMPT_WORDS = 6  # this many words in a row from the system prompt is an echo of it
_TOKEN_CORE = re.compile(r"^[\W_]*(.*?)[\W_]*$")
_ALPHA = re.compile(r"^[A-Za-z]+(?:['\-][A-Za-z]+)*$")
_JSON = re.compile(r"[{}\[\]]|\"\s*:")
_DIGITS = re.compile(r"\d[\d:.,/\-]{2,}")
_WORD = re.compile(r"[a-z']+")


@dataclass(slots=True)
class TalkCheck:
    breaks: int = 0
    not_wordy: int = 0
    json_like: int = 0
    digit_runs: int = 0
    prompt_echo: int = 0
    repeats: int = 0
    passed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (why, text), a few

    @property
    def share(self) -> float:
        """Share of breaks that pass every check (1.0 for no breaks)."""
        return self.passed / self.breaks if self.breaks else 1.0

    def line(self) -> str:
        return (
            f"{self.passed}/{self.breaks} breaks are radio talk ({self.share:.0%}): "
            f"{self.not_wordy} not mostly words, {self.json_like} JSON-like, "
            f"{self.digit_runs} with digit runs, {self.prompt_echo} echo the prompt, "
            f"{self.repeats} repeat an earlier break"
        )


def alphabetic_share(text: str) -> float:
    tokens = text.split()
    if not tokens:
        return 0.0
    return sum(bool(_ALPHA.match(_TOKEN_CORE.sub(r"\1", t))) for t in tokens) / len(tokens)


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def check_talk(
    breaks: Iterable[tuple[str, str]], system_prompt: str = "", keep: int = 5
) -> TalkCheck:
    """Check (station, text) talk breaks in the order they aired."""
    out = TalkCheck()
    prompt = _grams(system_prompt, PROMPT_WORDS)
    said: dict[str, set[str]] = {}
    for station, text in breaks:
        out.breaks += 1
        why = []
        if alphabetic_share(text) < WORDY_SHARE:
            out.not_wordy += 1
            why.append("not mostly words")
        if _JSON.search(text):
            out.json_like += 1
            why.append("JSON-like")
        if _DIGITS.search(text):
            out.digit_runs += 1
            why.append("digit run")
        if prompt and _grams(text, PROMPT_WORDS) & prompt:
            out.prompt_echo += 1
            why.append("echoes the system prompt")
        earlier = said.setdefault(station, set())
        if text.strip() in earlier:
            out.repeats += 1
            why.append("repeats an earlier break")
        earlier.add(text.strip())
        if why:
            if len(out.failures) < keep:
                out.failures.append((", ".join(why), text[:160]))
        else:
            out.passed += 1
    return out
