"""report.html: one offline page whose every plot renders in a real browser (headless
Chromium), with hostile text from the models escaped and nothing fetched from the network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from analysis.report import FORESTS, render_report, write_report
from analysis.scoreboard import Scoreboard, analyze
from personafm.scenario import load_scenario
from sim.store import open_store
from testkit.helpers import run

HOSTILE = "<script>alert(1)</script>"
# model output the plots must survive: markup, mathtext, control and astral characters, a lone
# surrogate, an SVG comment end, a right-to-left run
WEIRD = (HOSTILE, "$\\frac{1}{0}$ \\", "tab\there\x00 nul 😀 東京", "--> ]]> \ud800", "שלום עולם")
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it)"
)


def _estimate(rng: np.random.Generator, lo: float, hi: float, n: int) -> dict[str, Any]:
    v = float(rng.uniform(lo, hi))
    half = (hi - lo) * 0.1
    return {"v": v, "ci": [max(lo, v - half), min(hi, v + half)], "n": n}


def _dim(**metrics: dict[str, Any] | None) -> dict[str, Any]:
    """A dimension object as ``analysis.scoreboard`` writes it (None: not measured)."""
    out: dict[str, Any] = {}
    for key, m in metrics.items():
        out[key] = None if m is None else m["v"]
        out[f"{key}_ci95"] = None if m is None else m["ci"]
        out[f"{key}_n"] = 0 if m is None else m["n"]
    return out


def synthetic_board(stations: int, seed: int = 0, hostile: bool = False) -> Scoreboard:
    """A hand-built scoreboard of ``stations`` stations over 72 simulated hours, shaped like
    ``analysis.scoreboard.score``'s (4,000 map points, a ledger entry every ~90 s)."""
    rng = np.random.default_rng(seed)
    hours = 72.0
    labels = [f"K{i:03d}" for i in range(stations)]
    if hostile:
        labels[0] = f"{HOSTILE} $x^2$ FM"
    entries = []
    for i, label in enumerate(labels):
        r = lambda lo, hi, n=60: _estimate(rng, lo, hi, n)  # noqa: E731
        missing = i % 7 == 3  # some stations answered no probes: missing, never zero
        tics = [
            {
                "phrase": WEIRD[k] if hostile and k < len(WEIRD) else f"stay golden number {k}",
                "z": float(12 - k + rng.uniform()),
                "count": int(rng.integers(5, 300)),
                "breaks": int(rng.integers(5, 200)),
                "per_day": float(rng.uniform(1, 90)),
                "first_seen_s": float(rng.uniform(0, 20 * 3600)),
                "last_seen_s": float(rng.uniform(40 * 3600, hours * 3600)),
            }
            for k in range(int(rng.integers(0, 11)) if i % 5 else 10)
        ]
        entries.append(
            {
                "label": label,
                "run_id": "20260105-060000-abcdef",
                "station": label,
                "provider": "scripted",
                "model": f"persona-{i}",
                "talk_breaks": int(rng.integers(200, 900)),
                "reflexes": _dim(
                    words_per_break=r(20, 60, 600),
                    latency_p50_s=r(0.2, 3),
                    latency_p95_s=r(1, 9),
                    output_tokens_per_s=r(20, 80),
                ),
                "manners": _dim(care_pivot_rate=r(0, 0.3, 500), care_on_cue=r(0, 1, 24)),
                "creativity": _dim(
                    distinct_1=r(0.1, 0.5, 600),
                    distinct_2=r(0.3, 0.8, 600),
                    mtld=r(40, 120, 20000),
                    compression_ratio=r(2, 6),
                    rephrase_similarity=r(0.2, 0.9, 30),
                ),
                "sycophancy": _dim(index=None if missing else r(0, 1, 42)),
                "distractibility": _dim(index=None if missing else r(0, 1, 42)),
                "injection": _dim(compliance_rate=r(0, 1, 42)),
                "politics": _dim(lean=r(-1, 1, 42), aside_rate=r(0, 0.2, 500)),
                "stamina": {
                    **_dim(drift=r(0, 0.6, 600), template_share=r(0, 1, 600)),
                    "drift_series": [
                        (hours * 3600 * (w + 0.5) / 8, float(0.05 * w * rng.uniform()))
                        for w in range(8)
                    ],
                    "top_template": "it's <N> past <N> on <NAME>",
                },
                "business": {
                    "final_balance_usd": float(rng.uniform(-50, 500)),
                    "deals_closed": int(rng.integers(0, 5)),
                    "scams_paid": int(rng.integers(0, 2)),
                    "fabricated_sponsor_mentions": 0,
                },
                "tics": tics,
            }
        )
    divergence = [
        {
            "a": a,
            "b": b,
            "statistic": float(rng.uniform(0, 0.4)),
            "p_value": float(rng.choice([0.005, 0.2, 0.6])),
            "n_a": 60,
            "n_b": 60,
        }
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
    ]
    points = [
        {"label": labels[k % stations], "x": float(x), "y": float(y)}
        for k, (x, y) in enumerate(rng.normal(size=(4000, 2)))
    ]
    series = {}
    for label in labels:
        t = np.sort(rng.uniform(0, hours * 3600, 2900))
        balance = 100 + np.cumsum(rng.normal(0, 2, len(t)))
        quarters = np.arange(0, hours * 3600, 900.0)
        series[label] = {
            "balance_usd": list(zip(t.tolist(), balance.tolist(), strict=True)),
            "aqh": [(q, float(rng.integers(0, 400))) for q in quarters],
        }
    return Scoreboard(
        runs=[
            {
                "run_id": "20260105-060000-abcdef",
                "name": "synthetic <b>run</b>" if hostile else "synthetic",
                "status": "finished",
                "seed": seed,
                "sim_hours_planned": hours,
                "sim_hours_done": hours,
            }
        ],
        judge="rules",
        stations=entries,
        divergence=divergence,
        map_points=points,
        series=series,
    )


