"""``personafm analyze``: the persona scoreboard of stored runs, printed and written out.

Prints the scoreboard (``analysis.tables``) and writes ``scoreboard.json`` and
``report.html`` to ``--out``.
``--judge`` picks who labels probe answers: ``rules`` (offline, the default) or
a model (``openai:MODEL[@URL]``, ``anthropic:MODEL``, ``local``), whose calls are
cached and logged in the store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine

from analysis.judge import Judge, RuleJudge
from analysis.report import write_report
from analysis.scoreboard import Scoreboard, analyze
from sim.models.base import ProviderError
from sim.models.hosted import NO_KEY
from sim.models.registry import ProviderSetup
from sim.models.spec import ModelSettings
from sim.paths import default_log_dir


def make_judge(spec: str, engine: Engine, environ: Mapping[str, str] = os.environ) -> Judge:
    """``rules``, ``local``, or ``provider:model[@base_url]`` for a hosted or loopback model."""
    if spec in ("", "rules"):
        return RuleJudge()
    from analysis.judge_llm import LLMJudge

    if spec == "local":
        from sim.models.local import LocalLlamaProvider

        provider = LocalLlamaProvider()
        return LLMJudge(provider, "local", provider.model_name, engine)
    try:
        settings = ModelSettings(model=spec, temperature=0.0)
    except ValueError as exc:
        raise ProviderError(f"--judge {spec!r}: {exc}") from None
    if not settings.is_hosted:
        raise ProviderError(
            f"--judge {spec!r}: give 'rules', 'local' or provider:model (openai or anthropic)"
        )
    if settings.needs_key() and not environ.get(settings.key_env):
        raise ProviderError(f"--judge {spec}: {settings.key_env} is not set")
    key = environ.get(settings.key_env, "") or NO_KEY
    from personafm.providers import route_provider

    provider = route_provider(ProviderSetup(settings, run_seed=0, api_key=key))
    return LLMJudge(provider, settings.provider, settings.model, engine)


def run_analysis(
    engine: Engine,
    runs: list[str],
    out_dir: Path | None = None,
    judge_spec: str = "rules",
    seed: int = 0,
) -> tuple[Scoreboard, Path, Path]:
    judge = make_judge(judge_spec, engine)
    board = analyze(engine, runs, judge=judge, seed=seed)
    out_dir = out_dir or default_log_dir() / "analysis"
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "scoreboard.json"
    json_path.write_text(json.dumps(board.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    html_path = out_dir / "report.html"
    write_report(board, html_path)
    return board, json_path, html_path
