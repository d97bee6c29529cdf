"""Loading, and reading back, without Python's cyclic garbage collector.

Loading 10,000 topics builds a few million small objects (values, marks, drafts) that hold no
reference cycles, so reference counting frees them all. The cyclic collector still walks them
each time enough new objects pile up, again and again as the heap grows: about a third of a
10,000-topic load, finding nothing. It is paused while specs load and resumed after, also when
several loads overlap in threads (the last one out resumes it, and only if it was running).
Apply's read-back is paused too: the client library makes an object per config entry and
synonym (~150,000 for 1,000 topics), and the passes they set off took 40% of its CPU time;
it lasts at most the settle wait, so what cycles it leaves are collected once it ends.
A plan is paused from its first read to its last: the answers' objects outlive a young
collection while the loaded specs are held, so each full pass walked the specs again (a
third of a 10,000-topic plan's CPU time, 7.4 s -> 5.0 s); it is bounded by the
environment's timeouts.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many loads hold the collector paused, and whether to resume it after the last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.resume = False


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (reference counting still frees memory)."""
    pauses = _PAUSES
    with pauses.lock:
        if pauses.holders == 0:
            pauses.resume = gc.isenabled()
            gc.disable()
        pauses.holders += 1
    try:
        yield
    finally:
        with pauses.lock:
            pauses.holders -= 1
            if pauses.holders == 0 and pauses.resume:
                gc.enable()
