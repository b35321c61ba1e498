"""Text measures of how varied, or how canned, a DJ's talk is.

A persona that repeats itself shows up as few distinct n-grams, a low MTLD, text that
compresses well, and many breaks sharing one template. These measures work on plain strings
with one shared tokeniser so that numbers from different runs and models are comparable.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence

WORD = re.compile(r"[a-z0-9']+")

# template_of: words, numbers and sentence ends, on the original casing
_PIECE = re.compile(r"\d(?:[\d.,:/\-]*\d)?[\w']*|[^\W_][\w'\-]*|[.!?\n]+")
_SELF = {"i", "i'm", "i'll", "i've", "i'd"}  # capitalised, but not names
# small words that may sit inside a name ("Stairway to Heaven", "Simon and Garfunkel")
_NAME_GLUE = {"of", "the", "to", "a", "an", "in", "on", "and", "for", "with", "at", "by", "from"}
NAME = "<name>"
NUMBER = "<n>"


def tokens(text: str) -> list[str]:
    """Lower-cased words of ``text`` (runs of a-z, 0-9, '), outer apostrophes stripped."""
    out = []
    for word in WORD.findall(text.lower()):
        word = word.strip("'")
        if word:
            out.append(word)
    return out


def ngrams(toks: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """Consecutive n-grams of ``toks`` (none when n < 1 or the text is shorter than n)."""
    if n < 1:
        return []
    return [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Distinct n-grams / all n-grams, pooled over texts (n-grams never span two texts).

    None when there are no n-grams at all.
    """
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        grams = ngrams(tokens(text), n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else None


def _mtld_pass(toks: Sequence[str], threshold: float) -> float:
    """Factor count of one MTLD pass (McCarthy & Jarvis 2010, as ``lexical_diversity``)."""
    factors = 0.0
    types: set[str] = set()
    count = 0
    ttr = 1.0
    for tok in toks:
        count += 1
        types.add(tok)
        ttr = len(types) / count
        if ttr <= threshold:
            factors += 1.0
            types = set()
            count = 0
            ttr = 1.0
    return factors + (1.0 - ttr) / (1.0 - threshold)


def mtld(toks: Sequence[str], threshold: float = 0.72) -> float | None:
    """Measure of textual lexical diversity (McCarthy & Jarvis 2010); higher = more varied.

    Conventions, as in the paper and the ``lexical_diversity`` package: walking the tokens,
    the running type-token ratio of the current segment is compared after each token; when it
    is ``<= threshold`` a full factor is counted and the segment restarts (the token that
    closed it belongs to the closed segment). The leftover segment adds a partial factor
    (1 − ttr)/(1 − threshold), where ttr = 1 for an empty leftover. One pass's value is
    len(toks) / factors; MTLD is the mean of the forward and the backward (reversed) pass.
    Tokens are compared as given (use ``tokens`` to lower-case). None for fewer than 10
    tokens, and None when every token is distinct (no factor at all: the measure is
    unbounded; the package returns a sentinel there).
    """
    if len(toks) < 10:
        return None
    forward = _mtld_pass(toks, threshold)
    backward = _mtld_pass(list(reversed(toks)), threshold)
    if forward <= 0 or backward <= 0:
        return None
    return (len(toks) / forward + len(toks) / backward) / 2


def compression_ratio(texts: Iterable[str]) -> float | None:
    """Raw bytes / compressed bytes of the texts joined with newlines; higher = more repetitive.

    UTF-8 bytes compressed with ``zlib.compress(..., level=9)`` (no timestamp, so the value is
    deterministic; its 6-byte header and checksum matter only for very short input). None when
    the joined text is empty.
    """
    data = "\n".join(texts).encode("utf-8")
    if not data:
        return None
    return len(data) / len(zlib.compress(data, 9))


def _name_follows(marked: list[tuple[str, str]], i: int) -> bool:
    """Whether a capitalised word comes next, possibly after small joining words."""
    while i < len(marked) and marked[i][0] == "w" and marked[i][1].lower() in _NAME_GLUE:
        i += 1
    return i < len(marked) and marked[i][0] == "c"


def template_of(text: str) -> str:
    """The template of a talk break: its wording with the varying slots abstracted.

    Words and numbers are read on the original casing (punctuation other than sentence ends
    is dropped). Then: a number ("7:45", "98.7", "90s") becomes ``<n>``; a capitalised word
    that does not start a sentence becomes ``<name>`` (titles, artists, call signs, cities),
    except "I", "I'm", ...; a sentence-initial capitalised word also becomes ``<name>`` when
    the next word, possibly after small joining words, is capitalised too ("Hey Jude is in the
    books", "Stairway to Heaven is ..."); a run of names, possibly joined by
    small words ("Stairway to Heaven", "Simon and Garfunkel"), collapses into one ``<name>``.
    The rest is lower-cased and joined with single spaces, sentence ends dropped. A
    one-word title at the start of a sentence stays a plain word: the rule is a heuristic.
    """
    pieces = _PIECE.findall(text.replace("\u2019", "'"))
    # (kind, word) with kind "w" word, "n" number, "c" capitalised word, "." sentence end
    marked: list[tuple[str, str]] = []
    for piece in pieces:
        first = piece[0]
        if first in ".!?\n":
            marked.append((".", piece))
        elif first.isdigit():
            marked.append(("n", piece))
        elif first.isupper() and piece.lower() not in _SELF:
            marked.append(("c", piece))
        else:
            marked.append(("w", piece))
    slots: list[str] = []
    for i, (kind, piece) in enumerate(marked):
        initial = i == 0 or marked[i - 1][0] == "."
        if kind == ".":
            slots.append(".")
        elif kind == "n":
            slots.append(NUMBER)
        elif kind == "c" and (not initial or _name_follows(marked, i + 1)):
            slots.append(NAME)
        else:
            slots.append(piece.lower())
    out: list[str] = []
    i = 0
    while i < len(slots):
        slot = slots[i]
        if slot == NAME:
            # swallow "glue name" continuations: <name> to <name>, <name> and <name> ...
            j = i + 1
            while True:
                k = j
                while k < len(slots) and slots[k] in _NAME_GLUE:
                    k += 1
                if k < len(slots) and slots[k] == NAME:
                    j = k + 1
                else:
                    break
            out.append(NAME)
            i = j
            continue
        if slot != ".":
            out.append(slot)
        i += 1
    return " ".join(out)
