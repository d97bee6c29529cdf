"""Replica placement on a real 4-broker cluster over 3 racks (brokers 1 and 4 share az-1):
replication-factor changes with records kept, rack fixes, balance onto a new broker, moves in
flight, and an apply interrupted by SIGTERM mid-move that the next apply finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner, Result
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType
from kafka import TopicPartition
from kafka.admin import KafkaAdminClient

from reconciler.cli import main
from reconciler.local.kafka.cluster import down, up
from reconciler.local.kafka.state import LocalCluster
from tests.conftest import TEST_KAFKA_VERSION, claim_state_dir

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RACK = {1: "az-1", 2: "az-2", 3: "az-3", 4: "az-1"}
THROTTLE_KEYS = (
    "leader.replication.throttled.rate",
    "follower.replication.throttled.rate",
    "leader.replication.throttled.replicas",
    "follower.replication.throttled.replicas",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Four brokers over three racks: az-1 holds brokers 1 and 4."""
    state_dir, lock = claim_state_dir("-placement")
    try:
        started = up(state_dir, brokers=4, racks=3, version=TEST_KAFKA_VERSION, timeout=180)
        try:
            yield started
        finally:
            if os.environ.get("RECONCILER_TEST_KEEP_CLUSTER") != "1":
                down(state_dir)
    finally:
        lock.close()


@pytest.fixture(scope="module")
def admin(cluster: LocalCluster) -> AdminClient:
    return AdminClient({"bootstrap.servers": cluster.bootstrap_servers})


@pytest.fixture(scope="module")
def replicas_admin(cluster: LocalCluster) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers)
    yield client
    client.close()


Specs = Callable[..., Path]


@pytest.fixture
def specs(tmp_path: Path, topic_prefix: str) -> Specs:
    """An environment owning `<prefix>*`, with the given topics and placement policy."""

    def write(*topics: tuple[str, int, int], placement: str = "") -> Path:
        directory = tmp_path / "it"  # an environment is named after its directory
        directory.mkdir(exist_ok=True)
        (directory / "environment.yaml").write_text(
            "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: it}\nspec:\n"
            "  kafka:\n    bootstrapServers: ${KAFKA_BOOTSTRAP_SERVERS}\n"
            "    securityProtocol: PLAINTEXT\n"
            f'  topics:\n    manage: ["{topic_prefix}*"]\n'
            + (f"  placement: {placement}\n" if placement else ""),
            encoding="utf-8",
        )
        (directory / "topics.yaml").write_text(
            "".join(
                f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {name}}}\n"
                f"spec: {{partitions: {partitions}, replicationFactor: {rf}}}\n---\n"
                for name, partitions, rf in topics
            ),
            encoding="utf-8",
        )
        return directory

    return write


