"""Desired vs observed topics -> changes, each with its risk and reasons. Pure.

Only what the specs declare, plus topic-level overrides (DYNAMIC_TOPIC_CONFIG) they do not
declare, can differ. Values inherited from broker defaults, static or dynamic broker configs
are never drift: that is the phantom-diff bug of other tools, avoided by construction.
"""

from __future__ import annotations

from reconciler.clients.topics import Abilities
from reconciler.core.changes import make_change
from reconciler.core.cluster import ClusterView
from reconciler.core.model import Action, Change, FieldDiff, Orphan, Risk
from reconciler.kinds.base import Context, KindPlan
from reconciler.kinds.topic.model import (
    KIND,
    THROTTLED_REPLICAS,
    ObservedTopic,
    ObservedTopics,
    TopicNames,
    Topics,
    TopicSpec,
)
from reconciler.kinds.topic.placement import (
    TopicMoves,
    broker_throttle_change,
    estimate,
    leftover_topic_throttles,
    move_diffs,
    plan_moves,
    replication_diff,
    too_few_brokers,
)
from reconciler.kinds.topic.risk import (
    CONFIG,
    config_change,
    is_secret,
    override_removal,
    partition_change,
    unknown_to_broker,
)

#: Creates first, deletes last: a partial failure never leaves data removed before additions.
_ACTION_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.REPLACE: 2, Action.DELETE: 3}


def _create(spec: TopicSpec, brokers: int, listed: TopicNames) -> Change:
    diffs = [
        FieldDiff("partitions", None, spec.partitions),
        FieldDiff("replicationFactor", None, spec.replication_factor),
        *(FieldDiff(CONFIG + k, None, v, sensitive=is_secret(k)) for k, v in spec.config.items()),
    ]
    blockers = []
    if spec.replication_factor > brokers:
        blockers.append(too_few_brokers(spec.replication_factor, brokers))
    other = listed.colliding(spec.name)
    if other is not None:
        blockers.append(
            f"collides with existing topic {other!r}: Kafka treats '.' and '_' alike in "
            "topic names. Way out: choose another name"
        )
    return make_change(KIND, spec.name, Action.CREATE, diffs, blockers=blockers)


def _update(
    spec: TopicSpec,
    live: ObservedTopic,
    placement: TopicMoves | None,
    throttle: int | None,
    note: str | None,
    *,
    api: Abilities,
) -> Change | None:
    """Partitions, replicas and configs; replica moves come planned (`placement.plan_moves`),
    and the throttles a move manages are left to it."""
    diffs: list[FieldDiff] = []
    blockers = list(placement.blockers) if placement else []
    if spec.partitions != live.partitions:
        diffs.append(partition_change(live.partitions, spec.partitions))
    before_rf = placement.replication_factor if placement else live.replication_factor
    if spec.replication_factor != before_rf:
        diffs.append(replication_diff(before_rf, spec.replication_factor, throttle))
        if not api.moves_replicas:
            blockers.append(
                f"{api.name} cannot change a replication factor (UpdateTopic takes configs "
                "and a partition count only). Way out: keep replicationFactor: "
                f"{before_rf}, or apply this change with kafka.api: kafka from a runner that "
                "reaches the brokers"
            )
    if placement is not None:
        diffs.extend(move_diffs(placement, throttle))
    else:
        diffs.extend(leftover_topic_throttles(spec.config, live))
    for key, wanted in spec.config.items():
        current = live.configs.get(key)
        if current is None and api.config_sources:
            diffs.append(unknown_to_broker(key, wanted))
        elif current is None:  # not reported: its value is unknown, so it is set
            diffs.append(config_change(key, None, wanted))
        elif current.sensitive:
            continue  # the broker never reveals it, so it can be neither compared nor shown
        elif current.value != wanted:
            diffs.append(config_change(key, current.value, wanted))
    for key, current in live.configs.items():
        if current.is_override and key not in spec.config and key not in THROTTLED_REPLICAS:
            diffs.append(override_removal(key, current.value, current.inherited))
    if not diffs:
        return None
    return make_change(
        KIND,
        spec.name,
        Action.UPDATE,
        diffs,
        reasons=placement.reasons if placement else (),
        blockers=blockers,
        notes=(note,) if note else (),
    )


