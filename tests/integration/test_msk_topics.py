"""Topics through MSK's topic API (`kafka.api: msk`), against the local MSK endpoint on the
real local Kafka cluster: the endpoint's answers (validated against botocore's shapes, and
its rules), and what only this API does in a plan: its requirements, its writes refused at
apply rather than in the plan, its lag, and `import` through it.

The topic behaviours both APIs share run through both in test_reconcile.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.clients.aws import kafka_client
from reconciler.clients.msk_topics import decode_configs, encode_configs
from reconciler.local.msk.backend import TOPIC_OPERATIONS
from reconciler.local.msk.endpoint import ensure_cluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.integration.conftest import WaitUntil
from tests.integration.test_reconcile import describe, prefixed, topic_doc
from tests.unit.test_msk_wire import WireLog

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient

pytestmark = pytest.mark.integration

REGION = "eu-central-1"
REFRESH = 2.0


@pytest.fixture(scope="module")
def endpoint(bootstrap_servers: str) -> Iterator[MskServer]:
    """An endpoint whose topic answers lag by up to REFRESH seconds, with cluster `local`."""
    server = start_msk_server(
        kafka_bootstrap=bootstrap_servers, operation_seconds=0.2, topic_refresh_seconds=REFRESH
    )
    ensure_cluster(server.endpoint_url, brokers=3)
    yield server
    server.stop()


class Wire(NamedTuple):
    """A client whose every answer is checked against botocore's shapes, and the ARN of the
    endpoint's cluster `local`."""

    client: KafkaClient
    log: WireLog
    arn: str


@pytest.fixture
def wire(endpoint: MskServer) -> Iterator[Wire]:
    log = WireLog()
    client = log.attach(kafka_client(REGION, endpoint_url=endpoint.endpoint_url))
    yield Wire(client, log, cluster_arn(client))
    assert log.problems() == []  # every answer matched botocore's output or error shape


def cluster_arn(client: KafkaClient, name: str = "local") -> str:
    [info] = client.list_clusters_v2(ClusterNameFilter=name)["ClusterInfoList"]
    return info["ClusterArn"]


def error_of(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    error = raised.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], str(raised.value)


def settle() -> None:
    time.sleep(REFRESH + 0.3)


def test_the_endpoint_serves_msk_topic_api_on_real_kafka(
    wire: Wire, wait_until: WaitUntil, topic_prefix: str
) -> None:
    client, log, arn = wire
    name = f"{topic_prefix}orders"
    created = client.create_topic(
        ClusterArn=arn,
        TopicName=name,
        PartitionCount=3,
        ReplicationFactor=2,
        Configs=encode_configs({"retention.ms": "3600000", "cleanup.policy": "compact"}),
    )
    assert created["Status"] == "CREATING"
    assert (
        created["TopicArn"].startswith(arn.replace(":cluster/", ":topic/"))
        and name in (created["TopicArn"])
    )
    wait_until(lambda a: prefixed(a, topic_prefix) == {name: 3})  # written to Kafka at once
    wait_until(lambda a: describe(a, name)["cleanup.policy"].value == "compact")

    settle()  # MSK's topic data is refreshed, not live
    described = client.describe_topic(ClusterArn=arn, TopicName=name)
    assert (described["Status"], described["PartitionCount"], described["ReplicationFactor"]) == (
        "ACTIVE",
        3,
        2,
    )
    configs = decode_configs(described["Configs"])
    assert configs["retention.ms"] == "3600000" and configs["cleanup.policy"] == "compact"
    assert configs["segment.bytes"] == "1073741824"  # defaults too: no source is said
    listed = client.list_topics(ClusterArn=arn, TopicNameFilter=topic_prefix)["Topics"]
    assert [(t["TopicName"], t["PartitionCount"], t["OutOfSyncReplicaCount"]) for t in listed] == [
        (name, 3, 0)
    ]
    partitions = client.describe_topic_partitions(ClusterArn=arn, TopicName=name, MaxResults=2)
    assert [p["Partition"] for p in partitions["Partitions"]] == [0, 1]
    rest = client.describe_topic_partitions(
        ClusterArn=arn, TopicName=name, NextToken=partitions["NextToken"]
    )
    assert [p["Partition"] for p in rest["Partitions"]] == [2]
    assert all(len(p["Replicas"]) == 2 and p["Leader"] in p["Replicas"] for p in rest["Partitions"])

    updated = client.update_topic(
        ClusterArn=arn, TopicName=name, Configs=encode_configs({"retention.ms": "7200000"})
    )
    assert updated["Status"] == "UPDATING"
    wait_until(lambda a: describe(a, name)["retention.ms"].value == "7200000")
    wait_until(lambda a: describe(a, name)["cleanup.policy"].value == "compact")  # others kept
    stale = decode_configs(client.describe_topic(ClusterArn=arn, TopicName=name)["Configs"])
    assert stale["retention.ms"] == "3600000"  # until MSK looks again
    assert client.describe_topic(ClusterArn=arn, TopicName=name)["Status"] == "UPDATING"
    client.update_topic(ClusterArn=arn, TopicName=name, PartitionCount=4)
    wait_until(lambda a: prefixed(a, topic_prefix) == {name: 4})

    nodes = client.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert sorted(int(n["BrokerNodeInfo"]["BrokerId"]) for n in nodes) == [1, 2, 3]
    assert client.delete_topic(ClusterArn=arn, TopicName=name)["Status"] == "DELETING"
    wait_until(lambda a: name not in prefixed(a, topic_prefix))
    assert set(TOPIC_OPERATIONS) <= log.operations  # each answered, in botocore's shapes


