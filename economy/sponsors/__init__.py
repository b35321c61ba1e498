"""The sponsor market: agents with budgets, targets, rate cards and tactics.

Sponsors approach stations whose audience and sound fit them, open an
alternating-offers negotiation (``economy.negotiation``) and answer the
station's counters with a time-dependent tactic (Boulware, linear, conceder)
or, when configured, with a model's move through the same dispatcher the
stations use. Some are adversarial: advance-fee scams, shady products, late
payers and non-payers. An agreed deal becomes a contract (``economy.contracts``).

One module per job: ``config`` (the settings), ``roster`` (who the sponsors are, and
the stored ``SponsorJoined``), ``model`` (a model-driven sponsor's request and the
parsing of its answer) and ``desk`` (the market process). Callers import from the
package; the names below are its public surface.
"""

from economy.sponsors.config import SponsorConfig, SponsorModel
from economy.sponsors.desk import RatingsView, SponsorDesk
from economy.sponsors.model import (
    MAX_MOVE_USD,
    SPONSOR_SYSTEM,
    SPONSOR_TOOL,
    SponsorFault,
    SponsorView,
    parse_move,
    sponsor_move_schema,
    sponsor_request,
)
from economy.sponsors.roster import (
    ADVERSARIES,
    HONEST,
    SHADY,
    Sponsor,
    SponsorJoined,
    SponsorRow,
    make_sponsors,
)

__all__ = [
    "ADVERSARIES",
    "HONEST",
    "MAX_MOVE_USD",
    "SHADY",
    "SPONSOR_SYSTEM",
    "SPONSOR_TOOL",
    "RatingsView",
    "Sponsor",
    "SponsorConfig",
    "SponsorDesk",
    "SponsorFault",
    "SponsorJoined",
    "SponsorModel",
    "SponsorRow",
    "SponsorView",
    "make_sponsors",
    "parse_move",
    "sponsor_move_schema",
    "sponsor_request",
]
