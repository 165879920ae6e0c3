"""Building large acyclic data with the cyclic garbage collector paused.

A list response of 5,000 pods parses into half a million dicts and lists. While they are being
created, CPython's collector runs its generations again and again, and every full collection walks
the whole heap of the process: on the analyzers' benchmark about half the CPU of `analyze` went
there. JSON trees and the summaries built from them hold no reference cycles, so there is nothing
for the collector to find; it is paused only around such synchronous work (never across an await),
and the pause is counted so that overlapping users (threads) restore it once, as they found it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
