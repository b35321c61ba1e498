"""Vocabularies: the closed sets of strings a run stores (segment kinds, message outcomes,
fault kinds, ...), as ``StrEnum`` s owned by the module that defines each concept.

A member *is* its string: it compares, hashes, formats and JSON-encodes as the plain
lowercase value, so rows, exports and event logs hold exactly what they held when these
were bare strings (the recorder also stores ``.value``, whatever a driver makes of an
``Enum``). ``repr`` is the value's too, so messages that quote one (a pydantic
``Literal`` error, an ``{x!r}``) read as before.
"""

from __future__ import annotations

from enum import StrEnum


class Vocabulary(StrEnum):
    """Base of the stored vocabularies: a ``StrEnum`` whose ``repr`` is its value's."""

    def __repr__(self) -> str:
        return repr(self.value)
