"""The Topic kind, as the engine sees it."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import Kind, deferred
from reconciler.kinds.topic import documents, fingerprint, record, spec
from reconciler.kinds.topic.model import KIND as NAME
from reconciler.kinds.topic.model import ObservedTopics, Topics


def _environment_section(desired: Topics) -> dict[str, Any]:
    return {
        "topics": {"manage": list(desired.manage), "ignore": list(desired.ignore)},
        "policy": {
            "allowDelete": desired.policy.allow_delete,
            "minReplicationFactor": desired.policy.min_replication_factor,
        },
        "placement": _placement_section(desired),
    }


def _placement_section(desired: Topics) -> dict[str, Any]:
    """`spec.placement` as written: rackAware only when set, the throttle as a rate."""
    placement = desired.placement
    section: dict[str, Any] = {"balance": placement.balance}
    if placement.rack_aware is not None:
        section["rackAware"] = placement.rack_aware
    section["throttle"] = placement.throttle if placement.throttle else "none"
    return section


KIND: Kind[Topics, ObservedTopics] = Kind(
    name=NAME,
    schema="topic.schema.json",
    label=("topic", "topics"),
    load=spec.load_topics,
    count=lambda desired: len(desired.topics),
    spec_fingerprint=fingerprint.spec_fingerprint,
    observe=deferred("reconciler.kinds.topic.observe", "observe"),
    prepare=deferred("reconciler.kinds.topic.observe", "prepare"),
    diff=deferred("reconciler.kinds.topic.diff", "diff"),
    fingerprint=fingerprint.fingerprint,
    apply=deferred("reconciler.kinds.topic.apply", "apply"),
    dump_observed=record.dump_observed,
    load_observed=record.load_observed,
    preflight=deferred("reconciler.kinds.topic.apply", "preflight"),
    verify=deferred("reconciler.kinds.topic.verify", "verify"),
    to_documents=documents.to_documents,
    environment_section=_environment_section,
    discover=deferred("reconciler.kinds.topic.discover", "discover"),
    file="topics",
)
