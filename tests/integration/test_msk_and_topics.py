"""One plan for the MSK cluster and its topics, applied in order, on the local MSK endpoint
(driven by the real boto3 client) and the real local Kafka cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.local.msk.endpoint import LOCAL_CLUSTER, ensure_cluster
from reconciler.local.msk.server import MskServer, start_msk_server

pytestmark = pytest.mark.integration


@pytest.fixture
def endpoint(bootstrap_servers: str) -> Iterator[MskServer]:
    server = start_msk_server(kafka_bootstrap=bootstrap_servers, operation_seconds=0.3)
    ensure_cluster(server.endpoint_url, brokers=3)
    yield server
    server.stop()


def write_env(directory: Path, prefix: str, storage: int, partitions: int) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: both}\nspec:\n"
        "  kafka: {securityProtocol: PLAINTEXT}\n"
        f"  msk: {{region: eu-central-1, clusterName: {LOCAL_CLUSTER}}}\n"
        f"  topics: {{manage: ['{prefix}*']}}\n",
        encoding="utf-8",
    )
    (directory / "cluster.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: MskCluster\nmetadata: {{name: {LOCAL_CLUSTER}}}\n"
        "spec:\n  kafkaVersion: 3.9.x\n  brokers:\n    instanceType: kafka.m5.large\n"
        "    count: 3\n    clientSubnets: [subnet-local-a, subnet-local-b, subnet-local-c]\n"
        f"    storage: {{volumeSizeGiB: {storage}}}\n"
        "  encryption: {inTransit: {clientBroker: TLS_PLAINTEXT, inCluster: true}}\n"
        "  serverProperties: {min.insync.replicas: 2}\n",
        encoding="utf-8",
    )
    (directory / "topics.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {prefix}orders}}\n"
        f"spec: {{partitions: {partitions}, replicationFactor: 3}}\n",
        encoding="utf-8",
    )
    return directory


def test_cluster_and_topics_plan_together_apply_in_order_and_converge(
    endpoint: MskServer, topic_prefix: str, tmp_path: Path
) -> None:
    env = {"AWS_ENDPOINT_URL_KAFKA": endpoint.endpoint_url, "KAFKA_BOOTSTRAP_SERVERS": ""}
    runner = CliRunner()
    env_dir = write_env(tmp_path / "both", topic_prefix, storage=200, partitions=3)

    planned = runner.invoke(main, ["plan", str(env_dir), "-o", "json"], env=env)
    assert planned.exit_code == 0, planned.output
    changes = json.loads(planned.stdout)["changes"]
    kinds = [(c["kind"], c["operation"]) for c in changes]
    assert kinds == [
        ("MskCluster", "UpdateBrokerStorage"),
        ("MskCluster", "CreateConfiguration"),
        ("MskCluster", "UpdateClusterConfiguration"),
        ("Topic", None),
    ]

    applied = runner.invoke(
        main, ["apply", str(env_dir), "--auto-approve", "--poll-seconds", "0.1"], env=env
    )
    assert applied.exit_code == 0, applied.output
    log = applied.output
    assert (
        log.index("UpdateBrokerStorage: complete")
        < log.index("UpdateClusterConfiguration started")
        < log.index("create: 1 of 1 succeeded")
    )

    again = runner.invoke(main, ["plan", str(env_dir), "--detailed-exitcode"], env=env)
    assert again.exit_code == 0, again.output

    shrink = write_env(tmp_path / "both", topic_prefix, storage=150, partitions=3)
    refused = runner.invoke(main, ["plan", str(shrink)], env=env)
    assert refused.exit_code == 1
    assert "storage" in refused.output.lower() and "impossible" in refused.output


def test_a_cluster_to_create_is_planned_even_where_the_specs_name_its_brokers(
    endpoint: MskServer, topic_prefix: str, tmp_path: Path
) -> None:
    """bootstrapServers written ahead (the brokers' future DNS names): until MSK has the
    cluster, the plan creates it and leaves the topics for later, as without them."""
    env = {"AWS_ENDPOINT_URL_KAFKA": endpoint.endpoint_url, "KAFKA_BOOTSTRAP_SERVERS": ""}
    env_dir = write_env(tmp_path / "both", topic_prefix, storage=200, partitions=3)
    environment = env_dir / "environment.yaml"
    text = environment.read_text(encoding="utf-8").replace(
        "kafka: {securityProtocol: PLAINTEXT}",
        "kafka: {securityProtocol: PLAINTEXT, bootstrapServers: '127.0.0.1:1', timeoutSeconds: 2}",
    )
    new = f"{topic_prefix}new"
    environment.write_text(text.replace(f"clusterName: {LOCAL_CLUSTER}", f"clusterName: {new}"))
    cluster = env_dir / "cluster.yaml"
    cluster.write_text(cluster.read_text(encoding="utf-8").replace(LOCAL_CLUSTER, new))
    planned = CliRunner().invoke(main, ["plan", str(env_dir), "-o", "json"], env=env)
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert [c["operation"] for c in plan["changes"]] == ["CreateConfiguration", "CreateClusterV2"]
    assert any("does not exist yet" in w and "topics" in w for w in plan["warnings"])