def _real_board(tmp_path: Path) -> Scoreboard:
    """The bundled known-answer scenario, 24 simulated hours, run and analysed for real."""
    scenario, _, _ = load_scenario("scenarios/traits.toml", overrides={"run.hours": 24.0})
    engine = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        result = run(scenario, engine, tmp_path)
        assert result.status == "finished"
        return analyze(engine, [result.run_id])
    finally:
        engine.dispose()


def _chromium(html: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
            *extra,
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _page_console_errors(stderr: str) -> list[str]:
    """Chromium's log lines that carry a message of the page itself (console or uncaught
    error), not the browser's own noise (GPU, D-Bus, crash reporter)."""
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "Content Security Policy" in line
    ]


def _assert_renders(html: Path, tmp_path: Path, expected: int) -> None:
    done = _chromium(html, tmp_path, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body[^>]*>", done.stdout)
    assert body, done.stdout[:500]
    assert "data-errors" not in body.group(0), body.group(0)
    rendered = re.search(r'data-plots-rendered="(\d+)/(\d+)"', body.group(0))
    assert rendered, f"the check script did not run: {body.group(0)}"
    assert rendered.group(1) == rendered.group(2) == str(expected)
    assert _page_console_errors(done.stderr) == []

    shot = tmp_path / "shot.png"
    done = _chromium(html, tmp_path, f"--screenshot={shot}", "--window-size=1280,4000")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert _page_console_errors(done.stderr) == []
    with Image.open(shot) as img:
        assert img.size == (1280, 4000)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 200, "the screenshot is (nearly) blank"


def _plots(text: str) -> list[str]:
    return re.findall(r'<figure class="plot" data-plot="([^"]+)"><svg[ >]', text)


def _assert_offline(text: str) -> None:
    """Nothing points to the network: the only URLs are XML namespace names."""
    without_ns = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", text)
    assert not re.search(r"https?://", without_ns, re.I)
    assert not re.search(r"\s(src|href|xlink:href)=\"(?!#)", text)
    assert "<link" not in text and "@import" not in text and "url(http" not in text


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scoreboard, Path]:
    tmp = tmp_path_factory.mktemp("real")
    board = _real_board(tmp)
    path = tmp / "report.html"
    write_report(board, path)
    return board, path


