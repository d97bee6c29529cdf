"""Observe on the real cluster: what it reads, and that its round trips do not grow with N."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType
from jsonschema import Draft202012Validator

from reconciler.clients.kafka import KafkaAdmin, admin_client
from reconciler.clients.replicas import ReplicaAdmin
from reconciler.core.environment import Connection
from reconciler.core.errors import ReconcilerError
from reconciler.core.polling import attempts
from reconciler.kinds.topic.model import ObservedTopics, Topics, TopicSpec
from reconciler.kinds.topic.observe import observe_with
from reconciler.local.kafka.state import LocalCluster
from reconciler.render.plan_json import plan_to_dict
from tests.integration.conftest import WaitUntil

pytestmark = pytest.mark.integration
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json"


class CountingAdmin:
    """A real AdminClient that counts the admin calls observe makes (each is one batch)."""

    def __init__(self, inner: AdminClient) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        self.calls[name] += 1
        return getattr(self.inner, name)


def observe(admin: KafkaAdmin, desired: Topics) -> tuple[ObservedTopics, Any]:
    """What a plan reads: Metadata and DescribeCluster once, then the topics' configs."""
    metadata = admin.topic_metadata()
    cluster = admin.cluster(metadata)
    first = min(b.node_id for b in cluster.brokers)
    return observe_with(admin, desired, metadata, first), cluster


def create(admin: AdminClient, wait_until: WaitUntil, topics: list[NewTopic]) -> None:
    for future in admin.create_topics(topics, operation_timeout=30).values():
        future.result()
    names = {t.topic for t in topics}

    def described(client: AdminClient) -> bool:
        """Listed and describable: this broker has fully learned of every topic."""
        if not names <= set(client.list_topics(timeout=10).topics):
            return False
        resources = [ConfigResource(ResourceType.TOPIC, n) for n in names]
        futures = client.describe_configs(resources, request_timeout=10).values()
        return all(f.exception() is None for f in futures)

    wait_until(described)


def test_admin_calls_do_not_grow_with_the_number_of_topics(
    admin: AdminClient, bootstrap_servers: str, topic_prefix: str, wait_until: WaitUntil
) -> None:
    conn = Connection(bootstrap_servers, security_protocol="PLAINTEXT")
    counts = []
    for size in (5, 150):
        prefix = f"{topic_prefix}{size}-"
        names = [f"{prefix}{i:04}" for i in range(size)]
        create(
            admin,
            wait_until,
            [NewTopic(n, 1, 1, config={"retention.ms": "3600000"}) for n in names],
        )
        counting = CountingAdmin(admin_client(conn))
        admin_under_test = KafkaAdmin(counting, conn)  # type: ignore[arg-type]
        observed, _ = observe(admin_under_test, Topics(manage=(f"{prefix}*",)))
        mine = {n: t for n, t in observed.topics.items() if n.startswith(prefix)}
        assert len(mine) == size
        assert all(t.configs["retention.ms"].value == "3600000" for t in mine.values())
        assert all(t.configs["retention.ms"].inherited == "604800000" for t in mine.values())
        counts.append(counting.calls)
    assert counts[0] == counts[1]
    assert sum(counts[1].values()) <= 5, counts[1]


def test_observe_reads_placement_racks_and_sources(
    admin: AdminClient, bootstrap_servers: str, topic_prefix: str, wait_until: WaitUntil
) -> None:
    name = f"{topic_prefix}placed"
    create(admin, wait_until, [NewTopic(name, 3, 3, config={"cleanup.policy": "delete,compact"})])
    conn = Connection(bootstrap_servers, security_protocol="PLAINTEXT")
    declared = Topics({name: TopicSpec(name, 3, 3, {"segment.bytes": "1073741824"})})
    observed, cluster = observe(KafkaAdmin.connect(conn), declared)
    topic = observed.topics[name]
    assert (topic.partitions, topic.replication_factor) == (3, 3)
    assert all(sorted(r) == [1, 2, 3] for r in topic.replicas.values())
    assert len({b.rack for b in cluster.brokers}) == 3
    policy = topic.configs["cleanup.policy"]
    assert (policy.value, policy.source) == ("compact,delete", "DYNAMIC_TOPIC_CONFIG")
    assert topic.configs["segment.bytes"].source == "DEFAULT_CONFIG"  # declared, so read
    assert "retention.ms" not in topic.configs  # inherited and undeclared: never drift


def test_real_plan_json_matches_the_published_schema(
    bootstrap_servers: str, topic_prefix: str, tmp_path: Path
) -> None:
    from reconciler.engine.plan import plan_environment

    env_dir = tmp_path / "schema"  # an environment is named after its directory
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: schema}\nspec:\n"
        "  kafka: {bootstrapServers: '${B}', securityProtocol: PLAINTEXT}\n"
        f"---\napiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {topic_prefix}x}}\n"
        "spec: {partitions: 2, replicationFactor: 2, config: {retention.ms: 1d}}\n",
        encoding="utf-8",
    )
    planned = plan_environment(env_dir, {"B": bootstrap_servers})
    document = json.loads(json.dumps(plan_to_dict(planned.plan, tool_version="test")))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(document)) == []
    assert document["summary"]["create"] == 1


def test_each_brokers_metadata_is_its_own_and_a_paused_broker_is_not_answered_for(
    kafka_cluster: LocalCluster, bootstrap_servers: str, admin: AdminClient, topic_prefix: str
) -> None:
    """librdkafka sends Metadata to any broker it is connected to, whatever the bootstrap
    server (measured: a fresh client of one broker is answered by another one time in two or
    three), so apply's read-back "through every broker" and a saved plan's "every broker
    agrees" ask each broker through kafka-python, which sends to the broker named. A broker
    that cannot answer (here: paused) must fail the read, never be answered for."""
    conn = Connection(bootstrap_servers, security_protocol="PLAINTEXT", timeout_seconds=4)
    replicas = ReplicaAdmin(conn)
    ids = [b.node_id for b in kafka_cluster.brokers]
    name = f"{topic_prefix}listed"
    for future in admin.create_topics([NewTopic(name, 2, 1)], operation_timeout=30).values():
        future.result()
    for _ in attempts(30, 0.2):
        listed = replicas.listed_by(ids, [name, "__nothing__"])
        if all(name in topics for topics in listed.values()):
            break
    assert sorted(listed) == sorted(ids)
    assert all(
        sorted(topics[name]) == [0, 1] and "__nothing__" not in topics for topics in listed.values()
    )
    paused = kafka_cluster.brokers[-1]
    os.kill(paused.pid, signal.SIGSTOP)
    try:
        assert set(replicas.listed_by(ids[:-1], [name])) == set(ids[:-1])
        with pytest.raises(ReconcilerError, match="Metadata"):
            replicas.listed_by([paused.node_id], [name])
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    for _ in attempts(60, 0.5):
        try:
            if name in replicas.listed_by([paused.node_id], [name])[paused.node_id]:
                break
        except ReconcilerError:
            continue  # reconnecting after the pause
    else:
        raise AssertionError(f"broker {paused.node_id} did not answer again after the pause")
