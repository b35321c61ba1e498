"""Composition root: scenario schema, world assembly, run, export and the CLI."""

__version__ = "0.1.0"
