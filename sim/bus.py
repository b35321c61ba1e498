"""A synchronous, in-process publish/subscribe bus for typed events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sim.events import Event

Handler = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._by_type: dict[type[Event], list[Handler]] = defaultdict(list)
        self._all: list[Handler] = []

    def subscribe(self, handler: Handler, *types: type[Event]) -> None:
        """Call ``handler`` for events of ``types`` (exact classes), or for all when none given."""
        if not types:
            self._all.append(handler)
        for t in types:
            self._by_type[t].append(handler)

    def publish(self, event: Event) -> None:
        for handler in self._all:
            handler(event)
        for handler in self._by_type.get(type(event), ()):
            handler(event)
