"""Checks that need more than one document: names Kafka refuses, collisions, policy, ISR."""

from __future__ import annotations

import re

from reconciler.core.errors import SpecProblem
from reconciler.core.ownership import is_internal
from reconciler.kinds.topic.model import TopicPolicy, Topics, TopicSpec, collision_key

#: Kafka's own rule (org.apache.kafka.common.internals.Topic): at most 249 legal characters.
MAX_TOPIC_NAME = 249
LEGAL_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")


def topic_name_problem(name: str) -> str | None:
    """Why Kafka would refuse this topic name, or None."""
    if name in {".", ".."}:
        return "Kafka refuses the names '.' and '..'"
    if len(name) > MAX_TOPIC_NAME:
        return f"is {len(name)} characters; Kafka allows at most {MAX_TOPIC_NAME}"
    if not LEGAL_TOPIC_NAME.match(name):
        return "may only contain ASCII letters, digits, '.', '_' and '-'"
    return None


def policy_problems(topic: TopicSpec, policy: TopicPolicy) -> list[tuple[str, str, str | None]]:
    """What the environment's policy refuses of one topic as loaded: (field, message, hint)."""
    found: list[tuple[str, str, str | None]] = []
    if topic.replication_factor < policy.min_replication_factor:
        found.append(
            (
                "spec.replicationFactor",
                f"{topic.replication_factor} is below the environment's "
                f"policy.minReplicationFactor {policy.min_replication_factor}",
                None,
            )
        )
    if policy.max_partitions is not None and topic.partitions > policy.max_partitions:
        found.append(
            (
                "spec.partitions",
                f"{topic.partitions} exceeds the environment's policy.maxPartitions "
                f"{policy.max_partitions}",
                None,
            )
        )
    min_isr = topic.config.get("min.insync.replicas")
    if min_isr is not None and int(min_isr) > topic.replication_factor:
        found.append(
            (
                "spec.config.min.insync.replicas",
                f"{min_isr} is greater than replicationFactor {topic.replication_factor}: "
                "producers with acks=all could never write",
                f"use at most {topic.replication_factor}",
            )
        )
    return found


def check_topics(desired: Topics) -> list[SpecProblem]:
    """Every cross-document problem, each located at the topic's metadata.name."""
    problems: list[SpecProblem] = []
    by_key: dict[str, TopicSpec] = {}
    policy = desired.policy
    for name, topic in desired.topics.items():

        def add(
            field: str, message: str, hint: str | None = None, *, _topic: TopicSpec = topic
        ) -> None:
            problems.append(SpecProblem(_topic.location, f"{_topic.name}: {field}", message, hint))

        refused = topic_name_problem(name)
        if refused:
            add("metadata.name", refused)
        if is_internal(name):
            add(
                "metadata.name",
                "names starting with '_' belong to Kafka and MSK internals",
                "internal topics such as __consumer_offsets are never managed; rename the topic",
            )
        elif not desired.allows(name):
            add(
                "metadata.name",
                "is not owned by this environment (topics.manage / topics.ignore)",
                "add a matching pattern to topics.manage, or remove the topic from the specs",
            )
        other = by_key.setdefault(collision_key(name), topic)
        if other is not topic:
            add(
                "metadata.name",
                f"collides with {other.name!r} (declared at {other.location}): "
                "Kafka treats '.' and '_' alike in topic names",
                "rename one of them",
            )
        for field, message, hint in policy_problems(topic, policy):
            add(field, message, hint)
    return problems
