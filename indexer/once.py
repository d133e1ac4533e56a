"""Values built on first use and kept, shared by the threads that serve queries.

Tables derived from an index's analysis or from one segment (region words,
field lengths, the terms a prefix walk finds) cost milliseconds to build and
never change while their owner lives, so each is built the first time a query
needs it. Building is pure: two threads that race build the same value, the
first stored wins and the other is dropped, which costs time once and needs no
lock around the build itself (a build may take a while, and may itself ask
for other values of the same table).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class BuiltOnce(Generic[K, V]):
    """A table of values, each built by the first ``get`` of its key.

    ``limit``: for a table keyed by what people type (a version, a prefix),
    which a stream of made-up queries would grow for as long as the index
    lives: beyond ``limit`` entries the oldest is dropped (built again if
    asked for again)."""

    def __init__(self, limit: int | None = None) -> None:
        self._values: dict[K, V] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, key: K, build: Callable[[], V]) -> V:
        got = self._values.get(key, _MISSING)
        if got is _MISSING:
            value = build()
            with self._lock:
                got = self._values.setdefault(key, value)
                if self.limit is not None and len(self._values) > self.limit:
                    del self._values[next(iter(self._values))]
        return got  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._values)
