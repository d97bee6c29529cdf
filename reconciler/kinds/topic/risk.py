"""How risky each kind of topic field change is, and the sentence that tells a reviewer why.

impossible: Kafka cannot do it in place, so the plan says so and gives the way out instead of
doing something else. Config values share their rules with the brokers' defaults
(`core.configs.risk`).
"""

from __future__ import annotations

from reconciler.core.configs.risk import Scope, config_risk
from reconciler.core.configs.topic import TOPIC_CONFIGS, humanize
from reconciler.core.model import FieldDiff, Risk

CONFIG = "config."


def show(key: str, value: str | None) -> str:
    """A config value as a reviewer reads it: 604800000 -> 7d, -1 -> -1 (unlimited)."""
    return humanize(key, value) or "(unset)"


def is_secret(key: str) -> bool:
    """Kafka marks password configs by type; a name saying so is treated the same."""
    definition = TOPIC_CONFIGS.get(key)
    return (definition is not None and definition.type == "password") or "password" in key.lower()


def partition_change(before: int, after: int) -> FieldDiff:
    if after < before:
        return FieldDiff(
            "partitions",
            before,
            after,
            Risk.IMPOSSIBLE,
            f"Kafka cannot remove partitions ({before} -> {after}). Way out: keep "
            f"partitions: {before} in the spec, or create a new topic with {after} partitions "
            "and move producers and consumers to it",
        )
    return FieldDiff(
        "partitions",
        before,
        after,
        Risk.DISRUPTIVE,
        f"adding partitions ({before} -> {after}) sends keyed messages to different "
        "partitions: per-key ordering breaks across the change, and consumers get a rebalance",
    )


def config_change(key: str, before: str | None, after: str) -> FieldDiff:
    what = f"{key} {show(key, before)} -> {show(key, after)}"
    risk, reason = config_risk(key, before, after, Scope.TOPIC, what)
    return FieldDiff(CONFIG + key, before, after, risk, reason, sensitive=is_secret(key))


def override_removal(key: str, before: str | None, inherited: str | None) -> FieldDiff:
    fallback = f"the inherited value {show(key, inherited)}" if inherited else "the broker value"
    return FieldDiff(
        CONFIG + key,
        before,
        None,
        Risk.DESTRUCTIVE,
        f"{key} is overridden on the topic ({show(key, before)}) but not in the spec: the "
        f"override is removed and the topic falls back to {fallback}. Declare it in the spec "
        "to keep it",
        sensitive=is_secret(key),
    )


def unknown_to_broker(key: str, after: str) -> FieldDiff:
    definition = TOPIC_CONFIGS.get(key)
    since = f" (added in Kafka {definition.since})" if definition else ""
    return FieldDiff(
        CONFIG + key,
        None,
        after,
        Risk.IMPOSSIBLE,
        f"the cluster's brokers do not know {key}{since}. Way out: remove it from the spec "
        "or upgrade the cluster first",
        sensitive=is_secret(key),
    )