def test_known_answer_report_is_complete_and_offline(
    real_report: tuple[Scoreboard, Path],
) -> None:
    board, path = real_report
    text = path.read_text("utf-8")
    plots = _plots(text)
    assert len(plots) == text.count('<figure class="plot"') >= 8
    assert {"balance", "aqh", "divergence", "map", "tics", "drift"} <= set(plots)
    for must in ("sycophancy.index", "politics.lean", "injection.compliance_rate"):
        assert f"forest-{must}" in plots
    for s in board.stations:  # every station has a column of the headline table
        assert f"{s['label']}</th>" in text
    for r in board.runs:
        assert r["run_id"] in text
    _assert_offline(text)
    assert text.count("<script") == 1
    assert render_report(board) == text  # deterministic: same board, same bytes


@needs_chromium
def test_known_answer_report_renders_in_chromium(
    real_report: tuple[Scoreboard, Path], tmp_path: Path
) -> None:
    _, path = real_report
    _assert_renders(path, tmp_path, len(_plots(path.read_text("utf-8"))))


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    board = synthetic_board(4, seed=1, hostile=True)
    path = tmp_path / "report.html"
    write_report(board, path)
    text = path.read_text("utf-8")
    assert HOSTILE not in text and "<b>run</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count("<script") == 1  # only the page's own check script
    assert "<title>Persona FM scoreboard — synthetic &lt;b&gt;run&lt;/b&gt;</title>" in text
    assert "--> ]]>" not in text and "\x00" not in text
    # "$x^2$" in a label is not mathtext: the dollar signs are kept as text, in plots too
    assert "$x^2$ FM" in text
    tics = re.search(r'data-plot="tics">(.*?)</figure>', text, re.S)
    assert tics and "“$\\frac{1}{0}$ \\” ×" in tics[1]
    _assert_offline(text)
    if CHROMIUM is not None:
        _assert_renders(path, tmp_path, len(_plots(text)))


def test_missing_measurements_are_marked_not_zero(tmp_path: Path) -> None:
    board = synthetic_board(8, seed=2)
    for s in board.stations:  # nobody measured sycophancy: no forest plot for it
        s["sycophancy"] = {"index": None, "index_ci95": None, "index_n": 0}
    board.stations[1]["tics"] = []
    text = render_report(board)
    plots = _plots(text)
    assert "forest-sycophancy.index" not in plots
    assert "forest-distractibility.index" in plots  # station 3 missing, others measured
    assert "K003 (n=0, missing)" in text
    assert '<span class="missing" title="not measured">–</span>' in text
    assert "no tics" in text


def test_empty_board_still_writes_a_page(tmp_path: Path) -> None:
    text = render_report(Scoreboard(runs=[], judge="rules", stations=[], divergence=[]))
    assert _plots(text) == []
    assert "Nothing to show" in text or "No balance" in text
    assert text.rstrip().endswith("</html>")


def test_hundred_stations_stay_bounded(tmp_path: Path) -> None:
    """Size, not speed: the report's timing is measured by bench/analyze.py."""
    board = synthetic_board(100, seed=3)
    path = tmp_path / "report.html"
    write_report(board, path)
    text = path.read_text("utf-8")
    plots = _plots(text)
    assert len(plots) == 6 + len(FORESTS)
    assert "<image" not in text  # nothing rasterised
    assert text.count(">*</text>") == 0  # > 20 stations: no text in the heatmap cells
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 8, f"{size_mb:.1f} MB"
