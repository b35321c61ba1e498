"""What the market needs to know about a segment that went to air.

The station domain's as-run event (``stations.records.SegmentAired``) has
these attributes; the composition root subscribes market components to it,
so the economy reads the as-run log without importing the station package.
"""

from __future__ import annotations

from typing import Protocol


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
    def kind(self) -> str: ...  # song | talk | ad | id
    @property
    def source(self) -> str: ...
    @property
    def status(self) -> str: ...  # aired | bumped
    @property
    def song_id(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def ref(self) -> str | None: ...  # what talk answers (a call's message id), if anything
