"""The Topic kind, as the engine sees it."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import Kind
from reconciler.kinds.topic import (
    apply,
    diff,
    discover,
    documents,
    fingerprint,
    observe,
    record,
    spec,
    verify,
)
from reconciler.kinds.topic.model import KIND as NAME
from reconciler.kinds.topic.model import ObservedTopics, Topics


def _environment_section(desired: Topics) -> dict[str, Any]:
    return {
        "topics": {"manage": list(desired.manage), "ignore": list(desired.ignore)},
        "policy": {
            "allowDelete": desired.policy.allow_delete,
            "minReplicationFactor": desired.policy.min_replication_factor,
        },
    }


KIND: Kind[Topics, ObservedTopics] = Kind(
    name=NAME,
    schema="topic.schema.json",
    label=("topic", "topics"),
    load=spec.load_topics,
    count=lambda desired: len(desired.topics),
    spec_fingerprint=fingerprint.spec_fingerprint,
    observe=observe.observe,
    diff=diff.diff,
    fingerprint=fingerprint.fingerprint,
    apply=apply.apply,
    dump_observed=record.dump_observed,
    load_observed=record.load_observed,
    preflight=apply.preflight,
    verify=verify.verify,
    to_documents=documents.to_documents,
    environment_section=_environment_section,
    discover=discover.discover,
    file="topics",
)
