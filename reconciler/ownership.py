"""Which topics an environment owns. Everything else is never touched.

Internal topics (Kafka's `__consumer_offsets`, MSK's `__amazon_msk_canary`, anything starting
with `_`) are outside every environment, whatever its patterns say.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from reconciler.model import Environment


def is_internal(name: str) -> bool:
    """Kafka, MSK, Connect and Streams keep their own state in `_`-prefixed topics."""
    return name.startswith("_")


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def is_managed(environment: Environment, name: str, declared: bool) -> bool:
    """Declared topics are always managed; others only when the ownership globs claim them."""
    if is_internal(name) or _matches(name, environment.ignored_topics):
        return False
    return declared or _matches(name, environment.managed_topics)
