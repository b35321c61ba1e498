"""Matplotlib figures as inline SVG text, and text that is safe to draw in them.

The reports' plots share one style (``STYLE``, applied by ``_style``), one palette and one
SVG post-processing (``_svg``): no XML prolog or metadata, ids from a fixed hash salt per
plot and coordinates cut to 0.01 pt, so the same figure always gives the same bytes. Text
from model output is made one printable line and never mathtext (``_plain``) before
matplotlib sees it. Shared by ``analysis.report`` and ``analysis.compare_report``.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

LABEL_CHARS = 42  # longest station label or phrase written inside a plot
SALT = "personafm-report"

STYLE: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.0,
    "svg.fonttype": "none",  # text stays text: small, searchable, selectable
    "svg.hashsalt": SALT,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # metrics for layout; the browser falls back to its own
    "path.simplify": True,
}

_PROLOG = re.compile(r"\A.*?(?=<svg[\s>])", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_TAG = re.compile(r"<[^<>]*>")  # text content never holds "<" (matplotlib escapes it)
_GEOMETRY = re.compile(r'(\s(?:d|x|y|transform)=")([^"]*)(")')
_DIGITS = re.compile(r"(\.\d\d)\d+")


def palette(n: int) -> list[str]:
    """``n`` distinguishable colours: tab10/tab20, then a spread of turbo (neighbours apart)."""
    if n <= 10:
        return [to_hex(c) for c in matplotlib.colormaps["tab10"](np.arange(n))]
    if n <= 20:
        order = [*range(0, 20, 2), *range(1, 20, 2)][:n]  # the strong ten, then the pale ten
        return [to_hex(c) for c in matplotlib.colormaps["tab20"](order)]
    step = next(k for k in range(int(n * 0.38), n) if math.gcd(k, n) == 1)
    turbo = matplotlib.colormaps["turbo"](np.linspace(0.04, 0.96, n))
    return [to_hex(turbo[(i * step) % n]) for i in range(n)]


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        yield


def _svg(fig: Figure, name: str) -> str:
    """The figure as inline SVG: no XML prolog, doctype or metadata; ids salted per plot so
    two plots on one page never share an id."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"{SALT}-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1), count=1)
    return _TAG.sub(_short_geometry, text.strip())


def _short_geometry(tag: re.Match[str]) -> str:
    """Coordinates to 0.01 pt (matplotlib writes 0.000001): a third of the bytes, same look."""
    return _GEOMETRY.sub(lambda a: a[1] + _DIGITS.sub(r"\1", a[2]) + a[3], tag[0])


def _plain(text: Any, limit: int = LABEL_CHARS) -> str:
    """Text safe to hand matplotlib: one line, printable, bounded, and never mathtext."""
    return _clean(text, limit).replace("$", r"\$")


def _clean(text: Any, limit: int) -> str:
    """One printable line of at most ``limit`` characters (not yet escaped for mathtext)."""
    s = "".join(ch for ch in " ".join(str(text).split()) if ch.isprintable())
    return s if len(s) <= limit else s[: limit - 1] + "…"