def test_the_endpoint_keeps_msk_topic_api_rules(
    wire: Wire, endpoint: MskServer, topic_prefix: str
) -> None:
    client, _, arn = wire
    name = f"{topic_prefix}a"
    client.create_topic(ClusterArn=arn, TopicName=name, PartitionCount=1, ReplicationFactor=1)
    settle()
    code, status, _ = error_of(
        client.create_topic, ClusterArn=arn, TopicName=name, PartitionCount=1, ReplicationFactor=1
    )
    assert (code, status) == ("TopicExistsException", 409)
    code, status, text = error_of(
        client.update_topic,
        ClusterArn=arn,
        TopicName=name,
        PartitionCount=2,
        Configs=encode_configs({"retention.ms": "1000"}),
    )
    assert (code, status) == ("BadRequestException", 400) and "not both" in text
    code, _, text = error_of(client.update_topic, ClusterArn=arn, TopicName=name, PartitionCount=1)
    assert code == "BadRequestException" and "INVALID_PARTITIONS" in text  # Kafka's refusal
    code, status, _ = error_of(client.delete_topic, ClusterArn=arn, TopicName=f"{name}-none")
    assert (code, status) == ("NotFoundException", 404)
    code, status, _ = error_of(
        client.create_topic,
        ClusterArn=arn,
        TopicName=f"{name}-rf",
        PartitionCount=1,
        ReplicationFactor=9,
    )
    assert (code, status) == ("BadRequestException", 400)
    code, _, _ = error_of(
        client.describe_topic, ClusterArn=arn, TopicName=f"{topic_prefix}created-just-now"
    )
    assert code == "NotFoundException"

    old = client.create_cluster_v2(
        ClusterName=f"{topic_prefix}old",
        Provisioned={
            "KafkaVersion": "3.5.1",
            "NumberOfBrokerNodes": 3,
            "BrokerNodeGroupInfo": {
                "InstanceType": "kafka.m5.large",
                "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
            },
        },
    )["ClusterArn"]
    endpoint.advance_clock(60)
    code, _, text = error_of(client.list_topics, ClusterArn=old)
    assert code == "BadRequestException" and "3.6.0 or later" in text and "3.5.1" in text


def write_env(directory: Path, *topics: str, cluster: str = "local", prefix: str = "") -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "environment.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: Environment\nmetadata: {{name: {directory.name}}}\n"
        "spec:\n"
        f"  kafka: {{api: msk}}\n  msk: {{region: {REGION}, clusterName: {cluster}}}\n"
        f'  topics:\n    manage: ["{prefix}*"]\n',
        encoding="utf-8",
    )
    (directory / "topics.yaml").write_text("".join(topics), encoding="utf-8")
    return directory


def run(endpoint: MskServer, *args: str) -> Result:
    env = {"AWS_ENDPOINT_URL_KAFKA": endpoint.endpoint_url, "KAFKA_BOOTSTRAP_SERVERS": ""}
    return CliRunner().invoke(main, list(args), env=env)


def test_a_cluster_before_kafka_3_6_is_refused_with_the_way_out(
    endpoint: MskServer, tmp_path: Path, topic_prefix: str
) -> None:
    client = kafka_client(REGION, endpoint_url=endpoint.endpoint_url)
    client.create_cluster_v2(
        ClusterName=f"{topic_prefix}seed",
        Provisioned={
            "KafkaVersion": "3.5.1",
            "NumberOfBrokerNodes": 2,
            "BrokerNodeGroupInfo": {
                "InstanceType": "kafka.t3.small",
                "ClientSubnets": ["subnet-a", "subnet-b"],
            },
        },
    )
    endpoint.advance_clock(60)  # ACTIVE
    env_dir = write_env(
        tmp_path / "env",
        topic_doc(f"{topic_prefix}a", 1, 1),
        cluster=f"{topic_prefix}seed",
        prefix=topic_prefix,
    )
    result = run(endpoint, "plan", str(env_dir))
    assert result.exit_code == 1
    assert "runs Kafka 3.5.1, and MSK's topic API needs 3.6.0 or later" in result.output
    assert "kafka.api: kafka" in result.output and "upgrade the cluster" in result.output
    doctor = run(endpoint, "doctor", str(env_dir))
    assert doctor.exit_code == 1
    assert "MSK topic API" in doctor.output and "needs 3.6.0 or later" in doctor.output