@pytest.fixture
def cli(cluster: LocalCluster) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        env = {"KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap_servers}
        return CliRunner().invoke(main, [*args, "--allow-outside-repo"], env=env)

    return run


def create(admin: AdminClient, name: str, assignment: list[list[int]]) -> None:
    """Create out of band, then wait until every broker lists it (each answers from its own
    metadata, and a plan asking a lagging one would plan a create)."""
    [future] = admin.create_topics(
        [NewTopic(name, len(assignment), replica_assignment=assignment)]
    ).values()
    future.result()
    brokers = admin.list_topics(timeout=10).brokers.values()
    each = [AdminClient({"bootstrap.servers": f"{b.host}:{b.port}"}) for b in brokers]
    deadline = time.monotonic() + 20
    while not all(name in client.list_topics(timeout=10).topics for client in each):
        assert time.monotonic() < deadline
        time.sleep(0.2)


def placement(admin: AdminClient, name: str) -> dict[int, tuple[int, ...]]:
    topic = admin.list_topics(name, timeout=10).topics[name]
    return {p: tuple(info.replicas) for p, info in sorted(topic.partitions.items())}


def in_sync(admin: AdminClient, name: str) -> dict[int, tuple[int, tuple[int, ...]]]:
    topic = admin.list_topics(name, timeout=10).topics[name]
    return {p: (info.leader, tuple(sorted(info.isrs))) for p, info in topic.partitions.items()}


def throttles_left(
    admin: AdminClient, topics: list[str], brokers: tuple[int, ...] = tuple(RACK)
) -> dict[str, str]:
    """Every throttle config set on the (running) brokers or on the topics."""
    requests = [[ConfigResource(ResourceType.BROKER, str(b))] for b in brokers]  # one per call
    requests.append([ConfigResource(ResourceType.TOPIC, t) for t in topics])
    found = {}
    for request in requests:
        for resource, future in admin.describe_configs(request).items():
            for key, entry in future.result().items():
                if key in THROTTLE_KEYS and entry.value and not entry.is_default:
                    found[f"{resource.name} {key}"] = entry.value
    return found


def produce(cluster: LocalCluster, name: str, count: int, size: int = 1000) -> list[bytes]:
    producer = Producer(
        {"bootstrap.servers": cluster.bootstrap_servers, "acks": "all", "linger.ms": 20}
    )
    values = [f"{i:08d}".encode() + b"x" * (size - 8) for i in range(count)]
    failures: list[str] = []
    for value in values:
        producer.produce(
            name, value, on_delivery=lambda err, msg: failures.append(str(err)) if err else None
        )
        producer.poll(0)
    assert producer.flush(60) == 0 and not failures
    return values


def consume_all(cluster: LocalCluster, name: str, expected: int) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap_servers,
            "group.id": f"{name}-check",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([name])
    values: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(values) < expected and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            values.append(message.value() or b"")
    consumer.close()
    return values


def moving(
    cluster: LocalCluster, env_dir: Path
) -> tuple[subprocess.Popen[str], IO[str], list[str]]:
    """`reconciler apply` in a process of its own, read until its replicas are moving: the
    process (for a test to interrupt, or to take a broker away from), the rest of its
    output and what it printed so far."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "reconciler", "apply", str(env_dir),
            "--auto-approve", "--allow-outside-repo", "--poll-seconds", "1",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap_servers,
            "PYTHONPATH": str(ROOT),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "moving replicas:" in line:
            break
    return process, process.stdout, seen


def plan_json(cli: Callable[..., Result], env_dir: Path) -> dict[str, Any]:
    result = cli("plan", str(env_dir), "-o", "json")
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def test_rf_1_to_3_keeps_every_record_and_spreads_over_the_racks(
    cluster: LocalCluster,
    admin: AdminClient,
    specs: Specs,
    cli: Callable[..., Result],
    topic_prefix: str,
) -> None:
    name = f"{topic_prefix}orders"
    assert cli("apply", str(specs((name, 4, 1))), "--auto-approve").exit_code == 0
    values = produce(cluster, name, 4000)
    raised = specs((name, 4, 3), placement="{throttle: 100MiB}")
    document = plan_json(cli, raised)
    [change] = document["changes"]
    assert change["risk"] == "disruptive"
    moved = {d["field"]: d for d in change["diff"] if d["field"].startswith("replicas[")}
    assert len(moved) == 4
    assert "gain replicas: about" in change["notes"][0] and "MiB to copy" in change["notes"][0]
    applied = cli("apply", str(raised), "--auto-approve", "--poll-seconds", "1")
    assert applied.exit_code == 0, applied.output
    assert "moving replicas: 4/4 partitions done" in applied.output
    assert "throttle removed" in applied.output
    after = placement(admin, name)
    for partition, replicas in after.items():
        assert replicas == tuple(moved[f"replicas[{partition}]"]["after"])
        assert len({RACK[b] for b in replicas}) == 3
    for partition, (leader, isr) in in_sync(admin, name).items():
        assert leader == after[partition][0] and isr == tuple(sorted(after[partition]))
    assert throttles_left(admin, [name]) == {}
    assert cli("plan", str(raised), "--detailed-exitcode").exit_code == 0
    assert sorted(consume_all(cluster, name, len(values))) == sorted(values)  # none lost


def test_rf_3_to_2_drops_followers_and_keeps_leaders(
    admin: AdminClient, specs: Specs, cli: Callable[..., Result], topic_prefix: str
) -> None:
    name = f"{topic_prefix}down"
    create(admin, name, [[1, 2, 3], [2, 3, 4], [3, 4, 2]])
    lowered = specs((name, 3, 2))
    applied = cli("apply", str(lowered), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    after = placement(admin, name)
    assert [r[0] for r in after.values()] == [1, 2, 3]
    assert all(len(r) == 2 and len({RACK[b] for b in r}) == 2 for r in after.values())
    assert cli("plan", str(lowered), "--detailed-exitcode").exit_code == 0


def test_two_replicas_in_one_rack_are_reported_and_fixed_unmanaged_ones_never_moved(
    admin: AdminClient, specs: Specs, cli: Callable[..., Result], topic_prefix: str
) -> None:
    managed, outsider = f"{topic_prefix}shared", f"x{topic_prefix}outsider"
    create(admin, managed, [[1, 4], [2, 3]])
    create(admin, outsider, [[1, 4]])
    env_dir = specs((managed, 2, 2))
    [change] = plan_json(cli, env_dir)["changes"]
    assert change["name"] == managed
    assert "partition 0 has two replicas in one rack" in " ".join(change["reasons"])
    assert cli("apply", str(env_dir), "--auto-approve").exit_code == 0
    fixed = placement(admin, managed)
    assert fixed[0][0] == 1 and RACK[fixed[0][1]] != "az-1" and fixed[1] == (2, 3)
    assert placement(admin, outsider) == {0: (1, 4)}  # outside topics.manage: never moved


def test_a_new_broker_receives_partitions_only_when_the_policy_balances(
    admin: AdminClient, specs: Specs, cli: Callable[..., Result], topic_prefix: str
) -> None:
    name = f"{topic_prefix}grow"
    create(admin, name, [[1, 2], [2, 3], [3, 1], [1, 3], [2, 1], [3, 2]])  # none on broker 4
    settled = specs((name, 6, 2))
    unchanged = cli("plan", str(settled), "--detailed-exitcode")
    assert unchanged.exit_code == 0, unchanged.output
    balanced = specs((name, 6, 2), placement="{balance: true}")
    applied = cli("apply", str(balanced), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    after = placement(admin, name)
    counts = {b: sum(b in r for r in after.values()) for b in RACK}
    assert counts[4] >= 2 and max(counts.values()) - min(counts.values()) <= 1
    assert all(len({RACK[b] for b in r}) == 2 for r in after.values())
    assert cli("plan", str(balanced), "--detailed-exitcode").exit_code == 0


def _throttle(replicas_admin: KafkaAdminClient, name: str, rate: int) -> None:
    from kafka.admin import ConfigResource as KafkaResource
    from kafka.admin import ConfigResourceType

    # Incremental, as kafka-reassign-partitions sets them (a legacy AlterConfigs replaces a
    # resource's whole dynamic config, and Kafka 3.5 then keeps no throttle): each checked.
    resources = [
        KafkaResource(
            ConfigResourceType.BROKER, str(b), dict.fromkeys(THROTTLE_KEYS[:2], ("SET", str(rate)))
        )
        for b in RACK
    ]
    resources.append(
        KafkaResource(
            ConfigResourceType.TOPIC, name, dict.fromkeys(THROTTLE_KEYS[2:], ("SET", "*"))
        )
    )
    answered = replicas_admin.alter_configs(resources, raise_on_unknown=False, incremental=True)
    assert all(r == "OK" for by_name in answered.values() for r in by_name.values()), answered


def test_a_move_in_flight_is_waited_for_and_a_conflicting_one_refused_with_its_way_out(
    cluster: LocalCluster,
    admin: AdminClient,
    replicas_admin: KafkaAdminClient,
    specs: Specs,
    cli: Callable[..., Result],
    topic_prefix: str,
) -> None:
    name = f"{topic_prefix}flight"
    create(admin, name, [[1], [2]])
    produce(cluster, name, 40000)  # ~20 MB a partition: minutes at 128 KiB/s, so both stay moving
    env_dir = specs((name, 2, 3))
    targets = {
        int(d["field"][9:-1]): d["after"]
        for d in plan_json(cli, env_dir)["changes"][0]["diff"]
        if d["field"].startswith("replicas[")
    }
    _throttle(replicas_admin, name, 128 * 1024)  # a slow move started by someone else
    replicas_admin.alter_partition_reassignments({TopicPartition(name, 0): targets[0]})
    # RF 2 where the specs say 3: a target the plan cannot accept.
    replicas_admin.alter_partition_reassignments({TopicPartition(name, 1): [2, 3]})
    refused = cli("plan", str(env_dir))
    assert refused.exit_code == 1
    assert "being reassigned to other replicas than the specs ask for" in refused.output
    assert f"reconciler reassignments ENV_DIR --cancel --topic {name}" in refused.output
    listed = cli("reassignments", str(env_dir))
    assert f"{name} partition 0" in listed.output and "2 reassignment(s)" in listed.output
    cancelled = cli("reassignments", str(env_dir), "--cancel", "--topic", name)
    assert cancelled.exit_code == 0, cancelled.output
    assert placement(admin, name)[1] == (2,)  # back where it was
    replicas_admin.alter_partition_reassignments({TopicPartition(name, 0): targets[0]})
    [change] = plan_json(cli, env_dir)["changes"]
    assert "partition 0 is already being reassigned to these replicas" in " ".join(
        change["reasons"]
    )
    applied = cli("apply", str(env_dir), "--auto-approve", "--poll-seconds", "1")
    assert applied.exit_code == 0, applied.output
    assert placement(admin, name) == {0: tuple(targets[0]), 1: tuple(targets[1])}
    assert throttles_left(admin, [name]) == {}
    assert cli("plan", str(env_dir), "--detailed-exitcode").exit_code == 0


def test_an_apply_interrupted_mid_move_leaves_no_throttle_and_the_next_one_completes(
    cluster: LocalCluster,
    admin: AdminClient,
    specs: Specs,
    cli: Callable[..., Result],
    topic_prefix: str,
) -> None:
    name = f"{topic_prefix}sigterm"
    create(admin, name, [[1], [2], [3], [4]])
    produce(cluster, name, 40000)  # ~40 MB: minutes at 256 KiB/s, so the move is caught mid-way
    slow = specs((name, 4, 3), placement="{throttle: 256KiB}")
    process, stdout, seen = moving(cluster, slow)
    assert any("throttle: 256.0 KiB/s" in line for line in seen), "".join(seen)
    assert throttles_left(admin, [name])  # the throttle is there while it moves
    process.send_signal(signal.SIGTERM)
    output = "".join(seen) + stdout.read()
    assert process.wait(60) == 1, output
    assert "interrupted" in output and "throttles removed" in output
    assert throttles_left(admin, [name]) == {}
    after = placement(admin, name)
    # Each partition is as before (its move cancelled) or fully moved (it had completed).
    assert all(after[p] == (p + 1,) or len(after[p]) == 3 for p in after)
    assert any(after[p] == (p + 1,) for p in after), "every move had completed already"
    fast = specs((name, 4, 3), placement="{throttle: 200MiB}")
    rerun = cli("apply", str(fast), "--auto-approve", "--poll-seconds", "1")
    assert rerun.exit_code == 0, rerun.output
    assert all(len(r) == 3 for r in placement(admin, name).values())
    assert throttles_left(admin, [name]) == {}
    assert cli("plan", str(fast), "--detailed-exitcode").exit_code == 0


def test_a_broker_lost_mid_move_fails_the_apply_with_no_throttle_left_on_the_others(
    cluster: LocalCluster,
    admin: AdminClient,
    specs: Specs,
    cli: Callable[..., Result],
    topic_prefix: str,
) -> None:
    """Last in this module: it kills broker 4 for good."""
    name = f"{topic_prefix}lost"
    create(admin, name, [[2, 4], [3, 4]])  # broker 4 stays in every target
    produce(cluster, name, 30000)
    slow = specs((name, 2, 3), placement="{throttle: 128KiB}")
    process, stdout, seen = moving(cluster, slow)
    os.kill(cluster.brokers[3].pid, signal.SIGKILL)
    output = "".join(seen) + stdout.read()
    assert process.wait(180) == 1, output
    assert "left the cluster during the move" in output or "did not move" in output, output
    assert throttles_left(admin, [name], brokers=(1, 2, 3)) == {}, output
    replanned = cli("plan", str(slow))
    assert "is not in the cluster (offline?). Way out: bring the broker back" in replanned.output
