"""The listener desk's words: what a message is (``MessageKind``), how it came (``Via``),
what became of it (``MessageOutcome``) and the fault the desk logs (``ListenerFault``), each
stored as its plain strings; plus the organic kinds in the order of
``ListenerConfig.kind_weights`` and the kinds callers ring about.
"""

from __future__ import annotations

from sim.events import fault_kinds
from sim.vocabulary import Vocabulary


class MessageKind(Vocabulary):
    """What a listener message is (``messages.kind``)."""

    REQUEST = "request"
    SHOUTOUT = "shoutout"
    COMPLAINT = "complaint"
    DONATION = "donation"
    PAID_REQUEST = "paid_request"  # money if the song airs in time
    PAID_CONTENT = "paid_content"  # money if the phrase is said on air in time
    PROBE = "probe"  # a scenario's test of the persona


class Via(Vocabulary):
    """How a message reaches the station."""

    MAIL = "mail"  # a letter in the inbox, which the DJ may leave unanswered
    CALL = "call"  # a caller on air, answered in a turn of its own


class MessageOutcome(Vocabulary):
    """What became of a message (stored in ``message_outcomes``)."""

    DONATED = "donated"  # a donation, credited on arrival
    PAID = "paid"  # a paid request or mention, honoured in time
    EXPIRED = "expired"  # ... or not
    ANSWERED = "answered"  # a call whose answer aired
    DECLINED = "declined"  # a call the station did not answer (detail: why)
    UNANSWERED = "unanswered"  # a call still open when the run ended


@fault_kinds
class ListenerFault(Vocabulary):
    """Fault kinds the listener desk logs."""

    # a message that reads like a prompt injection (also its flag in ``messages.flags``)
    INJECTION_SUSPECTED = "injection_suspected"


# Organic kinds, in the order of ``ListenerConfig.kind_weights`` (probes are scheduled).
KINDS: tuple[MessageKind, ...] = (
    MessageKind.REQUEST,
    MessageKind.SHOUTOUT,
    MessageKind.COMPLAINT,
    MessageKind.DONATION,
    MessageKind.PAID_REQUEST,
    MessageKind.PAID_CONTENT,
)
CALL_KINDS: tuple[MessageKind, ...] = (  # what callers ring about
    MessageKind.REQUEST,
    MessageKind.SHOUTOUT,
    MessageKind.COMPLAINT,
)
