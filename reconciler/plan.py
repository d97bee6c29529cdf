"""Desired + observed -> Plan: the reviewed unit of work. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.diff import diff_topics
from reconciler.digests import digest, observed_digest
from reconciler.model import Action, Change, Desired, Observed, Orphan, Plan

#: Creates first, deletes last: a partial failure never leaves data removed before additions.
_ACTION_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.REPLACE: 2, Action.DELETE: 3}
KAFKA_UNREACHABLE = (
    "the MSK cluster does not exist yet, so its topics cannot be read: topic changes are "
    "planned once it is ACTIVE (run plan and apply again after this apply)"
)


def _order(change: Change) -> tuple[int, str, str]:
    return (_ACTION_ORDER[change.action], change.kind, change.name)


def _isr_warnings(
    desired: Desired, observed: Observed | None, changes: Sequence[Change]
) -> list[str]:
    """New topics whose RF is below the brokers' min.insync.replicas they would inherit."""
    inherited = observed.defaults.get("min.insync.replicas") if observed else None
    if inherited is None:
        return []
    warnings = []
    for change in changes:
        spec = desired.topics.get(change.name)
        if change.action is not Action.CREATE or spec is None:
            continue
        if "min.insync.replicas" not in spec.config and int(inherited) > spec.replication_factor:
            warnings.append(
                f"{spec.name}: replicationFactor {spec.replication_factor} is below the brokers' "
                f"min.insync.replicas {inherited}, so producers with acks=all will fail. "
                f"Declare min.insync.replicas: {spec.replication_factor} (or less) on the topic, "
                "or raise its replicationFactor"
            )
    return warnings


def build_plan(
    desired: Desired,
    observed: Observed | None,
    cluster_changes: Sequence[Change] = (),
    cluster_state: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
    *,
    guard_wipe: bool = True,
) -> Plan:
    """Cluster changes first, in the order MSK must run them; then topic changes.

    `observed` is None when there are no brokers to read yet (an MSK cluster to create).
    """
    topic_changes: list[Change] = []
    orphans: list[Orphan] = []
    if observed is None:
        state = digest({"topics": None, "msk": cluster_state})
        warnings = (*warnings, KAFKA_UNREACHABLE)
    else:
        topic_changes, orphans = diff_topics(desired, observed, guard_wipe)
        state = observed_digest(desired.environment, observed, desired.topics, cluster_state)
    warnings = (*warnings, *_isr_warnings(desired, observed, topic_changes))
    return Plan(
        environment=desired.environment.name,
        specs_digest=desired.digest,
        observed_digest=state,
        changes=(*cluster_changes, *sorted(topic_changes, key=_order)),
        orphans=tuple(orphans),
        warnings=tuple(warnings),
    )
