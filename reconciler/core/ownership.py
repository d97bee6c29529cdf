"""What an environment owns: globs of names. Everything else is never touched.

Internal topics (Kafka's `__consumer_offsets`, MSK's `__amazon_msk_canary`, anything starting
with `_`) are outside every environment, whatever its patterns say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import translate
from functools import lru_cache


def is_internal(name: str) -> bool:
    """Kafka, MSK, Connect and Streams keep their own state in `_`-prefixed topics."""
    return name.startswith("_")


def _never(name: str) -> bool:
    return False


@lru_cache(maxsize=1024)
def matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether any of the globs matches a name (`fnmatchcase`'s rules), as one compiled
    regex: an environment sifts every name of its cluster through its globs, and one match
    per name is a fraction of one `fnmatchcase` per pattern."""
    if not patterns:
        return _never
    match = re.compile("|".join(f"(?:{translate(p)})" for p in patterns)).match
    return lambda name: match(name) is not None


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether any glob matches `name` (case-sensitive, as Kafka names are)."""
    return matcher(tuple(patterns))(name)
