"""The offline HTML page the reports are written into, and HTML text for it.

``page`` wraps a report's sections in one self-contained document: inline style, no
network, and a Content-Security-Policy that lets only the page's own check script run
(so markup injected through model output never can). The check script counts the plots
that laid out to a non-empty box (``data-plots-rendered``) and records script errors
(``data-errors``), so a headless browser can tell a broken report from a good one.
``_e`` and ``_fmt`` escape every value written into the page. Shared by
``analysis.report`` and ``analysis.compare_report``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Sequence
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem auto;
max-width:1200px;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:.95rem;margin:.4rem 0}
table{border-collapse:collapse;font-size:.8rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.15rem .4rem;text-align:right;vertical-align:top}
th:first-child,td.l{text-align:left}thead th{background:#f4f4f4}
.wide{overflow-x:auto;max-width:100%}.note{font-size:.85rem;color:#444;max-width:60rem}
.ci,.n{color:#777;font-size:.7rem;display:block}.missing{color:#aaa}
.sw{display:inline-block;width:.7em;height:.7em;margin-right:.25em;border-radius:2px}
figure.plot{margin:1rem 0}figure.plot svg{max-width:100%;height:auto}
figcaption{font-size:.8rem;color:#555}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(22rem,1fr));gap:.8rem}
.card{border:1px solid #e4e4e4;border-radius:4px;padding:.4rem .6rem}
.card td:first-child{text-align:left;word-break:break-word}
"""

# counts the plots that laid out to a non-empty box, and keeps any script error
CHECK_JS = """(function () {
  var errors = [];
  window.onerror = function (message, source, line) {
    errors.push(String(message) + (line ? " (line " + line + ")" : ""));
    document.body.dataset.errors = errors.join(" | ");
  };
  window.addEventListener("load", function () {
    var figures = document.querySelectorAll("figure.plot");
    var rendered = 0;
    figures.forEach(function (figure) {
      var svg = figure.querySelector("svg");
      if (!svg) { return; }
      var box = svg.getBBox();
      if (box.width > 0 && box.height > 0) { rendered += 1; }
    });
    document.body.dataset.plotsRendered = rendered + "/" + figures.length;
  });
})();"""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def page(title: str, body: Sequence[str]) -> str:
    """A whole offline page: the sections, the style, and the check script that only a
    Content-Security-Policy naming its hash lets run (so injected markup never can)."""
    script_hash = base64.b64encode(hashlib.sha256(CHECK_JS.encode()).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{CHECK_JS}</script>\n</body>\n</html>\n"
    )


def _fmt(value: Any, fmt: str) -> str:
    """``value`` formatted and HTML-escaped; a dash when it is missing."""
    if value is None:
        return "–"
    try:
        if fmt == "int":
            return _e(f"{int(value):,d}")
        if fmt == "pct":
            return _e(f"{float(value):.0%}")
        return _e(fmt.format(value))
    except (TypeError, ValueError, OverflowError):
        return _e(value)


def _e(value: Any) -> str:
    """Escaped for HTML text and attributes, without the control characters HTML forbids."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)
