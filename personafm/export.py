"""Stable, documented exports of a run, and run lookup.

As-run log, model calls, ledger, ratings (per quarter hour and per daypart),
listener messages, negotiations and contracts.

Each export is registered once with ``export_table``: its name (``--what``), its
columns in order (the CSV header and the JSON keys, also listed in the README) and
where its rows come from: a stored table read in a fixed order (by station, then
time/sequence, so two identical runs export identical files apart from ``run_id``)
with computed columns, or a view of ``analysis.reader``. A new export is one module
that calls ``export_table`` and is imported before the CLI runs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Engine, RowMapping

from analysis.reader import RunNotFound, iter_table, resolve_run
from sim.text import csv_cell, json_line

__all__ = [
    "EXPORTS", "FORMATS", "RunNotFound", "columns", "export_table", "iter_rows", "resolve_run",
    "whats", "write_export",
]  # fmt: skip

FORMATS = ("jsonl", "csv")
Row = dict[str, Any]
RowSource = Callable[[Engine, str], Iterator[Row]]


@dataclass(frozen=True, slots=True)
class ExportTable:
    name: str
    columns: tuple[str, ...]
    rows: RowSource  # (engine, run id) -> the export's rows, in order

    def pick(self, r: Any, **computed: Any) -> Row:
        """The export's columns from a stored row (mapping or record), ``computed`` ones
        taken from the keywords."""
        get = r.__getitem__ if isinstance(r, RowMapping) else r.__getattribute__
        return {k: computed[k] if k in computed else get(k) for k in self.columns}


# every export by name, in registration order
EXPORTS: dict[str, ExportTable] = {}


def export_table(
    name: str,
    columns: tuple[str, ...],
    table: str = "",
    order: tuple[str, ...] = ("id",),
    compute: Callable[[RowMapping], Row] | None = None,
    rows: RowSource | None = None,
) -> ExportTable:
    """Register an export: the stored ``table``'s rows in ``order`` (with the columns
    ``compute(row)`` returns added), or the rows of ``rows(engine, run_id)``."""
    if name in EXPORTS:
        raise ValueError(f"export {name!r} is registered twice")
    if rows is None:
        if not table:
            raise ValueError(f"export {name!r}: give a stored table or a row source")
        rows = _table_rows(name, table, order, compute)
    made = EXPORTS[name] = ExportTable(name, columns, rows)
    return made


def _table_rows(
    name: str, table: str, order: tuple[str, ...], compute: Callable[[RowMapping], Row] | None
) -> RowSource:
    def rows(engine: Engine, run_id: str) -> Iterator[Row]:
        pick = EXPORTS[name].pick
        for r in iter_table(engine, run_id, table, order):
            yield pick(r, **compute(r)) if compute else pick(r)

    return rows


def whats() -> tuple[str, ...]:
    """The registered exports' names (``--what``)."""
    return tuple(EXPORTS)


def columns(what: str) -> tuple[str, ...]:
    return _export(what).columns


def _export(what: str) -> ExportTable:
    export = EXPORTS.get(what)
    if export is None:
        raise ValueError(f"unknown export {what!r}; choose one of {', '.join(EXPORTS)}")
    return export


def iter_rows(engine: Engine, run_id: str, what: str) -> Iterator[Row]:
    """The export's rows, read through ``analysis.reader`` (streamed where a table is)."""
    return _export(what).rows(engine, run_id)


def write_export(
    engine: Engine, run_id: str, what: str, fmt: str, out: TextIO, drop: tuple[str, ...] = ()
) -> int:
    """Write the export to ``out`` (without the ``drop`` columns); return the number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    header = [c for c in columns(what) if c not in drop]
    n = 0
    rows = iter_rows(engine, run_id, what)
    if drop:
        rows = ({k: v for k, v in r.items() if k not in drop} for r in rows)
    if fmt == "jsonl":  # values as stored; no character in a line can steer a terminal
        for row in rows:
            out.write(json_line(row) + "\n")
            n += 1
    else:  # printable cells that a spreadsheet will not evaluate
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
            n += 1
    return n


def export_text(engine: Engine, run_id: str, what: str, fmt: str = "jsonl") -> str:
    buf = io.StringIO()
    write_export(engine, run_id, what, fmt, buf)
    return buf.getvalue()


# The built-in exports register here; each is one module.
from personafm.exports import builtin  # noqa: E402, F401  (registers the exports)
