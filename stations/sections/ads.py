"""Sponsor contracts: the spots due, and the reads the station schedules for its breaks."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field
from pydantic.fields import FieldInfo

from economy.contracts import Contract, ContractStatus
from stations.config import PersonaTraits
from stations.harness import Tool
from stations.sections.base import Applied, Section, SectionWorld, register
from stations.sections.schema import Id, choices


@dataclass(slots=True, frozen=True)
class AdsView:
    contracts: list[tuple[Contract, int]]  # (contract, spots due today)
    daypart: str


@register
class Ads(Section):
    tool = Tool.ADS
    fields: ClassVar[dict[str, tuple[Any, FieldInfo]]] = {
        "ads": (
            list[Id],
            Field(
                default_factory=list,
                max_length=6,
                description="Contract ids to read in the next break.",
            ),
        )
    }

    def __init__(self, world: SectionWorld) -> None:
        super().__init__(world)
        self.queue: deque[str] = deque()  # contract ids scheduled for the next breaks

    def view(self) -> AdsView | None:
        contracts = self.w.market.contracts
        active = [(c, c.spots_due_today()) for c in contracts.active(self.w.station)]
        return AdsView(active, self.w.clock.daypart(self.w.now)) if active else None

    def lines(self, view: AdsView) -> list[str]:
        out = ["Your sponsor contracts (put ids in ads to air their spots next break):"]
        for c, due in view.contracts:
            where = ", ".join(c.terms.dayparts) or "any time"
            out.append(f"{c.id} {c.sponsor.name}: {due} spot(s) due today ({where}).")
        return out

    def schema(self, view: AdsView) -> dict[str, dict[str, Any]]:
        return {"ads": ads_schema([c.id for c, _ in view.contracts])}

    def apply(self, view: AdsView | None, part: Mapping[str, Any]) -> Applied:
        out = Applied()
        contracts = self.w.market.contracts
        for cid in part.get("ads", [])[:4]:
            if self.foreign("ad read of contract", cid, contracts.owner):
                out.refused.append(f"ad {cid}: another station's contract")
                continue
            contract = contracts.get(self.w.station, cid)
            if contract is None or contract.status != ContractStatus.ACTIVE:
                out.refused.append(f"ad {cid}: no active contract")
            else:
                self.queue.append(cid)
        out.record["ads"] = list(part.get("ads", []))
        return out

    def break_spots(self, slots: int) -> list[str]:
        """Scheduled sponsor reads, each at most once a break, still active when they air."""
        contracts = self.w.market.contracts
        copies: list[str] = []
        read: set[str] = set()
        while self.queue and len(copies) < slots:
            cid = self.queue.popleft()
            c = contracts.get(self.w.station, cid)
            if c is not None and c.status == ContractStatus.ACTIVE and cid not in read:
                read.add(cid)
                copies.append(c.terms.copy)
        return copies

    @staticmethod
    def scripted(
        view: AdsView | None, traits: PersonaTraits, rng: random.Random, obey: bool
    ) -> dict[str, Any]:
        if obey or view is None:
            return {"ads": ["C9999"] if obey else []}
        reads: list[str] = []
        for contract, due in view.contracts:
            if due and contract.covers(view.daypart) and rng.random() < traits.ad_read_rate:
                reads.extend([contract.id] * min(due, 2))
        return {"ads": reads[:4]}


def ads_schema(contract_ids: list[str]) -> dict[str, Any]:
    """Up to four reads of the contracts ``contract_ids``."""
    return {"type": "array", "items": choices(contract_ids), "maxItems": 4}
