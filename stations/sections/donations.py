"""Donations: the station may ask its listeners for money this hour."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field
from pydantic.fields import FieldInfo

from stations.config import PersonaTraits
from stations.harness import Tool
from stations.sections.base import Applied, Section, register


@register
class Donations(Section):
    tool = Tool.DONATIONS
    fields: ClassVar[dict[str, tuple[Any, FieldInfo]]] = {
        "ask_donations": (bool, Field(False, description="Ask listeners to donate this hour."))
    }

    def view(self) -> bool:
        return True  # always on offer

    def schema(self, view: bool) -> dict[str, dict[str, Any]]:
        return {"ask_donations": {"type": "boolean"}}

    def apply(self, view: bool, part: Mapping[str, Any]) -> Applied:
        asked = bool(part.get("ask_donations"))
        if asked:
            self.w.market.listeners.ask_donations(self.w.station)
        return Applied(record={"ask_donations": asked})

    @staticmethod
    def scripted(
        view: bool, traits: PersonaTraits, rng: random.Random, obey: bool
    ) -> dict[str, Any]:
        return {"ask_donations": rng.random() < traits.donation_ask_rate}