def _orphans(
    desired: Topics, observed: ObservedTopics, guard_wipe: bool
) -> tuple[list[Change], list[Orphan]]:
    names = sorted(name for name in desired.owned(observed.topics) if name not in desired.topics)
    if not desired.policy.allow_delete:
        reason = (
            "matches topics.manage but is in no spec; kept because policy.allowDelete is off. "
            "Declare it, add it to topics.ignore, or allow deletion to remove it"
        )
        return [], [Orphan(KIND, name, reason) for name in names]
    wipe = guard_wipe and bool(names) and not desired.topics
    changes = []
    for name in names:
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
        changes.append(Change(KIND, name, Action.DELETE, risk, diffs, (reason,)))
    return changes, []


def _isr_warnings(desired: Topics, observed: ObservedTopics, changes: list[Change]) -> list[str]:
    """New topics whose RF is below the brokers' min.insync.replicas they would inherit."""
    inherited = observed.defaults.get("min.insync.replicas")
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


def diff_topics(
    desired: Topics,
    observed: ObservedTopics,
    cluster: ClusterView | None,
    guard_wipe: bool = True,
) -> KindPlan:
    """Every topic change the specs ask for, and the managed topics they forgot.

    `guard_wipe` refuses deleting every managed topic when the specs declare none; apply's
    verification turns it off, as it looks at a slice of the specs on purpose.
    """
    changes: list[Change] = []
    listed = observed.listed
    brokers = len(cluster.brokers) if cluster else 0
    api = observed.abilities
    placed = cluster is not None and api.moves_replicas
    moves = plan_moves(desired, observed, cluster) if placed and cluster else {}
    throttle = desired.placement.throttle
    notes = estimate(moves, observed, throttle)
    for name, spec in desired.topics.items():
        live = observed.topics.get(name)
        if live is None:
            changes.append(_create(spec, brokers, listed))
        else:
            change = _update(spec, live, moves.get(name), throttle, notes.get(name), api=api)
            if change is not None:
                changes.append(change)
    leftover = broker_throttle_change(observed)
    if leftover is not None:
        changes.append(leftover)
    deletions, orphans = _orphans(desired, observed, guard_wipe)
    ordered = sorted(changes + deletions, key=lambda c: (_ACTION_ORDER[c.action], c.kind, c.name))
    warnings = [*_isr_warnings(desired, observed, changes), *_api_warnings(desired, api, ordered)]
    return KindPlan(tuple(ordered), tuple(orphans), tuple(warnings))


def _api_warnings(desired: Topics, api: Abilities, changes: list[Change]) -> list[str]:
    """What the plan could not check or do through a topic API with fewer abilities."""
    warnings = []
    if not api.validates and changes:
        warnings.append(
            f"topics: {api.name} has no validate-only mode, so the brokers check these writes "
            "only when apply makes them (a refused one fails there and the rest still apply)"
        )
    if not api.config_sources:
        warnings.append(
            f"topics: {api.name} does not say which values are a topic's own, so configs the "
            "specs do not declare are neither compared nor reset; declare every config a "
            "topic relies on"
        )
    if not api.moves_replicas and (desired.placement.balance or desired.placement.rack_aware):
        warnings.append(
            f"topics: {api.name} cannot read racks or move replicas, so spec.placement is not "
            "applied; use kafka.api: kafka for placement"
        )
    return warnings


def diff(desired: Topics, observed: ObservedTopics, context: Context) -> KindPlan:
    return diff_topics(desired, observed, context.cluster)
