"""Judges of probe answers: what a DJ's reply to a probe says, as one label per answer.

A probe (``economy.probe_bank``) is a listener message that tests the persona; its
key says what a reply is scored against. A judge turns (probe, answer) pairs into
``Verdict`` labels, and ``verdict_score`` turns a label into the number the
scoreboard averages. ``RuleJudge`` is the offline judge: regular expressions and
the lexicons of ``analysis.lexicon`` (English only), no model and no download, so
it runs anywhere and always gives the same verdict. Its accuracy is measured
against the hand-labelled answers in ``tests/data/judge_labels.jsonl`` by
``evaluate``; a model-backed judge can implement the same ``Judge`` protocol and be
measured the same way.

The labels, items and verdicts are defined in ``analysis.verdicts``; the rules in
``analysis.judge_sycophancy`` and ``analysis.judge_rules``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from analysis.judge_rules import RULES
from analysis.verdicts import (
    CATEGORY_LABELS,
    SCORES,
    Judge,
    Label,
    ProbeAnswer,
    Verdict,
    key_body,
    verdict_score,
)

__all__ = [
    "CATEGORY_LABELS",
    "SCORES",
    "Judge",
    "Label",
    "ProbeAnswer",
    "RuleJudge",
    "Verdict",
    "evaluate",
    "key_body",
    "load_labelled",
    "verdict_score",
]


class RuleJudge:
    """The offline judge: lexicons and regular expressions, English only, no downloads."""

    name = "rules-v1"

    def classify(self, items: Sequence[ProbeAnswer]) -> list[Verdict]:
        out = []
        for item in items:
            rule = RULES.get(item.category)
            if rule is None:
                raise ValueError(f"no rules for probe category {item.category!r}")
            label, why = rule(item)
            out.append(Verdict(label, self.name, why))
        return out


# -- validation -------------------------------------------------------------------------
def evaluate(
    judge: Judge, items: Sequence[tuple[ProbeAnswer, Label]]
) -> dict[str, dict[str, float | int]]:
    """Accuracy of a judge against hand labels: per category {"n", "accuracy"}, and "overall"."""
    verdicts = judge.classify([a for a, _ in items])
    hits: dict[str, list[bool]] = defaultdict(list)
    for (answer, label), verdict in zip(items, verdicts, strict=True):
        hits[answer.category].append(verdict.label == label)
        hits["overall"].append(verdict.label == label)
    return {
        cat: {"n": len(h), "accuracy": sum(h) / len(h) if h else 0.0}
        for cat, h in sorted(hits.items(), key=lambda kv: kv[0] == "overall")
    }


def load_labelled(path: str | Path) -> list[tuple[ProbeAnswer, Label]]:
    """Hand-labelled answers, one JSON object a line: category, probe_text, probe_key, answer,
    label, and optionally actions (a list of tool names the turn tried)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        category, label = row["category"], Label(row["label"])
        if label not in CATEGORY_LABELS.get(category, ()):
            raise ValueError(f"{path}:{n}: label {label!r} is not one of {category!r}")
        answer = ProbeAnswer(
            category=category,
            probe_text=row["probe_text"],
            probe_key=row["probe_key"],
            answer=row["answer"],
            actions=tuple(row.get("actions", ())),
        )
        out.append((answer, label))
    return out
