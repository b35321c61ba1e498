"""Local model benchmark (issue #10): tokens/s of the local provider through the whole stack.
Longer than 400 lines because it is one runnable script that starts itself again as the busy
process (``--hog``, through ``__file__``): the request sets, the ways of calling the model and
the report make one measurement, and the benches are scripts, not a package to import from.

For each thread setting, on the same prompts, grammar and seeds (real turn requests of the
default scenario's stations, and a short on-air talk prompt):

- stack: ``LocalLlamaProvider.complete`` (prompt, constrained decoding) plus ``parse_turn``;
- raw: a plain ``Llama.create_chat_completion`` with the same constraint (``response_format``
  for JSON turns; for talk ``grammar=TALK_GRAMMAR`` and the stack's ban on the bare-space
  token) and the same sampling parameters: llama-cpp-python's own grammar sampling, where
  the stack applies the grammar through its shortlist (the outputs must come out identical);
- free: raw generation without any constraint, same prompts;
- busy: the stack again while a second process runs the stack (same thread setting unless
  ``--busy-threads``) in a loop on the same model, as a second simulation run would.

Figures are medians over the requests of each kind; ms/token is latency / output tokens
(the prompt's evaluation included). stack/raw compares tokens/s (target >= 0.9); busy/idle
compares ms/token of the stack (target <= 2). A setting is ``T`` (threads for generation
and prompt) or ``T:B`` (T for generation, B for the prompt batch).

    .venv/bin/python bench/local.py [--turns 2] [--talks 3] [--threads 1,2] [--budget 60]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from analysis.talk import check_talk
from economy.airplay import SegmentKind, SegmentStatus
from economy.listeners import MessageOutcome
from personafm.export import iter_rows
from personafm.runner import run_scenario
from personafm.scenario import load_scenario
from personafm.world import build_world, identities_for
from sim.bus import EventBus
from sim.models.base import ModelRequest
from sim.models.local import TALK_GRAMMAR, LocalLlamaProvider, smollm2_path
from sim.store import open_store
from stations.brain import turn_request
from stations.harness import TurnShape
from stations.turn import TurnError, parse_turn
from testkit.servers import stop_process

TALK_USER = (
    'You just played "Hey Jude" by The Beatles. Next up: "Wonderwall" by Oasis. '
    "It is 7:15 in the morning in Portland. Say a few friendly sentences on air."
)
TALK_PARAMS: dict[str, Any] = {
    "temperature": 0.8,
    "top_p": 0.95,
    "max_tokens": 80,
    "repeat_penalty": 1.15,
}
Setting = tuple[int, int]  # (n_threads, n_threads_batch)


def json_requests(n: int, seed: int = 7) -> tuple[str, list[ModelRequest]]:
    """The system prompt, and ``n`` real turn requests of the default scenario's stations
    in turn, as ``Station._think`` asks."""
    scenario, _, _ = load_scenario("default")
    world = build_world(scenario, EventBus(), {}, identities_for(scenario))
    out = []
    for i in range(n):
        station = world.stations[i % len(world.stations)]
        talk = station.shape != TurnShape.SPLIT  # split: the words come in a request of their own
        out.append(turn_request(station.observe(), station.voice, seed * 1000 + i, talk))
    return scenario.system_prompt, out


def talk_requests(n: int, system: str, seed: int = 7) -> list[ModelRequest]:
    """``n`` plain-talk requests: the same short prompt, a different seed each."""
    return [
        ModelRequest(
            station="KALF",
            provider="local",
            model=smollm2_path().stem,
            system=system,
            messages=[{"role": "user", "content": TALK_USER}],
            schema={"type": "string", "maxLength": 600},
            params={**TALK_PARAMS, "seed": seed * 1000 + 500 + i},
            output="text",
        )
        for i in range(n)
    ]


@dataclass(slots=True)
class Sample:
    kind: str  # "json" or "text"
    latency_s: float
    output_tokens: int
    text: str
    parsed: bool = True
    shortlisted: tuple[int, int] = (0, 0)  # grammar steps on the shortlist, on the vocabulary

    @property
    def ms_per_token(self) -> float:
        return 1000 * self.latency_s / max(1, self.output_tokens)


@dataclass(slots=True)
class Row:
    setting: Setting
    mode: str
    samples: list[Sample] = field(default_factory=list)

    def of(self, kind: str) -> list[Sample]:
        return [s for s in self.samples if s.kind == kind]

    def ms_per_token(self, kind: str, first: int | None = None) -> float | None:
        got = self.of(kind)[:first]
        return statistics.median(s.ms_per_token for s in got) if got else None

    def tokens(self, kind: str) -> float | None:
        got = self.of(kind)
        return statistics.median(s.output_tokens for s in got) if got else None


def _sampling(request: ModelRequest) -> dict[str, Any]:
    p = request.params
    return {
        "temperature": float(p.get("temperature", 0.8)),
        "top_p": float(p.get("top_p", 0.95)),
        "max_tokens": int(p.get("max_tokens", 256)),
        "seed": int(p.get("seed", 0)),
        "repeat_penalty": float(p.get("repeat_penalty", 1.0)),
    }


def _raw_llama(setting: Setting) -> Any:
    from llama_cpp import Llama

    return Llama(
        model_path=str(smollm2_path()),
        n_ctx=2048,
        n_threads=setting[0],
        n_threads_batch=setting[1],
        verbose=False,
    )


def _provider(setting: Setting) -> LocalLlamaProvider:
    provider = LocalLlamaProvider(n_threads=setting[0], n_threads_batch=setting[1])
    provider.load()
    return provider


def stack_call(provider: LocalLlamaProvider) -> Callable[[ModelRequest], Sample]:
    def call(request: ModelRequest) -> Sample:
        start = time.perf_counter()
        response = provider.complete(request)
        parsed = True
        if request.output == "json":
            try:
                parse_turn(response.text)
            except TurnError:
                parsed = False
        latency = time.perf_counter() - start
        grammar = getattr(provider.load(), "shortlist_grammar", None)
        calls = (grammar.calls["shortlist"], grammar.calls["vocabulary"]) if grammar else (0, 0)
        return Sample(request.output, latency, response.output_tokens, response.text, parsed, calls)

    return call


def raw_call(llm: Any, constrained: bool) -> Callable[[ModelRequest], Sample]:
    from llama_cpp import LlamaGrammar

    space = llm.tokenize(b" ", add_bos=False, special=False)

    def call(request: ModelRequest) -> Sample:
        shape: dict[str, Any] = {}
        if constrained and request.output == "text":  # as the stack: grammar, no bare space
            shape["grammar"] = LlamaGrammar.from_string(TALK_GRAMMAR, verbose=False)
            shape["logit_bias"] = {space[0]: float("-inf")}
        elif constrained:
            shape["response_format"] = {"type": "json_object", "schema": request.schema}
        start = time.perf_counter()
        out = llm.create_chat_completion(
            messages=request.full_messages(), **_sampling(request), **shape
        )
        latency = time.perf_counter() - start
        text = out["choices"][0]["message"].get("content") or ""
        return Sample(request.output, latency, int(out["usage"]["completion_tokens"]), text)

    return call


@contextmanager
def busy_process(setting: Setting) -> Iterator[subprocess.Popen[bytes]]:
    """A second process running the stack in a loop; killed on the way out, whatever happens."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--hog", f"{setting[0]}:{setting[1]}"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "ready" once it has loaded and started generating
        if not line.startswith(b"ready"):
            raise RuntimeError(f"busy process did not start (exit {proc.poll()})")
        yield proc
    finally:
        stop_process(proc)


