"""Listener mail's settings (``[listeners]``): organic message rates and mix, what listeners
pay, how long a paid request or mention may wait, the inbox size, the share of calls, and the
scenario's probes (``[[listeners.probes]]``), validated as pydantic models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from economy.listeners.vocabulary import KINDS, MessageKind, Via
from sim.text import excerpt

# What a listener may offer for a paid request or mention, in US dollars.
PaidUsd = Annotated[float, Field(gt=0, le=1000)]


class ProbeConfig(BaseModel):
    """A probe: a listener message that tests the persona (``[[listeners.probes]]``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    category: Literal["sycophancy", "politics", "distractibility", "manners", "injection"] = Field(
        description="What the probe tests."
    )
    text: str = Field("", max_length=1000, description="Empty: drawn from the bundled bank.")
    key: str = Field("", max_length=500, description="What a reply is scored against.")
    at_hours: list[Annotated[float, Field(ge=0, le=24 * 366)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Simulated hours (from the start) it arrives at.",
    )
    per_day: float = Field(0.0, ge=0, le=500, description="Random arrivals per station per day.")
    stations: list[str] = Field(
        default_factory=list, description="Call signs it goes to; empty means every station."
    )
    via: Literal[Via.CALL, Via.MAIL] = Field(
        Via.CALL,
        description="call: a caller on air, whom the station must answer in a turn of its own; "
        "mail: a letter in the inbox, which the DJ may leave unanswered.",
    )

    @model_validator(mode="after")
    def _check(self) -> ProbeConfig:
        if bool(self.text) != bool(self.key):
            raise ValueError("give both text and key, or neither (to use the bundled bank)")
        return self


class ListenerConfig(BaseModel):
    """Listener mail (``[listeners]``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    messages_per_1000_per_hour: float = Field(
        2.0, ge=0, le=1000, description="Organic messages per hour per 1,000 tuned-in listeners."
    )
    min_messages_per_hour: float = Field(
        0.3, ge=0, le=100, description="Mail a station gets even with nobody tuned in."
    )
    kind_weights: dict[str, Annotated[float, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: {
            MessageKind.REQUEST.value: 0.34,
            MessageKind.SHOUTOUT.value: 0.2,
            MessageKind.COMPLAINT.value: 0.12,
            MessageKind.DONATION.value: 0.14,
            MessageKind.PAID_REQUEST.value: 0.12,
            MessageKind.PAID_CONTENT.value: 0.08,
        },
        description="Relative frequency of each kind of organic message.",
    )
    donation_median_usd: float = Field(
        5.0, gt=0, le=1000, description="Median donation (log-normal; capped at $500)."
    )
    paid_request_usd: tuple[PaidUsd, PaidUsd] = Field(
        (2.0, 10.0), description="Range (low, high) a listener offers for a paid request."
    )
    paid_content_usd: tuple[PaidUsd, PaidUsd] = Field(
        (5.0, 25.0), description="Range (low, high) a listener offers for a paid mention."
    )
    paid_request_window_min: float = Field(
        60.0,
        gt=0,
        le=7 * 24 * 60,
        description="The requested song must air within this many minutes.",
    )
    paid_content_window_min: float = Field(
        120.0,
        gt=0,
        le=7 * 24 * 60,
        description="The phrase must be said on air within this many minutes.",
    )
    ask_donations_boost: float = Field(
        2.0, ge=1, le=10, description="Donation rate multiplier for an hour after an on-air ask."
    )
    inbox_size: int = Field(20, ge=1, le=500, description="Unanswered messages kept per station.")
    call_share: float = Field(
        0.1,
        ge=0,
        le=10,
        description="Ordinary calls (requests, shout-outs, complaints) per organic letter.",
    )
    probes: list[ProbeConfig] = Field(
        default_factory=list,
        max_length=1000,
        description="Probes: listener messages that test the persona, at set hours or rates.",
    )

    @model_validator(mode="after")
    def _check(self) -> ListenerConfig:
        unknown = sorted(set(self.kind_weights) - set(KINDS))
        if unknown:
            named = ", ".join(excerpt(k) for k in unknown[:5])
            raise ValueError(f"kind_weights: unknown kinds {named}; use {', '.join(KINDS)}")
        if any(w < 0 for w in self.kind_weights.values()):
            raise ValueError("kind_weights must be >= 0")
        for lo, hi in (self.paid_request_usd, self.paid_content_usd):
            if not 0 < lo <= hi:
                raise ValueError("a usd range must be (low, high) with 0 < low <= high")
        return self
