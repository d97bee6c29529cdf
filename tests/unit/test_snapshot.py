"""Snapshots: observed state survives JSON exactly, secrets are never written, age is said."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.core.cluster import Broker, ClusterView
from reconciler.engine.model import Observed
from reconciler.engine.snapshot import (
    Snapshot,
    SnapshotError,
    age_notice,
    describe_age,
    dump_snapshot,
    load_snapshot,
)
from reconciler.kinds.topic.model import ObservedConfig, ObservedTopic, ObservedTopics

TAKEN = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def observed() -> Observed:
    cluster = ClusterView(
        cluster_id="kRaFt-Clüster-1",
        brokers=(Broker(1, "b-1.example", 9094, "euc1-az1"), Broker(2, "b-2.example", 9094, None)),
        replicas_per_broker={1: 7, 2: 6},
    )
    topics = ObservedTopics(
        {
            "orders": ObservedTopic(
                "orders",
                3,
                2,
                {0: (1, 2), 1: (2, 1), 2: (1, 2)},
                {
                    "retention.ms": ObservedConfig(
                        "86400000", "DYNAMIC_TOPIC_CONFIG", inherited="604800000"
                    ),
                    "cleanup.policy": ObservedConfig("delete", "DEFAULT_CONFIG"),
                },
            ),
            "empty": ObservedTopic("empty", 1, 1, {0: (1,)}, {}),
        },
        {"min.insync.replicas": "1"},
    )
    return Observed(cluster, {"MskCluster": None, "Topic": topics})


def test_round_trip_is_exact() -> None:
    snapshot = Snapshot("dev", TAKEN, observed())
    text = dump_snapshot(snapshot)
    assert text.isascii()
    assert json.loads(text)["cluster"]["clusterId"] == "kRaFt-Clüster-1"
    assert json.loads(text)["takenAt"] == "2025-03-01T10:00:00Z"
    assert load_snapshot(text) == snapshot


def test_an_empty_cluster_round_trips() -> None:
    snapshot = Snapshot(
        "dev", TAKEN, Observed(ClusterView(None, ()), {"Topic": ObservedTopics({})})
    )
    assert load_snapshot(dump_snapshot(snapshot)) == snapshot


def test_secret_values_are_never_written() -> None:
    secret = ObservedConfig("hunter2", "DYNAMIC_TOPIC_CONFIG", sensitive=True, inherited="x")
    topic = ObservedTopic("t", 1, 1, {0: (1,)}, {"sasl.jaas.config": secret})
    state = Observed(ClusterView("c", ()), {"Topic": ObservedTopics({"t": topic})})
    text = dump_snapshot(Snapshot("dev", TAKEN, state))
    assert "hunter2" not in text
    config = load_snapshot(text).observed.kinds["Topic"].topics["t"].configs["sasl.jaas.config"]
    assert (config.value, config.inherited, config.sensitive) == (None, None, True)


def topic(document: dict[str, Any]) -> dict[str, Any]:
    orders: dict[str, Any] = document["kinds"]["Topic"]["topics"]["orders"]
    return orders


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(kind="plan"), "expected 'reconciler-snapshot'"),
        (lambda d: d.update(formatVersion=9), "reads version 2"),
        (lambda d: d.update(takenAt="yesterday"), "ISO 8601"),
        (lambda d: d.update(takenAt="2025-03-01T10:00:00"), "time zone"),
        (lambda d: topic(d).update(partitions="3"), "/kinds/Topic/topics/orders/partitions"),
        (lambda d: topic(d).update(partitions=True), "/kinds/Topic/topics/orders/partitions"),
        (lambda d: topic(d)["replicas"].update(x=[1]), "partition number"),
        (lambda d: d["cluster"]["brokers"][0].pop("host"), "missing host"),
        (
            lambda d: d["kinds"].update(Connector={}),
            "/kinds/Connector: a kind this version does not know",
        ),
    ],
)
def test_damaged_snapshots_are_refused_with_the_place(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    document = json.loads(dump_snapshot(Snapshot("dev", TAKEN, observed())))
    edit(document)
    with pytest.raises(SnapshotError, match=message):
        load_snapshot(json.dumps(document))


def test_not_json_is_refused() -> None:
    with pytest.raises(SnapshotError, match="not valid JSON"):
        load_snapshot("{")


def test_the_age_is_said_plainly() -> None:
    assert describe_age(TAKEN, TAKEN + timedelta(seconds=30)) == "less than a minute old"
    assert describe_age(TAKEN, TAKEN + timedelta(hours=3, minutes=5)) == "3 hours 5 minutes old"
    assert describe_age(TAKEN, TAKEN + timedelta(days=2, hours=1, minutes=9)) == "2 days 1 hour old"
    assert "future" in describe_age(TAKEN, TAKEN - timedelta(minutes=5))
    notice = age_notice(Snapshot("dev", TAKEN, observed()), TAKEN + timedelta(hours=1))
    assert "snapshot of the cluster taken 2025-03-01T10:00:00Z, 1 hour old" in notice
    assert "not against the live cluster" in notice


def test_the_msk_side_round_trips_too() -> None:
    """Snapshots record every kind, so `plan --observed` plans MSK changes as well."""
    from reconciler.kinds.msk_cluster.model import ObservedOperation
    from tests.unit.test_msk_diff import NOW
    from tests.unit.test_msk_diff import observed as msk_observed

    done = ObservedOperation("arn:op", "UPDATE_BROKER_STORAGE", "UPDATE_COMPLETE", NOW, NOW)
    state = msk_observed(operations=(done,))
    snapshot = Snapshot("dev", TAKEN, replace(observed(), kinds={"MskCluster": state}))
    restored = load_snapshot(dump_snapshot(snapshot))
    assert restored == snapshot
    assert restored.observed.kinds["MskCluster"].cluster.operations[0].end == NOW


def test_topics_other_environments_own_are_kept_as_names() -> None:
    """An observation holds its own topics whole and the others' names (a new name may
    collide with one): a plan from the snapshot blocks the same creates as a live one."""
    from reconciler.kinds.topic.diff import diff_topics
    from reconciler.kinds.topic.model import TopicNames, Topics, TopicSpec

    base = observed()
    own = base.kinds["Topic"]
    names = TopicNames.of(["metrics.cpu", *own.topics, "zeta"])
    state = replace(base, kinds={"Topic": replace(own, names=names)})
    text = dump_snapshot(Snapshot("dev", TAKEN, state))
    assert json.loads(text)["kinds"]["Topic"]["others"] == ["metrics.cpu", "zeta"]
    restored = load_snapshot(text).observed.kinds["Topic"]
    assert restored == state.kinds["Topic"]
    declared = Topics({"metrics_cpu": TopicSpec("metrics_cpu", 1, 1, {})}, ("metrics_*",))
    [change] = diff_topics(declared, restored, None).changes
    assert "collides with existing topic 'metrics.cpu'" in change.reasons[-1]

    older = json.loads(text)  # taken when every topic was held whole: no names beside them
    del older["kinds"]["Topic"]["others"]
    again = load_snapshot(json.dumps(older)).observed.kinds["Topic"]
    assert again.names is None and again.listed.names == {"orders", "empty"}
