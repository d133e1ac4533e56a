"""One least-recently-used cache, by count or by bytes.

What a search engine keeps because people repeat themselves — result pages
(the same popular queries, the next page of one), decoded posting lists and
stored articles (the words and articles people search for follow a Zipf
law), rendered article pages — is kept in an :class:`LRU`: entries up to a
limit, the least recently used dropped first.  The limit counts entries, or
bytes when the cache is given the size of a value.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

#: Result pages an engine keeps per generation (``search.engine.Engine``'s
#: default, and ``zhsearch serve --cache-size``'s: written here once, in a module
#: that is cheap to import, since the settings of every command read it).
RESULT_CACHE_SIZE = 1024

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class LRU(Generic[K, V]):
    """Up to ``limit`` entries — or bytes, when ``size`` tells what a value
    costs — the least recently used dropped first.

    The entry just added is never the one dropped, so a value larger than
    the whole limit is still kept until the next one comes.  A limit of 0
    (or less) keeps nothing: :meth:`get_or_make` then makes every time.
    Safe to share between threads; a value is made outside the lock, and
    when two threads make the same one the first kept is what both get."""

    def __init__(self, limit: int, size: Callable[[V], int] | None = None) -> None:
        self.limit = limit
        self._size = size
        #: what the entries held cost: their number, or their bytes
        self.total = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def get(self, key: K, default=None):
        """The value kept under ``key`` (now the most recently used), else ``default``."""
        with self._lock:
            got = self._items.get(key)
            if got is None:
                return default
            self._items.move_to_end(key)
            return got[0]

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key``, replacing what was there; returns ``value``."""
        if self.limit <= 0:
            return value
        cost = self._cost(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.total -= old[1]
            self._add(key, value, cost)
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept under ``key``, else ``make()``, kept."""
        got = self.get(key, _MISSING)
        if got is not _MISSING:
            return got
        value = make()
        if self.limit <= 0:
            return value
        cost = self._cost(value)
        with self._lock:
            got = self._items.get(key)
            if got is not None:  # another thread made it first
                self._items.move_to_end(key)
                return got[0]
            self._add(key, value, cost)
        return value

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._items.clear()
            self.total = 0

    def _cost(self, value: V) -> int:
        return 1 if self._size is None else self._size(value)

    def _add(self, key: K, value: V, cost: int) -> None:
        """Under the lock: add the entry, then drop the oldest while over the limit."""
        self._items[key] = (value, cost)
        self.total += cost
        while self.total > self.limit and len(self._items) > 1:
            _key, (_value, dropped) = self._items.popitem(last=False)
            self.total -= dropped
