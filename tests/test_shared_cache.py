"""The pages' shared LRU cache: one computation per key however many sessions ask, bounded."""

import threading
import time

import pytest

from ui.shared import shared_cache


def test_concurrent_askers_share_one_computation():
    calls = []

    @shared_cache(4)
    def slow(x):
        calls.append(x)
        time.sleep(0.2)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(slow(1))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert calls == [1] and len(got) == 8 and all(g is got[0] for g in got)


def test_least_recently_used_entry_is_dropped():
    calls = []

    @shared_cache(2)
    def f(x, *, y=0):
        calls.append((x, y))
        return x + y

    f(1), f(2), f(1), f(3)  # 2 is the least recently used when 3 arrives
    assert f.size() == 2
    f(1), f(2)
    assert calls == [(1, 0), (2, 0), (3, 0), (2, 0)]
    assert f(1, y=5) == 6 and calls[-1] == (1, 5)  # keyword arguments are part of the key


def test_errors_are_not_cached():
    attempts = []

    @shared_cache(2)
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("first try fails")
        return x

    with pytest.raises(RuntimeError):
        flaky(7)
    assert flaky(7) == 7 and attempts == [7, 7]


def test_underscore_keywords_reach_the_computation_but_not_the_key():
    calls, seen = [], []

    @shared_cache(2)
    def train(x, *, _progress=None):
        calls.append(x)
        _progress(x)
        return x * 10

    assert train(3, _progress=seen.append) == 30
    assert train(3, _progress=lambda v: seen.append(-v)) == 30  # same key: the first result, no call
    assert calls == [3] and seen == [3]