def hog(setting: Setting) -> None:
    """The busy process: turn requests through the stack, forever (until the parent goes)."""
    parent = os.getppid()
    provider = LocalLlamaProvider(n_threads=setting[0], n_threads_batch=setting[1])
    system, requests = json_requests(4, seed=99)
    provider.complete(talk_requests(1, system)[0])
    print("ready", flush=True)
    i = 0
    while os.getppid() == parent:
        request = requests[i % len(requests)]
        request.params["seed"] = i
        provider.complete(request)
        i += 1


def measure(
    modes: dict[str, Callable[[ModelRequest], Sample]],
    requests: list[ModelRequest],
    budget_s: float,
) -> dict[str, list[Sample]]:
    """Each request through every mode in turn (interleaved, so drift hits all alike).

    Stops starting requests after ``budget_s``, but always measures the first request of
    each kind.
    """
    out: dict[str, list[Sample]] = {m: [] for m in modes}
    start = time.perf_counter()
    seen: set[str] = set()
    for request in requests:
        if time.perf_counter() - start > budget_s and request.output in seen:
            continue
        seen.add(request.output)
        for mode, call in modes.items():
            out[mode].append(call(request))
    return out


def run_setting(
    setting: Setting,
    requests: list[ModelRequest],
    busy: Setting | None,
    budget_s: float,
    free: bool,
) -> list[Row]:
    provider = _provider(setting)
    raw = _raw_llama(setting)
    modes: dict[str, Callable[[ModelRequest], Sample]] = {
        "stack": stack_call(provider),
        "raw": raw_call(raw, constrained=True),
    }
    free_llm = None
    if free:
        free_llm = _raw_llama(setting)
        modes["free"] = raw_call(free_llm, constrained=False)
    warm = talk_requests(1, requests[0].system, seed=1)[0]  # a different seed: not measured
    for call in modes.values():  # load, and cache the shared system prompt
        call(warm)
    idle = measure(modes, requests, float("inf"))
    rows = [Row(setting, mode, samples) for mode, samples in idle.items()]
    with busy_process(busy or setting):
        time.sleep(1.0)
        loaded = measure({"busy": modes["stack"]}, requests, budget_s)
    rows.append(Row(setting, "busy", loaded["busy"]))
    for llm in (raw, free_llm, provider._llm):
        if llm is not None:
            llm.close()
    del provider, raw, free_llm, modes
    gc.collect()
    return rows


