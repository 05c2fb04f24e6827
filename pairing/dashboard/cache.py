"""An in-process cache of dashboard results, keyed on the data version.

The key holds everything a result depends on: the committed data version
(pairing/common/dataversion.py), the date, the filters, the goal settings and, for figures,
the language. A committed write anywhere moves the version, so stale entries are never read
again; they age out of the bounded LRU. ``DASHBOARD_CACHE=false`` turns it off (the benchmark
reports both).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import current_app

from ..common import dataversion


class LRUCache:
    def __init__(self, maxsize: int = 256):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute: Callable[[], Any]):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_cache = LRUCache()


def cached(session, key: tuple, compute: Callable[[], Any]):
    """``compute()``, or its cached result for ``key`` at the current data version."""
    if not current_app.config.get("DASHBOARD_CACHE", True):
        return compute()
    full_key = (current_app.import_name, str(session.get_bind().url),
                dataversion.current(session), *key)
    return _cache.get_or_compute(full_key, compute)


def clear() -> None:
    _cache.clear()
