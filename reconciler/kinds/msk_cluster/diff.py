"""Desired MskCluster vs the live cluster -> MSK operations, in the order they must run. Pure.

MSK changes a cluster one field group per API call, so the plan is one Change per call
(`Change.operation` names it), each with field-level diffs, a risk and the reasons. MSK's rules
are checked here, before anything is written: a change MSK would refuse is IMPOSSIBLE with the
reason and the way out. Deleting a cluster is never planned.

Field names in diffs follow the spec's paths (`brokers.count`, `serverProperties.num.partitions`)
plus two names for resources beside the cluster: `configuration` (an MSK configuration
revision, written "name:revision") and `logGroup` / `logGroup[<name>].retentionDays`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from reconciler.core.changes import blocked
from reconciler.core.configs.risk import Scope, config_risk
from reconciler.core.model import Action, Change, FieldDiff, Risk
from reconciler.kinds.base import Context, KindPlan
from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.broker_changes import (
    count_change,
    storage_change,
    type_change,
    version_change,
)
from reconciler.kinds.msk_cluster.changes import cluster_change, field_diffs
from reconciler.kinds.msk_cluster.cost import cluster_cost
from reconciler.kinds.msk_cluster.fields import flatten
from reconciler.kinds.msk_cluster.lifecycle import refuse_unsupported, version_warnings
from reconciler.kinds.msk_cluster.model import (
    MskDesired,
    MskObserved,
    ObservedCluster,
    ObservedConfiguration,
    configuration_label,
)
from reconciler.kinds.msk_cluster.spec import MskClusterSpec

CREATE_FIELDS_SKIPPED = ("brokers.publicAccess", "logging.cloudWatch.retentionDays")
#: States in which MSK accepts no update at all (msk-cluster-states.html).
DEAD_STATES = frozenset({"FAILED", "DELETING"})


def retention_field(log_group: str) -> str:
    return f"logGroup[{log_group}].retentionDays"


# --- server properties ----------------------------------------------------------------------


def property_diff(key: str, before: str | None, after: str | None) -> FieldDiff:
    """One broker property change with its risk: these are the defaults of every topic."""
    field = f"serverProperties.{key}"
    if after is None:
        return FieldDiff(
            field,
            before,
            None,
            Risk.DISRUPTIVE,
            f"{key} is dropped from the configuration: brokers fall back to MSK's default",
        )
    what = f"{key} {before if before is not None else '(MSK default)'} -> {after}"
    risk, reason = config_risk(key, before, after, Scope.BROKER, what)
    return FieldDiff(field, before, after, risk, reason)


def _configuration_changes(
    spec: MskClusterSpec,
    current: ObservedConfiguration | None,
    named: ObservedConfiguration | None,
    partitions_problem: str | None,
) -> list[Change]:
    """A new configuration revision (or configuration) and the update that applies it."""
    desired = dict(spec.server_properties or {})
    running = dict(current.server_properties) if current else {}
    if spec.server_properties is None or desired == running:
        return []
    keys = sorted(set(desired) | set(running))
    prop_diffs = [
        property_diff(k, running.get(k), desired.get(k))
        for k in keys
        if running.get(k) != desired.get(k)
    ]
    before_label = current.label if current else None
    target = current or named
    changes: list[Change] = []
    if target is not None and target is named and dict(named.server_properties) == desired:
        after_label = named.label  # the named configuration already holds these properties
    elif target is not None:
        after_label = configuration_label(target.name, target.latest_revision + 1)
        changes.append(
            cluster_change(
                spec,
                "UpdateConfiguration",
                [FieldDiff("configuration", before_label, after_label), *prop_diffs],
                reasons=[f"new revision {after_label} of MSK configuration {target.name!r}"],
            )
        )
    else:
        after_label = configuration_label(spec.effective_configuration_name, 1)
        changes.append(
            cluster_change(
                spec,
                "CreateConfiguration",
                [FieldDiff("configuration", before_label, after_label), *prop_diffs],
                action=Action.CREATE,
                reasons=[f"creates MSK configuration {spec.effective_configuration_name!r}"],
            )
        )
    changes.append(
        cluster_change(
            spec,
            "UpdateClusterConfiguration",
            [
                FieldDiff(
                    "configuration",
                    before_label,
                    after_label,
                    Risk.DISRUPTIVE,
                    f"MSK applies {after_label} with a rolling restart, one broker at a time",
                )
            ],
            blockers=[f"{partitions_problem}. Way out: add brokers or move partitions first"]
            if partitions_problem
            else [],
        )
    )
    return changes


# --- cluster fields ---------------------------------------------------------------------------


def _fixed_at_creation(spec: MskClusterSpec, actual: MskClusterSpec) -> list[FieldDiff]:
    """Fields MSK offers no update operation for (issue 3: subnets, groups, in-cluster, KMS)."""
    found = []
    way_out = (
        "Way out: keep the live value in the spec, or create a new cluster with the new "
        "value and migrate to it (MSK Replicator or MirrorMaker 2)"
    )
    if set(spec.client_subnets) != set(actual.client_subnets):
        found.append(
            FieldDiff(
                "brokers.clientSubnets",
                list(actual.client_subnets),
                list(spec.client_subnets),
                Risk.IMPOSSIBLE,
                "client subnets (and with them the Availability Zones) are fixed when MSK "
                f"creates the cluster. {way_out}",
            )
        )
    if spec.security_groups is not None and set(spec.security_groups) != set(
        actual.security_groups or ()
    ):
        found.append(
            FieldDiff(
                "brokers.securityGroups",
                list(actual.security_groups or ()),
                list(spec.security_groups),
                Risk.IMPOSSIBLE,
                "MSK has no API to change a cluster's security groups. Way out: change the "
                "rules of the existing groups instead, or keep the live groups in the spec",
            )
        )
    if spec.encryption.in_cluster != actual.encryption.in_cluster:
        found.append(
            FieldDiff(
                "encryption.inTransit.inCluster",
                actual.encryption.in_cluster,
                spec.encryption.in_cluster,
                Risk.IMPOSSIBLE,
                f"in-cluster (broker-to-broker) encryption is fixed at creation. {way_out}",
            )
        )
    wanted_key = spec.encryption.kms_key_id
    if wanted_key is not None and wanted_key != actual.encryption.kms_key_id:
        found.append(
            FieldDiff(
                "encryption.atRest.kmsKeyId",
                actual.encryption.kms_key_id,
                wanted_key,
                Risk.IMPOSSIBLE,
                f"the KMS key that encrypts data at rest is fixed at creation. {way_out}",
            )
        )
    return found


def _security_change(
    spec: MskClusterSpec,
    desired: Mapping[str, Any],
    actual: Mapping[str, Any],
    partitions: str | None,
) -> Change | None:
    diffs = field_diffs(desired, actual, "UpdateSecurity")
    if not diffs:
        return None
    risky = [
        FieldDiff(
            d.field,
            d.before,
            d.after,
            Risk.DISRUPTIVE,
            "MSK restarts brokers one at a time; clients using a method or listener that is "
            "turned off lose access",
        )
        for d in diffs
    ]
    blockers = (
        [f"{partitions}. Way out: add brokers or move partitions first"] if partitions else []
    )
    return cluster_change(spec, "UpdateSecurity", risky, blockers=blockers)


def _connectivity_change(spec: MskClusterSpec, actual: MskClusterSpec) -> Change | None:
    if spec.public_access == actual.public_access:
        return None
    reason = (
        "brokers get public IP addresses: make the security groups allow only the addresses "
        "that need them"
        if spec.public_access
        else "clients connecting over the internet lose access"
    )
    diff = FieldDiff(
        "brokers.publicAccess", actual.public_access, spec.public_access, Risk.DISRUPTIVE, reason
    )
    return cluster_change(spec, "UpdateConnectivity", [diff])


def _log_group_changes(spec: MskClusterSpec, observed: MskObserved) -> list[Change]:
    group = spec.logging.cloudwatch_log_group
    if not group:
        return []
    state = observed.log_group
    if state is not None and state.name != group:  # a snapshot of the group the specs had then
        return [
            cluster_change(
                spec,
                "CreateLogGroup",
                [FieldDiff("logGroup", state.name, group)],
                blockers=[
                    f"the observed state records log group {state.name!r}, not {group!r}, so "
                    "whether it exists and its retention are unknown. Way out: plan against "
                    "the live cluster, or take a new snapshot with these specs"
                ],
            )
        ]
    changes = []
    if state is None or not state.exists:
        changes.append(
            cluster_change(
                spec,
                "CreateLogGroup",
                [FieldDiff("logGroup", None, group)],
                action=Action.CREATE,
                reasons=["MSK delivers broker logs only to an existing log group"],
            )
        )
    wanted = spec.logging.cloudwatch_retention_days
    existing = state is not None and state.exists
    current = state.retention_days if state is not None and existing else None
    if wanted is not None and wanted != current:
        # A new group has no events yet; an existing one without retention keeps them forever.
        shrinks = existing and (current is None or wanted < current)
        diff = FieldDiff(
            retention_field(group),
            current,
            wanted,
            Risk.DESTRUCTIVE if shrinks else Risk.SAFE,
            f"log events older than {wanted} days are deleted" if shrinks else None,
        )
        changes.append(cluster_change(spec, "PutRetentionPolicy", [diff]))
    return changes


def _tag_changes(spec: MskClusterSpec, actual: MskClusterSpec) -> list[Change]:
    if spec.tags is None:
        return []
    live = dict(actual.tags or {})
    added = [
        FieldDiff(f"tags.{k}", live.get(k), v)
        for k, v in sorted(spec.tags.items())
        if live.get(k) != v
    ]
    removed = [
        FieldDiff(f"tags.{k}", v, None) for k, v in sorted(live.items()) if k not in spec.tags
    ]
    changes = []
    if added:
        changes.append(cluster_change(spec, "TagResource", added))
    if removed:
        changes.append(cluster_change(spec, "UntagResource", removed))
    return changes


# --- plans ------------------------------------------------------------------------------------


def _create(spec: MskClusterSpec, observed: MskObserved) -> list[Change]:
    changes = _log_group_changes(spec, observed)
    configuration_changes = _configuration_changes(spec, None, observed.configuration, None)
    label = None
    for change in configuration_changes:
        if change.operation in {"CreateConfiguration", "UpdateConfiguration"}:
            changes.append(change)
        label = change.diff[0].after
    fields = {
        k: v
        for k, v in flatten(spec).items()
        if v is not None
        and k not in CREATE_FIELDS_SKIPPED
        and not k.startswith("serverProperties.")
    }
    diffs = [FieldDiff(k, None, v) for k, v in fields.items()]
    if label:
        diffs.append(FieldDiff("configuration", None, label))
    blockers = []
    if observed.kafka_versions and spec.kafka_version not in observed.kafka_versions:
        blockers.append(
            f"MSK does not create clusters with Kafka {spec.kafka_version}; ListKafkaVersions "
            f"offers {', '.join(observed.kafka_versions)}. Way out: choose one of those"
        )
    changes.append(
        cluster_change(
            spec,
            "CreateClusterV2",
            diffs,
            action=Action.CREATE,
            reasons=["MSK creates the cluster (this takes 15-45 minutes on AWS)"],
            blockers=blockers,
        )
    )
    if spec.public_access:
        changes.append(
            cluster_change(
                spec,
                "UpdateConnectivity",
                [
                    FieldDiff(
                        "brokers.publicAccess",
                        False,
                        True,
                        Risk.DISRUPTIVE,
                        "MSK never turns public access on at creation, so it follows once the "
                        "cluster is ACTIVE; brokers get public IP addresses",
                    )
                ],
            )
        )
    return changes


def plan_cluster(
    spec: MskClusterSpec,
    observed: MskObserved,
    *,
    now: datetime,
    storage_cooldown: timedelta = rules.STORAGE_COOLDOWN,
    partitions_per_broker: int | None = None,
    end_of_support: str = "warn",
) -> list[Change]:
    """The MSK operations that make the cluster match `spec`, ordered as they must run.

    `partitions_per_broker` (the most partition replicas on any broker, from the Kafka side)
    lets the plan refuse updates MSK refuses on overloaded brokers; None skips that check.
    `end_of_support` "error" (the Environment's policy) refuses a plan whose Kafka version is
    past MSK's end of support.
    """
    changes = _plan_cluster(spec, observed, now, storage_cooldown, partitions_per_broker)
    if end_of_support == "error":
        return refuse_unsupported(spec, observed.cluster, changes, now.date())
    return changes


def _plan_cluster(
    spec: MskClusterSpec,
    observed: MskObserved,
    now: datetime,
    storage_cooldown: timedelta,
    partitions_per_broker: int | None,
) -> list[Change]:
    cluster = observed.cluster
    if cluster is None:
        return _create(spec, observed)
    actual = cluster.actual
    desired_fields, actual_fields = flatten(spec), flatten(actual)
    changes: list[Change] = []
    fixed = _fixed_at_creation(spec, actual)
    if fixed:
        changes.append(
            cluster_change(spec, None, fixed, reasons=["no MSK operation can change this"])
        )
    overloaded = rules.partitions_problem(actual.instance_type, partitions_per_broker)
    connectivity = _connectivity_change(spec, actual)
    if connectivity and not spec.public_access:
        changes.append(connectivity)  # off first: the rest may re-open what public access forbids
    for change in (
        _security_change(spec, desired_fields, actual_fields, overloaded),
        *_log_group_changes(spec, observed),
        _monitoring_change(spec, desired_fields, actual_fields),
        type_change(spec, actual, partitions_per_broker),
        count_change(spec, actual) if spec.broker_count > actual.broker_count else None,
        storage_change(spec, cluster, now, storage_cooldown),
        version_change(spec, cluster),
        *_configuration_changes(spec, cluster.configuration, observed.configuration, overloaded),
        connectivity if connectivity and spec.public_access else None,
        count_change(spec, actual) if spec.broker_count < actual.broker_count else None,
        *_tag_changes(spec, actual),
    ):
        if change is not None:
            changes.append(change)
    if cluster.state in DEAD_STATES:
        reason = (
            f"the cluster is {cluster.state}: MSK accepts no update in this state. Way out: "
            "fix or replace the cluster in the AWS console, then plan again"
        )
        changes = [blocked(c, reason) for c in changes]
    return changes


def _monitoring_change(
    spec: MskClusterSpec, desired: Mapping[str, Any], actual: Mapping[str, Any]
) -> Change | None:
    diffs = field_diffs(desired, actual, "UpdateMonitoring")
    # A destination turned off is None in the spec but must still be diffed.
    for key in (
        "logging.s3.bucket",
        "logging.firehose.deliveryStream",
        "logging.cloudWatch.logGroup",
    ):
        if desired.get(key) is None and actual.get(key) is not None:
            diffs.append(FieldDiff(key, actual.get(key), None))
    if not diffs:
        return None
    return cluster_change(spec, "UpdateMonitoring", diffs)


def cluster_warnings(spec: MskClusterSpec, observed: MskObserved, *, today: date) -> list[str]:
    """What a reviewer must know that is not a change: a busy cluster, an ageing version."""
    warnings = []
    cluster = observed.cluster
    if cluster is not None and cluster.busy and cluster.state not in DEAD_STATES:
        running = cluster.active_operation
        what = (
            f"operation {running.type} ({running.state}) started "
            f"{running.start:%Y-%m-%d %H:%M} UTC is in flight"
            if running and running.start
            else "an operation is in flight"
            if running
            else f"it is {cluster.state}"
        )
        warnings.append(
            f"MSK cluster {cluster.name} is {cluster.state}: {what}. Apply waits for it to "
            "finish before the first MSK change (bounded by the apply timeout) and skips "
            "changes it already made"
        )
    warnings.extend(version_warnings(spec, cluster, today))
    return warnings


def region_of(desired: MskDesired, cluster: ObservedCluster | None) -> str | None:
    """The Environment's msk.region, else the live cluster's (its ARN names it)."""
    if desired.region:
        return desired.region
    parts = cluster.arn.split(":") if cluster else []
    return parts[3] if len(parts) > 3 and parts[3] else None


def diff(desired: MskDesired | None, observed: MskObserved | None, context: Context) -> KindPlan:
    """The cluster's changes, warnings and monthly cost (none when the specs declare no
    MskCluster).

    The Kafka side's busiest broker (the most partition replicas) lets the plan refuse
    updates MSK refuses on overloaded brokers; without Kafka to read, that check is skipped.
    """
    if desired is None or observed is None:
        return KindPlan()
    spec, cluster = desired.spec, observed.cluster
    load = context.cluster.most_replicas_on_a_broker if context.cluster else None
    changes = plan_cluster(
        spec,
        observed,
        now=context.now,
        partitions_per_broker=load,
        end_of_support=desired.end_of_support,
    )
    warnings = cluster_warnings(spec, observed, today=context.now.date())
    actual = cluster.actual if cluster else None
    cost = cluster_cost(spec, actual, region_of(desired, cluster), desired.prices)
    return KindPlan(tuple(changes), (), tuple(warnings), (cost,))