def _f(x: float | None, fmt: str = ".1f") -> str:
    return "-" if x is None else format(x, fmt)


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def report(rows: list[Row], busy_label: str) -> None:
    head = (
        f"{'setting':>8} {'mode':>6} | {'json tok/s':>10} {'ms/tok':>7} {'tok/turn':>8} | "
        f"{'text tok/s':>10} {'ms/tok':>7} {'tok/turn':>8} | {'stack/raw':>9} | {'busy/idle':>9}"
    )
    print(head)
    print("-" * len(head))
    by_setting: dict[Setting, dict[str, Row]] = {}
    for row in rows:
        by_setting.setdefault(row.setting, {})[row.mode] = row
    for setting, modes in by_setting.items():
        label = f"{setting[0]}" if setting[0] == setting[1] else f"{setting[0]}:{setting[1]}"
        for mode, row in modes.items():
            cells = []
            for kind in ("json", "text"):
                ms = row.ms_per_token(kind)
                cells.append(
                    f"{_f(None if ms is None else 1000 / ms):>10} {_f(ms):>7} "
                    f"{_f(row.tokens(kind), '.0f'):>8}"
                )
            vs_raw = vs_idle = ""
            if mode == "stack" and "raw" in modes:
                raw = modes["raw"]
                vs_raw = "/".join(
                    _ratio(raw.ms_per_token(k), row.ms_per_token(k)) for k in ("json", "text")
                )
            if mode == "busy":  # the same first requests, idle and busy
                idle = modes["stack"]
                vs_idle = "/".join(
                    _ratio(row.ms_per_token(k), idle.ms_per_token(k, len(row.of(k))))
                    for k in ("json", "text")
                )
            print(f"{label:>8} {mode:>6} | {cells[0]} | {cells[1]} | {vs_raw:>9} | {vs_idle:>9}")
    print(
        "ratios are json/text; stack/raw: tokens/s of the stack over raw constrained "
        f"llama-cpp-python; busy/idle: ms/token of the stack with {busy_label} over idle"
    )
    for setting, modes in by_setting.items():
        if "stack" in modes and "raw" in modes:
            pairs = zip(modes["stack"].samples, modes["raw"].samples, strict=True)
            same = sum(a.text == b.text for a, b in pairs)
            bad = sum(not s.parsed for s in modes["stack"].samples if s.kind == "json")
            short = sum(s.shortlisted[0] for s in modes["stack"].samples)
            steps = short + sum(s.shortlisted[1] for s in modes["stack"].samples)
            print(
                f"setting {setting}: stack and raw outputs identical in {same}/"
                f"{len(modes['stack'].samples)}; unparsable turns {bad}; grammar on the "
                f"shortlist in {short}/{steps} steps"
            )


