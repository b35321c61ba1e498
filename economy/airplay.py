"""What the market needs to know about a segment that went to air.

The station domain's as-run event (``stations.records.SegmentAired``) has
these attributes; the composition root subscribes market components to it,
so the economy reads the as-run log without importing the station package.

The as-run vocabularies live here too, since both sides use them: a segment's
``kind`` (``SegmentKind``), who chose it (``SegmentSource``) and whether it aired
(``SegmentStatus``). Each is a ``StrEnum`` (``sim.vocabulary.Vocabulary``): a member
equals, and is stored as, its lowercase string.
"""

from __future__ import annotations

from typing import Protocol

from sim.vocabulary import Vocabulary


class SegmentKind(Vocabulary):
    """What a segment is."""

    SONG = "song"
    TALK = "talk"  # the DJ's words (a break, or the answer to a call)
    AD = "ad"  # a spot in an ad break: a sponsor's read or a house promo
    ID = "id"  # the station identification at the top of the hour


class SegmentSource(Vocabulary):
    """Who chose a segment."""

    MODEL = "model"  # the station's model (a turn or a turn of its own)
    ROTATION = "rotation"  # automation: the rotation's pick, IDs and house promos
    FALLBACK = "fallback"  # automation, when every owned song breaks a rule


class SegmentStatus(Vocabulary):
    """What became of a segment."""

    AIRED = "aired"
    BUMPED = "bumped"  # a queued song refused at air time (separation or caps)


SPOKEN: tuple[SegmentKind, ...] = (SegmentKind.TALK, SegmentKind.AD)  # words said on air


class Aired(Protocol):
    @property
    def sim_time(self) -> float: ...  # start, simulated seconds
    @property
    def station(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def end_s(self) -> float: ...
    @property
    def kind(self) -> SegmentKind: ...
    @property
    def source(self) -> SegmentSource: ...
    @property
    def status(self) -> SegmentStatus: ...
    @property
    def song_id(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def ref(self) -> str | None: ...  # what talk answers (a call's message id), if anything
