"""What a station logs when its model's answer cannot be used as it is: the
``StationFault`` kinds, each published as a ``Fault`` under the station's call sign while
automation carries on (nothing a model says ends a run).
"""

from __future__ import annotations

from sim.events import fault_kinds
from sim.vocabulary import Vocabulary


@fault_kinds
class StationFault(Vocabulary):
    """What the station logs when its model's answer cannot be used as it is."""

    MODEL_ERROR = "model_error"  # the call failed (the provider's error is the detail)
    INVALID_OUTPUT = "invalid_output"  # an answer that is not a turn (or no words)
    TURN_REFUSED = "turn_refused"  # a section refused the turn as a whole
    IGNORED_FIELDS = "ignored_fields"  # fields that are not part of a turn
    RULE_REJECTED = "rule_rejected"  # a move the rules refuse (a song it does not own)
    APPLY_ERROR = "apply_error"  # applying the answer raised: the last guard caught it
    TRANSCRIPT_DROPPED = "transcript_dropped"  # chat history past its budget
