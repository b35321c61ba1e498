"""The market as a station sees it, one section per tool (see ``base``).

Importing this package registers every section, in the order their lines
appear in the observation.
"""

from stations.sections import ads, callins, deals, donations, mail
from stations.sections.base import (
    SCRIPTED_ANSWERS,
    SECTIONS,
    Applied,
    DedicatedTurn,
    Section,
    SectionWorld,
    register,
    registered,
    scripted_answer,
)

__all__ = [
    "SCRIPTED_ANSWERS",
    "SECTIONS",
    "Applied",
    "DedicatedTurn",
    "Section",
    "SectionWorld",
    "ads",
    "callins",
    "deals",
    "donations",
    "mail",
    "register",
    "registered",
    "scripted_answer",
]