def test_doctor_checks_the_topic_api_not_the_brokers(
    endpoint: MskServer, tmp_path: Path, topic_prefix: str
) -> None:
    env_dir = write_env(tmp_path / "env", topic_doc(f"{topic_prefix}a", 1, 1), prefix=topic_prefix)
    doctor = run(endpoint, "doctor", str(env_dir))
    assert doctor.exit_code == 0, doctor.output
    assert "MSK topic API" in doctor.output and "ListTopics answered" in doctor.output
    assert "needs no network path to the brokers" in doctor.output


def test_a_write_msk_refuses_fails_at_apply_and_the_rest_applies(
    endpoint: MskServer,
    tmp_path: Path,
    topic_prefix: str,
    wait_until: WaitUntil,
    kafka_version: str,
) -> None:
    """No validate-only form: the plan says so, and apply reports the refusal per topic."""
    p = topic_prefix
    refused = (
        topic_doc(f"{p}tiered", 1, 1, remote_log_copy_disable=True)
        if kafka_version.startswith("3.5.")
        else topic_doc(f"{p}tiered", 1, 1, remote_storage_enable=True)
    )
    env_dir = write_env(tmp_path / "env", topic_doc(f"{p}good", 1, 1), refused, prefix=p)
    plan = run(endpoint, "plan", str(env_dir), "-o", "json", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    data = json.loads(plan.stdout)
    assert {c["risk"] for c in data["changes"]} == {"safe"}
    assert any("no validate-only mode" in w for w in data["warnings"])
    applied = run(endpoint, "apply", str(env_dir), "--auto-approve")
    assert applied.exit_code == 1
    assert f"{p}tiered" in applied.output and "create failed" in applied.output
    wait_until(lambda a: prefixed(a, p) == {f"{p}good": 1})


def test_apply_waits_for_msk_to_show_its_writes_then_plans_nothing(
    endpoint: MskServer, tmp_path: Path, topic_prefix: str, wait_until: WaitUntil
) -> None:
    p = topic_prefix

    def specs(partitions: int, retention: str) -> Path:
        return write_env(
            tmp_path / "env",
            topic_doc(f"{p}a", partitions, 2, retention_ms=retention),
            topic_doc(f"{p}b", 1, 3, cleanup_policy="compact"),
            prefix=p,
        )

    env_dir = specs(2, "1h")
    applied = run(endpoint, "apply", str(env_dir), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "the plan is now empty" in applied.output
    plan = run(endpoint, "plan", str(env_dir), "--detailed-exitcode")  # at once: MSK caught up
    assert plan.exit_code == 0, plan.output
    env_dir = specs(4, "2h")
    changed = run(endpoint, "apply", str(env_dir), "--auto-approve")
    assert changed.exit_code == 0, changed.output
    assert "update config, add partitions" in changed.output  # two UpdateTopic calls
    wait_until(lambda a: prefixed(a, p) == {f"{p}a": 4, f"{p}b": 1})
    wait_until(lambda a: describe(a, f"{p}a")["retention.ms"].value == "7200000")
    assert run(endpoint, "plan", str(env_dir), "--detailed-exitcode").exit_code == 0


def test_import_through_msk_then_the_first_plan_is_empty(
    endpoint: MskServer, tmp_path: Path, topic_prefix: str
) -> None:
    """MSK names no config sources: import declares every value other than Kafka's default,
    which plans nothing (a value the topic already has)."""
    p = topic_prefix
    seed = write_env(
        tmp_path / "seed",
        topic_doc(f"{p}orders", 3, 2, retention_ms="3d", compression_type="zstd"),
        topic_doc(f"{p}plain", 1, 1),
        prefix=p,
    )
    assert run(endpoint, "apply", str(seed), "--auto-approve").exit_code == 0
    env_dir = write_env(tmp_path / "env", prefix=p)
    (env_dir / "topics.yaml").unlink()
    imported = run(endpoint, "import", str(env_dir))  # what spec.topics.manage owns
    assert imported.exit_code == 0, imported.output
    written = (env_dir / "topics.yaml").read_text(encoding="utf-8")
    assert "retention.ms: 3d" in written and "compression.type: zstd" in written
    assert "segment.bytes" not in written  # Kafka's default: not declared
    plan = run(endpoint, "plan", str(env_dir), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
