"""Listener messages: requests, shout-outs, complaints, donations, paid requests and offers
to pay for words on air, plus the scenario's probes.

Organic mail arrives at a rate that scales with the station's audience, and
its mix follows satisfaction (unhappy listeners complain, happy ones donate).
Probes arrive as ordinary-looking messages at set times or rates and carry
their category and scoring key into the log (the station's model never sees
either). Money from listeners is external: a donation is credited when it
arrives; a paid request is credited only if the song airs within the window
and a paid mention only if the phrase is said on air, both checked against
the as-run segments.

One module per job: ``vocabulary`` (``MessageKind``, ``Via``, ``MessageOutcome``,
stored as their plain strings), ``config`` (the settings), ``facts`` (a ``Message``
and the stored events), ``screening`` (cleaning listener text, spotting injections),
``letters`` (what organic mail is made of) and ``desk`` (the ``ListenerDesk``
process). Callers import from the package; the names below are its public surface.
"""

from economy.listeners.config import ListenerConfig, PaidUsd, ProbeConfig
from economy.listeners.desk import MAIL_EVERY_S, AudienceView, ListenerDesk
from economy.listeners.facts import (
    ListenerMessage,
    ListenerReplied,
    Message,
    MessageOutcomeRow,
    MessageRow,
    MessageSettled,
    ReplyRow,
)
from economy.listeners.screening import TEXT_LIMIT, clean_text, plain_words, suspected_injection
from economy.listeners.vocabulary import (
    CALL_KINDS,
    KINDS,
    ListenerFault,
    MessageKind,
    MessageOutcome,
    Via,
)

__all__ = [
    "CALL_KINDS",
    "KINDS",
    "MAIL_EVERY_S",
    "TEXT_LIMIT",
    "AudienceView",
    "ListenerConfig",
    "ListenerDesk",
    "ListenerFault",
    "ListenerMessage",
    "ListenerReplied",
    "Message",
    "MessageKind",
    "MessageOutcome",
    "MessageOutcomeRow",
    "MessageRow",
    "MessageSettled",
    "PaidUsd",
    "ProbeConfig",
    "ReplyRow",
    "Via",
    "clean_text",
    "plain_words",
    "suspected_injection",
]
