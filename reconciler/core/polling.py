"""One bounded wait for everything that waits: MSK operations, brokers agreeing, read-backs.

    for attempt in attempts(timeout=30, interval=0.2):
        if done():
            break
    else:
        raise ReconcilerError("still not done after 30s")

The first try is immediate; the try made once the deadline has passed is marked `last`, so a
caller can do its final check there; then the loop ends and `else` runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    number: int
    elapsed: float
    last: bool


def attempts(
    timeout: float,
    interval: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Attempt]:
    """Tries until the caller stops, `interval` seconds apart, for at most `timeout` seconds."""
    start = clock()
    number = 0
    while True:
        number += 1
        elapsed = clock() - start
        last = elapsed >= timeout
        yield Attempt(number, elapsed, last)
        if last:
            return
        sleep(interval)
