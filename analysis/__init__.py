"""Measurements of stored runs, kept apart from the simulation that produced them.

``read_run(db, run)`` reads a stored run as typed rows; ``analyze(db, runs)`` (in
``analysis.scoreboard``) computes the persona scoreboard from them.
"""

from analysis.reader import RunData, RunNotFound, read_run

__all__ = ["RunData", "RunNotFound", "read_run"]
