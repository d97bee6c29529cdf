"""Stable digests: a plan records what it was made from, so apply can refuse stale plans."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconciler.model import Environment, Observed, TopicSpec
from reconciler.msk.spec import MskClusterSpec, flatten
from reconciler.ownership import is_managed


def digest(value: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace): equal values, equal digests."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def specs_digest(
    environment: Environment, topics: Mapping[str, TopicSpec], cluster: MskClusterSpec | None = None
) -> str:
    """Everything in the specs that can change a plan, and nothing else (no secrets)."""
    return digest(
        {
            "cluster": None if cluster is None else flatten(cluster),
            "environment": environment.name,
            "manage": list(environment.managed_topics),
            "ignore": list(environment.ignored_topics),
            "allowDelete": environment.policy.allow_delete,
            "topics": {
                name: {
                    "partitions": t.partitions,
                    "replicationFactor": t.replication_factor,
                    "config": dict(t.config),
                }
                for name, t in sorted(topics.items())
            },
        }
    )


def observed_digest(
    environment: Environment,
    observed: Observed,
    declared: Mapping[str, TopicSpec],
    cluster: Mapping[str, Any] | None = None,
) -> str:
    """The part of the live state a plan depends on: managed topics and their relevant configs.

    Unmanaged topics and inherited values of undeclared configs are left out on purpose, so a
    consumer auto-creating an unrelated topic does not invalidate a reviewed plan.
    """
    state = {}
    for name, topic in sorted(observed.topics.items()):
        spec = declared.get(name)
        if not is_managed(environment, name, spec is not None):
            continue
        keys = set(spec.config) if spec else set()
        state[name] = {
            "partitions": topic.partitions,
            "replicationFactor": topic.replication_factor,
            "config": {
                key: [entry.value, entry.is_override]
                for key, entry in sorted(topic.configs.items())
                if entry.is_override or key in keys
            },
        }
    identity = {
        "clusterId": observed.cluster_id,
        "brokers": [b.node_id for b in observed.brokers],
    }
    topics = {"cluster": identity, "topics": state}
    return digest(topics if cluster is None else {**topics, "msk": cluster})
