"""What an environment owns: globs of names. Everything else is never touched.

Internal topics (Kafka's `__consumer_offsets`, MSK's `__amazon_msk_canary`, anything starting
with `_`) are outside every environment, whatever its patterns say.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def is_internal(name: str) -> bool:
    """Kafka, MSK, Connect and Streams keep their own state in `_`-prefixed topics."""
    return name.startswith("_")


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether any glob matches `name` (case-sensitive, as Kafka names are)."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)
