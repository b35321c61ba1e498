"""Keeping secrets (API keys) out of everything a run writes.

A provider's error can quote part of a key ("Incorrect API key provided:
sk-abc1****wxyz"), a hostile server can echo it in an answer. ``Redactor``
blanks out every run of ``FRAGMENT`` or more characters that also occurs in a
secret, so neither the whole key nor a useful piece of it is stored, logged
or exported.
"""

from __future__ import annotations

from collections.abc import Iterable

FRAGMENT = 8  # the shortest piece of a key that is blanked out
MASK = "[redacted]"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._grams: frozenset[str] = frozenset(
            s[i : i + FRAGMENT]
            for s in secrets
            if s and len(s) >= FRAGMENT
            for i in range(len(s) - FRAGMENT + 1)
        )

    def __bool__(self) -> bool:
        return bool(self._grams)

    def __call__(self, text: str) -> str:
        """``text`` with every fragment of a secret of ``FRAGMENT``+ characters masked."""
        if not self._grams or len(text) < FRAGMENT:
            return text
        grams = self._grams
        covered_to = 0  # end of the last masked span
        spans: list[tuple[int, int]] = []
        for i in range(len(text) - FRAGMENT + 1):
            if text[i : i + FRAGMENT] in grams:
                if spans and i <= covered_to:
                    spans[-1] = (spans[-1][0], i + FRAGMENT)
                else:
                    spans.append((i, i + FRAGMENT))
                covered_to = i + FRAGMENT
        if not spans:
            return text
        out: list[str] = []
        last = 0
        for start, end in spans:
            out.append(text[last:start])
            out.append(MASK)
            last = end
        out.append(text[last:])
        return "".join(out)


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` and every fragment of it (``FRAGMENT``+ characters) masked."""
    if not secret:
        return text
    if len(secret) < FRAGMENT:
        return text.replace(secret, MASK)
    return Redactor([secret])(text)
