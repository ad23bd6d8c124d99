"""A small shared LRU cache for the pages' results and figures.

Like ``st.cache_resource`` (one object for every session, computed once per key even when many
sessions ask at the same moment, bounded), but keyed by the arguments' own ``hash``: the 2D
page's arguments are strings, numbers and frozen dataclasses, and Streamlit's content hashing of
them was 11% of the server's time under 60 students (py-spy, ``bench/load.py``). What it returns
is shared: callers must not modify it.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

__all__ = ["shared_cache"]


def shared_cache(maxsize: int):
    """Decorator: cache ``fn(*args, **kwargs)`` (hashable arguments) for every thread, LRU-bounded.

    Keyword arguments whose names start with ``_`` are passed on but are not part of the key
    (Streamlit's convention for its caches): e.g. a progress callback, used by whichever caller
    computes the value while the others wait for it.
    """
    if maxsize < 1:
        raise ValueError("maxsize must be at least 1")

    def decorate(fn):
        lock = threading.Lock()
        entries: OrderedDict = OrderedDict()
        computing: dict = {}  # key -> lock held by the thread computing it

        @functools.wraps(fn)
        def cached(*args, **kwargs):
            key = (args, tuple(sorted((k, v) for k, v in kwargs.items() if not k.startswith("_"))))
            with lock:
                if key in entries:
                    entries.move_to_end(key)
                    return entries[key]
                key_lock = computing.setdefault(key, threading.Lock())
            with key_lock:  # the first asker computes; the others wait here, then read its result
                with lock:
                    if key in entries:
                        return entries[key]
                try:
                    value = fn(*args, **kwargs)
                except BaseException:
                    with lock:
                        computing.pop(key, None)
                    raise
                with lock:  # stored and unmarked at once: a later asker finds one or the other
                    entries[key] = value
                    while len(entries) > maxsize:
                        entries.popitem(last=False)
                    computing.pop(key, None)
                return value

        def clear() -> None:
            with lock:
                entries.clear()

        cached.clear = clear
        cached.size = lambda: len(entries)
        return cached

    return decorate
