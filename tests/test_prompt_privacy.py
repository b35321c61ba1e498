"""README: a probe is logged with its category and key; "the model never sees either".

A short scripted run gets probes of every category, from the bundled bank and with text and
key of our own; every stored prompt (the messages, the system prompt and schema blobs) is
read back and searched. The probe texts must be there (so the check is not vacuous); no
category name, no key and no field label that would carry them may be.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine

from economy.probe_bank import PROBE_BANK, PROBE_CATEGORIES
from testkit.helpers import export_rows, query_run, run, scripted_scenario

# No organic mail, so the inbox holds only probes; no replies, so the DJ's own words (which
# come back in "Your last words on air") cannot repeat what a scripted persona knows.
QUIET = (
    "[listeners]\nmessages_per_1000_per_hour = 0\nmin_messages_per_hour = 0\n"
    "[sponsors]\ncount = 0\n"
)
PERSONA = "reply_rate = 0\npolitical_lean = 0\ninjection_compliance = 0\n"


def own_key(category: str) -> str:
    return f"zz-{category}-answer-key-7731"


def own_text(category: str) -> str:
    return f"Listener question number {PROBE_CATEGORIES.index(category) + 1} for the DJ tonight."


def probes_toml() -> str:
    """Two probes per category, 0.3 h apart: one from the bank, one with our text and key."""
    blocks = []
    hour = 0.1
    for category in PROBE_CATEGORIES:
        blocks.append(f"[[listeners.probes]]\ncategory = '{category}'\nat_hours = [{hour:.1f}]\n")
        hour += 0.3
        blocks.append(
            f"[[listeners.probes]]\ncategory = '{category}'\nat_hours = [{hour:.1f}]\n"
            f"text = '{own_text(category)}'\nkey = '{own_key(category)}'\n"
        )
        hour += 0.3
    return "".join(blocks)


def prompts_by_station(engine: Engine, run_id: str) -> dict[str, list[tuple[float, str]]]:
    """(sim time, everything the model was sent) per station, in call order."""
    rows = query_run(
        engine,
        "select m.station, m.sim_time_s, m.messages_json, sp.text, sc.text "
        "from model_calls m "
        "join blobs sp on sp.sha256 = m.system_prompt_sha256 "
        "left join blobs sc on sc.sha256 = m.schema_sha256 "
        "where m.run_id = :r order by m.seq",
        run_id,
    )
    out: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for station, t, messages_json, system, schema in rows:
        assert messages_json, "record_requests stores every call's messages"
        messages = json.loads(messages_json)
        contents = "\n".join(str(m["content"]) for m in messages)
        out[station].append((t, "\n".join([system, contents, schema or ""])))
    return out


def test_the_model_never_sees_a_probes_category_or_key(engine: Engine, tmp_path: Path) -> None:
    # the bank's own texts must not contain a category name, or the check below would be moot
    for category, entries in PROBE_BANK.items():
        for text, _ in entries:
            for name in PROBE_CATEGORIES:
                assert not re.search(rf"\b{name}\b", text, re.IGNORECASE), (category, text)

    scenario = scripted_scenario(
        hours=3.5, stations=2, extra=QUIET + probes_toml(), persona=PERSONA
    )
    result = run(scenario, engine, tmp_path)
    probes = [m for m in export_rows(engine, result.run_id, "messages") if m["probe_category"]]
    assert {m["probe_category"] for m in probes} == set(PROBE_CATEGORIES)
    assert len(probes) == 2 * 2 * len(PROBE_CATEGORIES)  # two per category, to both stations
    assert {m["probe_key"] for m in probes} >= {own_key(c) for c in PROBE_CATEGORIES}

    prompts = prompts_by_station(engine, result.run_id)
    assert set(prompts) == {"KTA", "KTB"}
    keys = {m["probe_key"] for m in probes}
    # a key is "<kind>: <what>": the whole key never reaches the model, and what it says only
    # inside the listener's own words (a derailer's topic is in its text)
    key_bodies = {k.split(":", 1)[-1].strip() for k in keys}
    labels = [re.compile(rf"\b{name}\b", re.IGNORECASE) for name in PROBE_CATEGORIES]
    labels += [re.compile(r"probe_(category|key)", re.IGNORECASE)]
    texts = {m["text"] for m in probes}

    for station, calls in prompts.items():
        for t, prompt in calls:
            for key in keys:
                assert key not in prompt, f"{station} at {t:.0f}s was shown the key {key!r}"
            visible = prompt
            for text in texts:  # the listener's own words are allowed to be anything
                visible = visible.replace(text, "")
            for body in key_bodies:
                assert body not in visible, f"{station} at {t:.0f}s was shown the key {body!r}"
            for label in labels:
                hit = label.search(visible)
                assert hit is None, f"{station} at {t:.0f}s was shown {hit.group(0)!r}"

    # not vacuous: every probe's text reached its station's model, after it arrived
    for m in probes:
        shown = [
            t for t, prompt in prompts[m["station"]] if t >= m["sim_time_s"] and m["text"] in prompt
        ]
        assert shown, f"probe {m['message_id']} ({m['probe_category']}) was never shown"
