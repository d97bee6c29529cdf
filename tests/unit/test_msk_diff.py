"""plan_cluster and cluster_warnings: MSK's rules at plan time, as pure functions of values."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from reconciler.core.model import Action, Change, Risk
from reconciler.kinds.msk_cluster.diff import cluster_warnings, plan_cluster
from reconciler.kinds.msk_cluster.model import (
    MskObserved,
    ObservedCluster,
    ObservedConfiguration,
    ObservedLogGroup,
    ObservedOperation,
)
from reconciler.kinds.msk_cluster.spec import (
    ClientAuth,
    Encryption,
    MskClusterSpec,
    Storage,
    parse_cluster,
)
from tests.unit.test_msk_spec import SEED_DOC

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CONFIG_ARN = "arn:aws:kafka:eu-central-1:123456789012:configuration/malawi/abc-1"
GROUP = "/aws/msk/malawi-pg-kafka-cluster"
SEED = parse_cluster(SEED_DOC)


def live(**changes: Any) -> MskClusterSpec:
    """The seed cluster as observe reports it: every field concrete."""
    base = dataclasses.replace(
        SEED,
        security_groups=("sg-kafka",),
        encryption=Encryption("arn:aws:kms:eu-central-1:123456789012:key/aws-managed"),
        configuration_name="malawi",
    )
    return dataclasses.replace(base, **changes)


def observed(
    actual: MskClusterSpec | None = None,
    *,
    state: str = "ACTIVE",
    operations: tuple[ObservedOperation, ...] = (),
    active: ObservedOperation | None = None,
    retention: int | None = 7,
    group_exists: bool = True,
) -> MskObserved:
    actual = actual or live()
    configuration = ObservedConfiguration(
        CONFIG_ARN, "malawi", 1, 1, dict(actual.server_properties or {})
    )
    group = ObservedLogGroup(GROUP, group_exists, retention if group_exists else None)
    cluster = ObservedCluster(
        arn="arn:aws:kafka:eu-central-1:123456789012:cluster/malawi-pg-kafka-cluster/x-1",
        name=actual.name,
        state=state,
        current_version="K3AEGXETSR30VB",
        actual=dataclasses.replace(
            actual, logging=dataclasses.replace(actual.logging, cloudwatch_retention_days=retention)
        ),
        configuration=configuration,
        operations=operations,
        active_operation=active,
        compatible_versions=("3.6.0", "3.7.x", "3.8.x", "3.9.x"),
        log_group=group,
    )
    return MskObserved(cluster, log_group=group)


def plan(spec: MskClusterSpec, seen: MskObserved, **options: Any) -> list[Change]:
    return plan_cluster(spec, seen, now=NOW, **options)


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, [c.operation for c in changes]
    return changes[0]


def test_a_cluster_that_matches_its_spec_plans_nothing() -> None:
    assert plan(SEED, observed()) == []


def test_one_change_per_msk_operation_in_the_order_they_must_run() -> None:
    spec = dataclasses.replace(
        SEED,
        kafka_version="3.6.0",
        instance_type="kafka.m5.large",
        broker_count=4,
        storage=Storage(200),
        enhanced_monitoring="PER_BROKER",
        server_properties={**(SEED.server_properties or {}), "num.partitions": "6"},
        tags={"Team": "payments"},
    )
    changes = plan(spec, observed())
    assert [c.operation for c in changes] == [
        "UpdateMonitoring",
        "UpdateBrokerType",
        "UpdateBrokerCount",
        "UpdateBrokerStorage",
        "UpdateClusterKafkaVersion",
        "UpdateConfiguration",
        "UpdateClusterConfiguration",
        "TagResource",
        "UntagResource",
    ]
    assert all(c.kind == "MskCluster" and c.name == SEED.name for c in changes)
    assert not any(c.blocked for c in changes)
    configuration = changes[5]
    assert [(d.field, d.before, d.after) for d in configuration.diff] == [
        ("configuration", "malawi:1", "malawi:2"),
        ("serverProperties.num.partitions", "3", "6"),
    ]
    assert changes[6].diff[0].after == "malawi:2"
    assert changes[6].risk is Risk.DISRUPTIVE


def test_broker_count_not_a_multiple_of_the_azs_is_impossible() -> None:
    change = only(plan(dataclasses.replace(SEED, broker_count=3), observed()))
    assert change.operation == "UpdateBrokerCount" and change.blocked
    assert "3 brokers cannot be spread evenly over 2 Availability Zones" in change.reasons[0]
    assert "Way out: use a multiple of 2" in change.reasons[0]


def test_broker_removal_only_as_msk_allows() -> None:
    t3 = only(plan(dataclasses.replace(SEED, broker_count=2), observed(live(broker_count=4))))
    assert t3.blocked and "only from M5 and M7g clusters" in t3.reasons[0]
    m5 = live(instance_type="kafka.m5.large", broker_count=6)
    too_many = only(
        plan(dataclasses.replace(m5, broker_count=2, security_groups=None), observed(m5))
    )
    assert too_many.blocked and "one broker per Availability Zone" in too_many.reasons[0]
    allowed = only(plan(dataclasses.replace(m5, broker_count=4), observed(m5)))
    assert allowed.risk is Risk.DISRUPTIVE
    assert "move partitions off them first" in allowed.reasons[0]


def test_storage_only_grows() -> None:
    change = only(plan(dataclasses.replace(SEED, storage=Storage(50)), observed()))
    assert change.blocked and change.operation == "UpdateBrokerStorage"
    assert "cannot shrink broker storage (100 -> 50 GiB)" in change.reasons[0]


def storage_done(hours_ago: float) -> ObservedOperation:
    end = NOW - timedelta(hours=hours_ago)
    return ObservedOperation(
        "arn:op", "UPDATE_BROKER_STORAGE", "UPDATE_COMPLETE", end - timedelta(minutes=30), end
    )


def test_storage_not_again_within_the_cooldown_read_from_the_operation_history() -> None:
    grow = dataclasses.replace(SEED, storage=Storage(200))
    blocked = only(plan(grow, observed(operations=(storage_done(2),))))
    assert blocked.blocked
    assert "allows the next one 6 hours later, at 2025-06-01 16:00 UTC" in blocked.reasons[0]
    assert not only(plan(grow, observed(operations=(storage_done(7),)))).blocked
    shorter = plan(
        grow, observed(operations=(storage_done(2),)), storage_cooldown=timedelta(hours=1)
    )
    assert not only(shorter).blocked


def test_no_downsizing_of_instance_type_where_msk_forbids_it() -> None:
    m5 = live(instance_type="kafka.m5.large")
    to_t3 = only(plan(SEED, observed(m5)))
    assert to_t3.blocked and "down to kafka.t3.small" in to_t3.reasons[0]
    big = live(instance_type="kafka.m5.2xlarge")
    smaller = dataclasses.replace(SEED, instance_type="kafka.m5.large")
    assert not only(plan(smaller, observed(big), partitions_per_broker=1200)).blocked
    overloaded = only(plan(smaller, observed(big), partitions_per_broker=2000))
    assert overloaded.blocked and "only up to 1500" in overloaded.reasons[0]


def test_kafka_version_only_along_the_upgrade_paths_msk_offers() -> None:
    for target in ("3.9.x.kraft", "3.4.0"):
        change = only(plan(dataclasses.replace(SEED, kafka_version=target), observed()))
        assert change.blocked, target
        assert "offers 3.6.0, 3.7.x, 3.8.x, 3.9.x" in change.reasons[0]
    upgrade = only(plan(dataclasses.replace(SEED, kafka_version="3.8.x"), observed()))
    assert upgrade.risk is Risk.DISRUPTIVE and upgrade.operation == "UpdateClusterKafkaVersion"


def test_fields_fixed_at_creation_are_impossible_with_the_way_out() -> None:
    spec = dataclasses.replace(
        SEED,
        client_subnets=("subnet-private-a", "subnet-private-c"),
        security_groups=("sg-other",),
        encryption=Encryption("arn:aws:kms:eu-central-1:123456789012:key/mine", in_cluster=False),
    )
    change = only(plan(spec, observed()))
    assert change.operation is None and change.blocked
    assert [d.field for d in change.diff] == [
        "brokers.clientSubnets",
        "brokers.securityGroups",
        "encryption.inTransit.inCluster",
        "encryption.atRest.kmsKeyId",
    ]
    assert all(d.risk is Risk.IMPOSSIBLE and "Way out" in (d.reason or "") for d in change.diff)


def test_an_aws_managed_key_is_not_drift() -> None:
    assert plan(dataclasses.replace(SEED, encryption=Encryption()), observed()) == []


@pytest.mark.parametrize(
    ("key", "before", "after", "risk"),
    [
        ("log.retention.hours", "168", "24", Risk.DESTRUCTIVE),
        ("log.retention.bytes", "-1", "1073741824", Risk.DESTRUCTIVE),
        ("log.retention.hours", "24", "168", Risk.SAFE),
        ("unclean.leader.election.enable", "false", "true", Risk.DESTRUCTIVE),
        ("allow.everyone.if.no.acl.found", "true", "false", Risk.DISRUPTIVE),
        ("min.insync.replicas", "1", "2", Risk.DISRUPTIVE),
        ("num.partitions", "3", "6", Risk.SAFE),
    ],
)
def test_server_property_changes_carry_their_risk(
    key: str, before: str, after: str, risk: Risk
) -> None:
    props = {**(SEED.server_properties or {}), key: before}
    spec = dataclasses.replace(SEED, server_properties={**props, key: after})
    changes = plan(spec, observed(live(server_properties=props)))
    diff = next(d for d in changes[0].diff if d.field == f"serverProperties.{key}")
    assert diff.risk is risk


def test_dropping_a_property_falls_back_to_the_msk_default() -> None:
    props = dict(SEED.server_properties or {})
    del props["num.partitions"]
    changes = plan(dataclasses.replace(SEED, server_properties=props), observed())
    dropped = next(d for d in changes[0].diff if d.field == "serverProperties.num.partitions")
    assert (dropped.after, dropped.risk) == (None, Risk.DISRUPTIVE)


def test_overloaded_brokers_block_configuration_and_security_updates() -> None:
    spec = dataclasses.replace(
        SEED,
        server_properties={**(SEED.server_properties or {}), "num.partitions": "6"},
        client_auth=ClientAuth(unauthenticated=False, sasl_iam=True),
    )
    changes = {c.operation: c for c in plan(spec, observed(), partitions_per_broker=400)}
    assert changes["UpdateClusterConfiguration"].blocked
    assert changes["UpdateSecurity"].blocked
    assert not changes["UpdateConfiguration"].blocked


def test_log_group_retention_and_tags() -> None:
    spec = dataclasses.replace(
        SEED,
        logging=dataclasses.replace(SEED.logging, cloudwatch_retention_days=3),
        tags={"Environment": "prod"},
    )
    changes = plan(spec, observed())
    assert [(c.operation, c.risk) for c in changes] == [
        ("PutRetentionPolicy", Risk.DESTRUCTIVE),
        ("TagResource", Risk.SAFE),
    ]
    assert changes[0].diff[0].field == f"logGroup[{GROUP}].retentionDays"
    missing = plan(SEED, observed(group_exists=False))
    assert [c.operation for c in missing] == ["CreateLogGroup", "PutRetentionPolicy"]


def test_a_snapshot_of_another_log_group_is_not_planned_against() -> None:
    """A snapshot records the group the specs named when it was taken; a pull request that
    renames it must not be planned as if the old group's state were the new one's."""
    renamed = dataclasses.replace(
        SEED, logging=dataclasses.replace(SEED.logging, cloudwatch_log_group="/aws/msk/renamed")
    )
    [change] = [c for c in plan(renamed, observed()) if c.operation == "CreateLogGroup"]
    assert change.risk is Risk.IMPOSSIBLE
    assert f"records log group {GROUP!r}, not '/aws/msk/renamed'" in change.reasons[0]
    assert not [c for c in plan(renamed, observed()) if c.operation == "PutRetentionPolicy"]


def test_public_access_comes_after_the_security_it_needs_and_goes_before_it() -> None:
    secure = dataclasses.replace(
        SEED, client_auth=ClientAuth(unauthenticated=False, sasl_iam=True), public_access=True
    )
    assert [c.operation for c in plan(secure, observed())] == [
        "UpdateSecurity",
        "UpdateConnectivity",
    ]
    opened = live(client_auth=secure.client_auth, public_access=True)
    assert [c.operation for c in plan(SEED, observed(opened))] == [
        "UpdateConnectivity",
        "UpdateSecurity",
    ]


def test_a_failed_cluster_blocks_every_change() -> None:
    changes = plan(dataclasses.replace(SEED, broker_count=4), observed(state="FAILED"))
    assert changes and all(c.blocked for c in changes)
    assert "the cluster is FAILED" in changes[0].reasons[0]


def test_a_busy_cluster_and_an_ageing_version_are_warnings() -> None:
    running = ObservedOperation("arn:op", "UPDATE_BROKER_TYPE", "UPDATE_IN_PROGRESS", NOW)
    warnings = cluster_warnings(
        SEED, observed(state="UPDATING", active=running), today=date(2025, 11, 1)
    )
    assert "is UPDATING: operation UPDATE_BROKER_TYPE (UPDATE_IN_PROGRESS)" in warnings[0]
    assert "Apply waits for it" in warnings[0]
    assert "reached the end of MSK support on 2025-10-23" in warnings[1]
    assert cluster_warnings(SEED, observed(), today=date(2025, 1, 1)) == []


def test_a_missing_cluster_is_planned_as_a_create_never_a_delete() -> None:
    public = dataclasses.replace(
        SEED, client_auth=ClientAuth(unauthenticated=False, sasl_iam=True), public_access=True
    )
    changes = plan(public, MskObserved(None, ObservedLogGroup(GROUP, False), None, ("3.5.1",)))
    assert [(c.operation, c.action) for c in changes] == [
        ("CreateLogGroup", Action.CREATE),
        ("PutRetentionPolicy", Action.UPDATE),
        ("CreateConfiguration", Action.CREATE),
        ("CreateClusterV2", Action.CREATE),
        ("UpdateConnectivity", Action.UPDATE),
    ]
    create = changes[3]
    fields = {d.field: d.after for d in create.diff}
    assert fields["configuration"] == "malawi-pg-kafka-cluster:1"
    assert "brokers.publicAccess" not in fields  # MSK never turns it on at creation
    assert not any(c.action is Action.DELETE for c in changes)


def test_a_create_reuses_a_configuration_of_that_name() -> None:
    same = ObservedConfiguration(CONFIG_ARN, SEED.name, 3, 3, dict(SEED.server_properties or {}))
    reused = plan(SEED, MskObserved(None, ObservedLogGroup(GROUP, True, 7), same, ("3.5.1",)))
    assert [c.operation for c in reused] == ["CreateClusterV2"]
    assert {d.field: d.after for d in reused[0].diff}["configuration"] == f"{SEED.name}:3"
    older = dataclasses.replace(same, server_properties={})
    updated = plan(SEED, MskObserved(None, ObservedLogGroup(GROUP, True, 7), older, ("3.5.1",)))
    assert [c.operation for c in updated] == ["UpdateConfiguration", "CreateClusterV2"]
    assert updated[0].diff[0].after == f"{SEED.name}:4"


def test_a_create_with_a_version_msk_does_not_offer_is_impossible() -> None:
    change = plan(SEED, MskObserved(None, ObservedLogGroup(GROUP, True, 7), None, ("3.9.x",)))
    create = next(c for c in change if c.operation == "CreateClusterV2")
    assert create.blocked and "ListKafkaVersions offers 3.9.x" in create.reasons[0]
