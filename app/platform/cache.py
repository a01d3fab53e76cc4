"""A bounded, thread-safe, least-recently-used cache measured in bytes.

Holds decoded working images (content-addressed by their hash), aliases from an upload's
hash to its working image, and computed layer results, all under one entry count and one
byte bound. An entry larger than the whole bound is simply not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from app.platform.config import Settings


class LruCache:
    def __init__(self, settings: Callable[[], Settings],
                 room: Callable[[], int] | None = None) -> None:
        self._settings = settings
        # Bytes the cache may hold now (the memory budget minus the work in flight, see
        # app/platform/heavy.py); cache_bytes alone when not given.
        self.room = room
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, nbytes: int,
            keep: tuple[Hashable, ...] = ()) -> None:
        """Insert `key` as the most recent entry, then evict the least recently used until
        within bounds; the keys in `keep` (say, the image a result belongs to) go last."""
        s = self._settings()
        bound = self._bound(s)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if nbytes > bound:
                return
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while len(self._items) > s.cache_entries or self._bytes > bound:
                victim = next((k for k in self._items if k != key and k not in keep), None)
                if victim is None:
                    victim = next(iter(self._items))
                _, size = self._items.pop(victim)
                self._bytes -= size

    def _bound(self, s: Settings) -> int:
        return s.cache_bytes if self.room is None else min(s.cache_bytes, self.room())

    def shrink_to(self, nbytes: int) -> None:
        """Evict the least recently used entries until at most `nbytes` are held."""
        with self._lock:
            while self._items and self._bytes > nbytes:
                _, (_, size) = self._items.popitem(last=False)
                self._bytes -= size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
