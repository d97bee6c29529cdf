"""Desired vs observed topics -> changes, each with its risk and reasons. Pure.

Only what the specs declare, plus topic-level overrides (DYNAMIC_TOPIC_CONFIG) they do not
declare, can differ. Values inherited from broker defaults, static or dynamic broker configs
are never drift: that is the phantom-diff bug of other tools, avoided by construction.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.model import (
    Action,
    Change,
    Desired,
    FieldDiff,
    Observed,
    ObservedTopic,
    Orphan,
    Risk,
    TopicSpec,
)
from reconciler.ownership import is_managed
from reconciler.risk import (
    config_change,
    override_removal,
    partition_change,
    replication_change,
    unknown_to_broker,
)
from reconciler.specs.checks import collision_key

TOPIC = "Topic"


def _worst(diffs: tuple[FieldDiff, ...]) -> Risk:
    return max((d.risk for d in diffs), key=lambda r: r.rank, default=Risk.SAFE)


def _reasons(diffs: tuple[FieldDiff, ...]) -> tuple[str, ...]:
    return tuple(d.reason for d in diffs if d.reason)


def _create(spec: TopicSpec, observed: Observed, by_key: Mapping[str, str]) -> Change:
    diffs = [
        FieldDiff("partitions", None, spec.partitions),
        FieldDiff("replicationFactor", None, spec.replication_factor),
        *(FieldDiff(f"config.{k}", None, v) for k, v in spec.config.items()),
    ]
    blockers = []
    live_brokers = len(observed.brokers)
    if spec.replication_factor > live_brokers:
        blockers.append(
            f"replicationFactor {spec.replication_factor} needs at least "
            f"{spec.replication_factor} brokers; the cluster has {live_brokers}. Way out: "
            f"lower replicationFactor to at most {live_brokers} or add brokers first"
        )
    other = by_key.get(collision_key(spec.name))
    if other is not None:
        blockers.append(
            f"collides with existing topic {other!r}: Kafka treats '.' and '_' alike in "
            "topic names. Way out: choose another name"
        )
    risk = Risk.IMPOSSIBLE if blockers else Risk.SAFE
    return Change(TOPIC, spec.name, Action.CREATE, risk, tuple(diffs), tuple(blockers))


def _update(spec: TopicSpec, live: ObservedTopic) -> Change | None:
    diffs: list[FieldDiff] = []
    if spec.partitions != live.partitions:
        diffs.append(partition_change(live.partitions, spec.partitions))
    if spec.replication_factor != live.replication_factor:
        diffs.append(replication_change(live.replication_factor, spec.replication_factor))
    for key, wanted in spec.config.items():
        current = live.configs.get(key)
        if current is None:
            diffs.append(unknown_to_broker(key, wanted))
        elif current.sensitive:
            continue  # the broker never reveals it, so it can be neither compared nor shown
        elif current.value != wanted:
            diffs.append(config_change(key, current.value, wanted))
    for key, current in live.configs.items():
        if current.is_override and key not in spec.config:
            diffs.append(override_removal(key, current.value, current.inherited))
    if not diffs:
        return None
    result = tuple(diffs)
    return Change(TOPIC, spec.name, Action.UPDATE, _worst(result), result, _reasons(result))


def _orphans(
    desired: Desired, observed: Observed, guard_wipe: bool
) -> tuple[list[Change], list[Orphan]]:
    environment = desired.environment
    names = [
        name
        for name in observed.topics
        if name not in desired.topics and is_managed(environment, name, declared=False)
    ]
    if not environment.policy.allow_delete:
        reason = (
            "matches topics.manage but is in no spec; kept because policy.allowDelete is off. "
            "Declare it, add it to topics.ignore, or allow deletion to remove it"
        )
        return [], [Orphan(TOPIC, name, reason) for name in sorted(names)]
    wipe = guard_wipe and bool(names) and not desired.topics
    changes = []
    for name in sorted(names):
        live = observed.topics[name]
        diffs = (
            FieldDiff("partitions", live.partitions, None),
            FieldDiff("replicationFactor", live.replication_factor, None),
        )
        if wipe:
            reason = (
                "refusing to delete every managed topic: the specs declare no topics at all "
                "(an include path that moved?). Way out: declare the topics to keep, or delete "
                "them one review at a time with a narrower topics.manage"
            )
            risk = Risk.IMPOSSIBLE
        else:
            reason = (
                "in no spec and policy.allowDelete is on: the topic and all of its data are deleted"
            )
            risk = Risk.DESTRUCTIVE
        changes.append(Change(TOPIC, name, Action.DELETE, risk, diffs, (reason,)))
    return changes, []


def diff_topics(
    desired: Desired, observed: Observed, guard_wipe: bool = True
) -> tuple[list[Change], list[Orphan]]:
    """Every topic change the specs ask for, and the managed topics they forgot.

    `guard_wipe` refuses deleting every managed topic when the specs declare none; apply's
    verification turns it off, as it looks at a slice of the specs on purpose.
    """
    changes: list[Change] = []
    by_key = {collision_key(name): name for name in observed.topics}
    for name, spec in desired.topics.items():
        live = observed.topics.get(name)
        if live is None:
            changes.append(_create(spec, observed, by_key))
        else:
            change = _update(spec, live)
            if change is not None:
                changes.append(change)
    deletions, orphans = _orphans(desired, observed, guard_wipe)
    return changes + deletions, orphans
