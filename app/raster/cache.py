"""Small thread-safe LRU caches: rendered tiles, and open datasets per thread.

Evicted or dropped values are only forgotten: an open dataset is closed by its last user
(rasterio closes a dataset when it is garbage collected), never under a thread reading it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LRU:
    """A bounded mapping that forgets the least recently used entry; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value, marked as recently used, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        """Store a value, forgetting the oldest entries beyond the size."""
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, predicate: Callable[[Hashable], bool]) -> int:
        """Forget every entry whose key matches; returns how many went."""
        with self._lock:
            keys = [key for key in self._items if predicate(key)]
            for key in keys:
                del self._items[key]
        return len(keys)

    def __len__(self) -> int:
        return len(self._items)


class PerThreadLRU:
    """One LRU per thread (GDAL dataset handles must not be shared between threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._local = threading.local()
        self._all: list[LRU] = []
        self._lock = threading.Lock()

    def _mine(self) -> LRU:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = LRU(self.size)
            self._local.cache = cache
            with self._lock:
                self._all.append(cache)
        return cache

    def get(self, key: Hashable) -> Any | None:
        """This thread's value for the key, or None."""
        return self._mine().get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Store in this thread's cache."""
        self._mine().put(key, value)

    def drop(self, predicate: Callable[[Hashable], bool]) -> int:
        """Forget matching entries in every thread's cache."""
        with self._lock:
            caches = list(self._all)
        return sum(cache.drop(predicate) for cache in caches)
