"""How risky each kind of field change is, and the sentence that tells a reviewer why.

safe: nothing is lost. disruptive: clients notice (keys move to new partitions, stricter
writes). destructive: data can be lost or kept differently. impossible: Kafka cannot do it
in place, so the plan says so and gives the way out instead of doing something else.
"""

from __future__ import annotations

from reconciler.model import FieldDiff, Risk
from reconciler.topic_configs import TOPIC_CONFIGS, humanize

#: Configs whose decrease deletes data sooner; -1 means unlimited (-2: "same as retention").
RETENTION = ("retention.ms", "retention.bytes", "local.retention.ms", "local.retention.bytes")


def show(key: str, value: str | None) -> str:
    """A config value as a reviewer reads it: 604800000 -> 7d, -1 -> -1 (unlimited)."""
    return humanize(key, value) or "(unset)"


def _limit(value: str | None) -> float:
    if value is None:
        return float("inf")
    number = int(value)
    return float("inf") if number < 0 else float(number)


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


def replication_change(before: int, after: int) -> FieldDiff:
    return FieldDiff(
        "replicationFactor",
        before,
        after,
        Risk.IMPOSSIBLE,
        f"changing the replication factor ({before} -> {after}) needs a partition "
        "reassignment, which this version does not perform (other tools silently do nothing). "
        f"Way out: keep replicationFactor: {before} in the spec, or reassign with "
        "kafka-reassign-partitions.sh and then update the spec",
    )


def config_change(key: str, before: str | None, after: str) -> FieldDiff:
    field = f"config.{key}"
    what = f"{key} {show(key, before)} -> {show(key, after)}"
    if key in RETENTION and before is not None and _limit(after) < _limit(before):
        return FieldDiff(
            field,
            before,
            after,
            Risk.DESTRUCTIVE,
            f"{what}: retention shrinks, so data beyond the new limit is deleted at the "
            "next log cleanup",
        )
    if key == "cleanup.policy":
        return FieldDiff(
            field,
            before,
            after,
            Risk.DESTRUCTIVE,
            f"{what}: compaction keeps only the latest value per key and deletion drops old "
            "segments; changing the policy changes which data survives",
        )
    if key == "min.insync.replicas" and before is not None and int(after) > int(before):
        return FieldDiff(
            field,
            before,
            after,
            Risk.DISRUPTIVE,
            f"{what}: producers with acks=all fail while fewer than {after} replicas are in sync",
        )
    if key == "max.message.bytes" and before is not None and int(after) < int(before):
        return FieldDiff(
            field,
            before,
            after,
            Risk.DISRUPTIVE,
            f"{what}: producers sending larger batches start getting errors",
        )
    return FieldDiff(field, before, after, Risk.SAFE)


def override_removal(key: str, before: str | None, inherited: str | None) -> FieldDiff:
    fallback = f"the inherited value {show(key, inherited)}" if inherited else "the broker value"
    return FieldDiff(
        f"config.{key}",
        before,
        None,
        Risk.DESTRUCTIVE,
        f"{key} is overridden on the topic ({show(key, before)}) but not in the spec: the "
        f"override is removed and the topic falls back to {fallback}. Declare it in the spec "
        "to keep it",
    )


def unknown_to_broker(key: str, after: str) -> FieldDiff:
    definition = TOPIC_CONFIGS.get(key)
    since = f" (added in Kafka {definition.since})" if definition else ""
    return FieldDiff(
        f"config.{key}",
        None,
        after,
        Risk.IMPOSSIBLE,
        f"the cluster's brokers do not know {key}{since}. Way out: remove it from the spec "
        "or upgrade the cluster first",
    )
