"""``personafm run --dry-run``: project calls, tokens and cost without calling any model.

The scenario runs for real, with every station and model-driven sponsor
answered by its scripted persona; each call is counted with the tokens the
real model would see (prompt, messages and schema; about 4 characters a token)
and produce (the scripted answer, capped at ``max_tokens``), and priced with the
real model's price. Nothing is written to the user's database.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from personafm.runner import run_scenario
from personafm.scenario import Scenario
from personafm.world import identities_for
from sim.events import ModelCallRow
from sim.models.base import ModelRequest, ModelResponse
from sim.models.prices import PriceTable
from sim.models.spec import ModelSettings
from sim.rng import RngStreams
from sim.store import open_store
from stations.personas import ScriptedPersonas

CHARS_PER_TOKEN = 4.0


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class DryRunProvider:
    """Answers like the scripted personas; counts tokens like the real model would."""

    name = "dry-run"
    max_concurrency = 0

    def __init__(self, personas: ScriptedPersonas) -> None:
        self.personas = personas

    def complete(self, request: ModelRequest) -> ModelResponse:
        answer = self.personas.complete(request)
        prompt = "".join(m["content"] for m in request.full_messages()) + request.schema_json()
        max_tokens = int(request.params.get("max_tokens", 256))
        return ModelResponse(
            text=answer.text,
            input_tokens=estimate_tokens(prompt),
            output_tokens=min(max_tokens, estimate_tokens(answer.text)),
            ok=answer.ok,
            error=answer.error,
            finish_reason="stop",
        )


@dataclass(slots=True)
class Projection:
    station: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None: unpriced model


def dry_run(scenario: Scenario, prices: PriceTable | None = None) -> list[Projection]:
    prices = prices or PriceTable.load(scenario.run.prices or None)
    identities = identities_for(scenario)
    streams = RngStreams(scenario.run.seed)
    personas = ScriptedPersonas(
        {i.call_sign: i.spec.persona for i in identities},
        {i.call_sign: streams.stream("dry-run", i.call_sign) for i in identities},
    )
    dry = DryRunProvider(personas)
    specs: list[ModelSettings] = [i.spec for i in identities]
    if (sponsor := scenario.sponsor_model()) is not None:
        specs.append(sponsor)
    providers = {spec.route: dry for spec in specs}
    quiet = scenario.model_copy(
        update={"run": scenario.run.model_copy(update={"event_log": False, "max_cost_usd": None})}
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{Path(tmp) / 'dry-run.db'}")
        result = run_scenario(quiet, engine=engine, providers=providers, prices=prices)
        t = ModelCallRow.__table__  # type: ignore[attr-defined]
        q = (
            select(
                t.c.station,
                t.c.provider,
                t.c.model,
                func.count(),
                func.sum(t.c.input_tokens),
                func.sum(t.c.output_tokens),
                func.sum(t.c.cost_usd),
                func.count(t.c.cost_usd),
            )
            .where(t.c.run_id == result.run_id)
            .group_by(t.c.station, t.c.provider, t.c.model)
            .order_by(t.c.station)
        )
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        engine.dispose()
    return [
        Projection(
            station=station,
            model=f"{provider}:{model}",
            calls=n,
            input_tokens=int(tin or 0),
            output_tokens=int(tout or 0),
            cost_usd=float(cost or 0.0) if priced == n else None,
        )
        for station, provider, model, n, tin, tout, cost, priced in rows
    ]
