"""The brokers' changes: Kafka version, broker type, count and storage, each one MSK call
with MSK's rules (upgrade paths, allowed type moves, AZ multiples, storage only growing and
not within the cooldown) checked before anything is written. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.core.model import Change, FieldDiff, Risk
from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.changes import cluster_change
from reconciler.kinds.msk_cluster.model import ObservedCluster
from reconciler.kinds.msk_cluster.spec import MskClusterSpec


def version_change(spec: MskClusterSpec, cluster: ObservedCluster) -> Change | None:
    before = cluster.actual.kafka_version
    if spec.kafka_version == before:
        return None
    offered = cluster.compatible_versions
    blockers = []
    if spec.kafka_version not in offered:
        choices = ", ".join(offered) if offered else "none"
        blockers.append(
            f"MSK cannot move Kafka {before} to {spec.kafka_version}: GetCompatibleKafkaVersions "
            f"offers {choices}. Way out: choose one of those (upgrade step by step); MSK never "
            "downgrades and never upgrades a ZooKeeper cluster to KRaft in place"
        )
    diff = FieldDiff(
        "kafkaVersion",
        before,
        spec.kafka_version,
        Risk.DISRUPTIVE,
        "MSK upgrades the brokers with a rolling restart, one broker at a time",
    )
    return cluster_change(spec, "UpdateClusterKafkaVersion", [diff], blockers=blockers)


def type_change(
    spec: MskClusterSpec, actual: MskClusterSpec, partitions_per_broker: int | None
) -> Change | None:
    before, after = actual.instance_type, spec.instance_type
    if before == after:
        return None
    blockers = []
    problem = rules.broker_type_problem(before, after)
    if problem:
        blockers.append(
            f"{problem}. Way out: keep instanceType: {before}, or create a new cluster with "
            f"{after} brokers and migrate"
        )
    reason = "MSK replaces the brokers one at a time (rolling), without moving partitions"
    if rules.is_downsize(before, after):
        reason += "; smaller brokers mean less throughput per broker"
        too_many = rules.partitions_problem(after, partitions_per_broker)
        if too_many:
            blockers.append(f"{too_many}. Way out: add brokers or delete partitions first")
    diff = FieldDiff("brokers.instanceType", before, after, Risk.DISRUPTIVE, reason)
    return cluster_change(spec, "UpdateBrokerType", [diff], blockers=blockers)


def count_change(spec: MskClusterSpec, actual: MskClusterSpec) -> Change | None:
    before, after = actual.broker_count, spec.broker_count
    if before == after:
        return None
    problems = rules.broker_count_problems(
        before, after, actual.az_count, actual.instance_type, actual.kafka_version
    )
    if after > before:
        diff = FieldDiff(
            "brokers.count",
            before,
            after,
            Risk.SAFE,
            "new brokers start empty: reassign partitions to use them (MSK does not move them)",
        )
        way_out = f"Way out: use a multiple of {actual.az_count}"
    else:
        diff = FieldDiff(
            "brokers.count",
            before,
            after,
            Risk.DISRUPTIVE,
            "MSK removes only brokers that hold no partitions (its canary topics aside): move "
            "partitions off them first, or MSK refuses",
        )
        way_out = (
            f"Way out: remove {actual.az_count} brokers at a time on an M5/M7g cluster, or keep "
            f"count: {before}"
        )
    blockers = [f"{p}. {way_out}" for p in problems]
    return cluster_change(spec, "UpdateBrokerCount", [diff], blockers=blockers)


def _last_storage_update(cluster: ObservedCluster) -> datetime | None:
    for op in cluster.operations:
        if op.type == "UPDATE_BROKER_STORAGE" and op.state == "UPDATE_COMPLETE":
            return op.end or op.start
    return None


def storage_change(
    spec: MskClusterSpec, cluster: ObservedCluster, now: datetime, cooldown: timedelta
) -> Change | None:
    actual = cluster.actual
    diffs = []
    blockers = []
    before, after = actual.storage.volume_size_gib, spec.storage.volume_size_gib
    if after != before:
        if after < before:
            diffs.append(
                FieldDiff(
                    "brokers.storage.volumeSizeGiB",
                    before,
                    after,
                    Risk.IMPOSSIBLE,
                    f"MSK cannot shrink broker storage ({before} -> {after} GiB). Way out: keep "
                    f"volumeSizeGiB: {before}, or migrate to a new cluster with smaller volumes",
                )
            )
        else:
            diffs.append(
                FieldDiff(
                    "brokers.storage.volumeSizeGiB",
                    before,
                    after,
                    Risk.SAFE,
                    "the extra storage is available right away; MSK then allows no other "
                    f"storage update for {_hours(cooldown)}",
                )
            )
    throughput_before = actual.storage.provisioned_throughput_mibps
    throughput_after = spec.storage.provisioned_throughput_mibps
    if throughput_after != throughput_before:
        diffs.append(
            FieldDiff(
                "brokers.storage.provisionedThroughputMiBps", throughput_before, throughput_after
            )
        )
    if not diffs:
        return None
    last = _last_storage_update(cluster)
    if last is not None:
        ready = _aware(last) + cooldown
        if _aware(now) < ready:
            blockers.append(
                f"the last storage update finished at {_aware(last):%Y-%m-%d %H:%M} UTC and MSK "
                f"allows the next one {_hours(cooldown)} later, at {ready:%Y-%m-%d %H:%M} UTC. "
                "Way out: run apply again after that time"
            )
    return cluster_change(spec, "UpdateBrokerStorage", diffs, blockers=blockers)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{span.total_seconds():g} seconds"