def parse_setting(text: str) -> Setting:
    threads, _, batch = text.partition(":")
    return int(threads), int(batch or threads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--turns", type=int, default=2, help="JSON turn requests per setting")
    ap.add_argument("--talks", type=int, default=3, help="talk (text) requests per setting")
    ap.add_argument(
        "--threads", default="1,2", help="settings to try, comma-separated: T or T:B (batch)"
    )
    ap.add_argument(
        "--busy-threads", default=None, help="the busy process's setting, T or T:B (default: same)"
    )
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per busy measurement")
    ap.add_argument("--no-free", action="store_true", help="skip unconstrained generation")
    ap.add_argument(
        "--skip-default-run", action="store_true", help="skip the default run's talk check"
    )
    ap.add_argument("--hog", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hog is not None:
        hog(parse_setting(args.hog))
        return
    system, turns = json_requests(args.turns)
    requests = turns + talk_requests(args.talks, system)
    busy = parse_setting(args.busy_threads) if args.busy_threads else None
    settings = [parse_setting(s) for s in args.threads.split(",") if s.strip()]
    print(
        f"local model bench: {smollm2_path().name}, {os.cpu_count()} cores, "
        f"{args.turns} turns + {args.talks} talks per setting; load average "
        f"{os.getloadavg()[0]:.2f} (other work on the machine skews every figure)"
    )
    rows: list[Row] = []
    for setting in settings:
        t0 = time.perf_counter()
        free = not args.no_free
        rows.extend(run_setting(setting, requests, busy, args.budget, free))
        print(f"  setting {setting} done in {time.perf_counter() - t0:.0f} s", flush=True)
    report(rows, f"a {args.busy_threads} stack process" if busy else "a second, same-setting one")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if not args.skip_default_run:
        default_run()


def default_run() -> None:
    """The README's first command (default scenario, 1 h, seed 7): is it radio, and are the
    callers answered? The same checks as tests/test_local_model.py, with the figures."""
    scenario, _, _ = load_scenario("default")
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/default.db")
        started = time.perf_counter()
        result = run_scenario(scenario, engine=engine, log_dir=Path(tmp))
        wall = time.perf_counter() - started
        messages = list(iter_rows(engine, result.run_id, "messages"))
        asrun = list(iter_rows(engine, result.run_id, "asrun"))
        with engine.connect() as conn:
            turns = conn.execute(
                text("select queued_json, rejected_json from turns where run_id = :r"),
                {"r": result.run_id},
            ).all()
        engine.dispose()
    probes = [m for m in messages if m["probe_category"]]
    answered = [m for m in probes if m["outcome"] == MessageOutcome.ANSWERED and m["answer"]]
    others = sorted({f"{m['outcome']}: {m['outcome_detail']}" for m in probes if m not in answered})
    breaks = [
        (r["station"], r["text"]) for r in asrun if r["kind"] == SegmentKind.TALK and r["text"]
    ]
    check = check_talk(breaks, scenario.system_prompt)
    queued = sum(len(json.loads(q)) for q, _ in turns)
    refused = sum(sum(r.startswith("queue ") for r in json.loads(rj)) for _, rj in turns)
    bumped = sum(
        r["kind"] == SegmentKind.SONG and r["status"] == SegmentStatus.BUMPED for r in asrun
    )
    print(f"default run: {result.model_calls} calls in {wall:.0f} s ({scenario.run.hours:g} h, "
          f"{len(scenario.stations)} stations)")  # fmt: skip
    print(f"   probes answered on air  {len(answered)}/{len(probes)} (target >= 90%)"
          + (f"; the rest: {'; '.join(others)}" if others else ""))  # fmt: skip
    print(f"   talk                    {check.line()} (target >= 90%)")
    for why, said in check.failures:
        print(f"      {why}: {said!r}")
    share = (refused + bumped) / max(1, queued + refused)
    print(f"   queued songs refused    {refused + bumped} of {queued + refused} ({share:.1%}, "
          "target <= 5%)")  # fmt: skip


if __name__ == "__main__":
    main()
