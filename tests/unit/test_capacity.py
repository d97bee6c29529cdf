"""Capacity: the declared topics' worst case on disk against the MSK brokers' volumes."""

from __future__ import annotations

import dataclasses

from reconciler.kinds.capacity import GIB, disk_warnings, worst_case
from reconciler.kinds.msk_cluster.model import MskDesired
from reconciler.kinds.topic.model import Topics, TopicSpec
from tests.planning import desired_of, observed_of, plan_of
from tests.unit.test_msk_diff import SEED


def topic(name: str, partitions: int = 6, rf: int = 2, **config: str) -> TopicSpec:
    return TopicSpec(name, partitions, rf, {k.replace("_", "."): v for k, v in config.items()})


def topics(*specs: TopicSpec) -> Topics:
    return Topics({t.name: t for t in specs})


def test_worst_case_is_retention_plus_one_segment_times_partitions_and_replicas() -> None:
    limited = topic("orders", retention_bytes=str(10 * GIB))
    assert worst_case(limited, {}) == (10 * GIB + GIB) * 6 * 2
    small_segments = topic("orders", retention_bytes=str(GIB), segment_bytes=str(2**20))
    assert worst_case(small_segments, {}) == (GIB + 2**20) * 12
    assert worst_case(topic("unbounded"), {}) is None  # retention.bytes defaults to unlimited


def test_topics_without_their_own_limit_inherit_the_brokers() -> None:
    brokers = {"log.retention.bytes": str(GIB), "log.segment.bytes": str(GIB // 2)}
    assert worst_case(topic("t", partitions=1, rf=1), brokers) == GIB + GIB // 2
    own = topic("t", partitions=1, rf=1, retention_bytes="-1")
    assert worst_case(own, brokers) is None  # the topic's own -1 wins over the broker's


def test_with_tiered_storage_only_the_local_retention_stays_on_disk() -> None:
    limits = {"retention_bytes": str(100 * GIB), "local_retention_bytes": str(GIB)}
    tiered = topic("t", partitions=1, rf=1, remote_storage_enable="true", **limits)
    assert worst_case(tiered, {}) == 2 * GIB
    same = dataclasses.replace(tiered, config={**tiered.config, "local.retention.bytes": "-2"})
    assert worst_case(same, {}) == 101 * GIB  # -2: the same as retention.bytes


def test_specs_that_can_fill_the_disks_are_a_warning_with_the_way_out() -> None:
    # The seed: 2 brokers of 100 GiB. 6 partitions x RF 2 x 20 GiB (+1 GiB segment) = 252 GiB,
    # 126 GiB per broker: more than a broker holds.
    big = topics(topic("orders", retention_bytes=str(20 * GIB)), topic("audit"))
    [warning] = disk_warnings(big, SEED)
    assert warning.startswith(
        "Disk: the 1 topic(s) with a size limit can hold up to 126.0 GiB per broker"
    )
    assert "more than each broker's 100 GiB volume: they can fill the disks" in warning
    assert "Way out: lower retention.bytes or partitions, or raise brokers.storage" in warning
    assert "Largest: orders (252.0 GiB); 1 topic(s) without a size limit are not counted" in warning
    fits = topics(topic("orders", retention_bytes=str(10 * GIB)))  # 66 GiB per broker
    assert disk_warnings(fits, SEED) == []
    roomy = dataclasses.replace(
        SEED, storage=dataclasses.replace(SEED.storage, volume_size_gib=200)
    )
    assert disk_warnings(big, roomy) == []


def test_the_plan_carries_the_capacity_warning_across_kinds() -> None:
    big = topics(topic("orders", retention_bytes=str(20 * GIB)))
    plan = plan_of(desired_of(Topic=big, MskCluster=MskDesired(SEED)), observed_of())
    assert any(w.startswith("Disk: the 1 topic(s)") for w in plan.warnings)
    without_cluster = plan_of(desired_of(Topic=big), observed_of())
    assert not any(w.startswith("Disk:") for w in without_cluster.warnings)
