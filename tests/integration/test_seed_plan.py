"""The seed cluster's own plan: specs/dev against a local MSK endpoint holding the seed's
Kafka 3.5.1 cluster (created through boto3 as it runs today), the real local Kafka cluster
behind its TLS listener, and CloudWatch Logs in moto. The plan says the version is past MSK's
end of support with the upgrade path, and shows the monthly cost, in text, markdown and JSON."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator

from reconciler.cli import main
from reconciler.clients.aws import Service, kafka_client
from reconciler.kinds.msk_cluster.fields import create_request
from reconciler.kinds.msk_cluster.spec import parse_cluster
from reconciler.local.kafka.state import LocalCluster
from reconciler.local.msk.server import MskServer, start_msk_server
from reconciler.render import plan_schema

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-central-1"
END_OF_SUPPORT = "Kafka 3.5.1 (the cluster's version) reached the end of MSK support on 2025-10-23"
COST = "MskCluster malawi-pg-kafka-cluster (eu-central-1): $107.60 -> $107.60 (no change)"


@pytest.fixture
def seed_endpoint(kafka_cluster: LocalCluster, moto_url: str) -> Iterator[MskServer]:
    """The seed cluster (specs/dev/cluster.yaml) as MSK holds it: Kafka 3.5.1, ACTIVE."""
    reset = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    with start_msk_server(
        kafka_bootstrap=kafka_cluster.bootstrap_servers,
        kafka_tls_bootstrap=kafka_cluster.ssl_bootstrap_servers,
        operation_seconds=0.2,
    ) as server:
        spec = parse_cluster(yaml.safe_load((REPO / "specs/dev/cluster.yaml").read_text()))
        msk = Service(kafka_client(REGION, server.endpoint_url), "MSK")
        msk.call("create_cluster_v2", ClusterName=spec.name, Provisioned=create_request(spec))
        deadline = time.monotonic() + 30
        while msk.call("list_clusters_v2")["ClusterInfoList"][0]["State"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield server


def plan(
    endpoint: MskServer, cluster: LocalCluster, moto_url: str, env_dir: Path, *args: str
) -> Result:
    env = {
        "AWS_ENDPOINT_URL_KAFKA": endpoint.endpoint_url,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "MSK_DEV_BOOTSTRAP_SERVERS": str(cluster.ssl_bootstrap_servers),
        "MSK_DEV_CA_FILE": str(cluster.ca_file),
    }
    return CliRunner().invoke(main, ["plan", str(env_dir), *args], env=env)


def test_the_seed_plan_warns_of_the_end_of_support_and_shows_the_cost(
    seed_endpoint: MskServer, kafka_cluster: LocalCluster, moto_url: str
) -> None:
    dev = REPO / "specs/dev"
    text = plan(seed_endpoint, kafka_cluster, moto_url, dev)
    assert text.exit_code == 0, text.output
    assert END_OF_SUPPORT in text.output
    assert "upgrade path (GetCompatibleKafkaVersions): 3.8.x, 3.9.x; MSK recommends 3.8.x" in (
        text.output
    )
    assert "Monthly cost (USD, estimated from list prices" in text.output
    assert COST in text.output
    assert "brokers: 1,460 kafka.t3.small broker-hours x $0.06 = $87.60" in text.output
    assert "storage: 200 GB-months x $0.10 = $20.00" in text.output

    markdown = plan(seed_endpoint, kafka_cluster, moto_url, dev, "-o", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert END_OF_SUPPORT in markdown.output
    assert COST.replace("->", "-\\>") in markdown.output

    document = json.loads(plan(seed_endpoint, kafka_cluster, moto_url, dev, "-o", "json").output)
    Draft202012Validator(plan_schema()).validate(document)
    assert any(w.startswith(END_OF_SUPPORT) for w in document["warnings"])
    [cost] = document["costs"]
    assert (cost["before"]["monthly"], cost["after"]["monthly"]) == (107.6, 107.6)
    assert cost["source"].startswith("msk-prices.json: the seed document's cost table")


def test_the_policy_makes_the_unsupported_version_an_error_with_the_way_out(
    seed_endpoint: MskServer, kafka_cluster: LocalCluster, moto_url: str, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    shutil.copytree(REPO / "specs/dev", tmp_path / "specs/dev")
    shutil.copytree(REPO / "specs/shared", tmp_path / "specs/shared")
    environment = tmp_path / "specs/dev/environment.yaml"
    text = environment.read_text(encoding="utf-8")
    environment.write_text(text.replace("endOfSupport: warn", "endOfSupport: error"))
    refused = plan(seed_endpoint, kafka_cluster, moto_url, tmp_path / "specs/dev")
    assert refused.exit_code == 1
    assert "! MskCluster malawi-pg-kafka-cluster (update, impossible)" in refused.output
    assert "kafkaVersion: 3.5.1 -> 3.5.1" in refused.output
    assert "policy.endOfSupport is error. Way out: set kafkaVersion to a supported" in (
        refused.output
    )
    upgraded = tmp_path / "specs/dev/cluster.yaml"
    upgraded.write_text(upgraded.read_text().replace("kafkaVersion: 3.5.1", "kafkaVersion: 3.8.x"))
    allowed = plan(seed_endpoint, kafka_cluster, moto_url, tmp_path / "specs/dev")
    assert allowed.exit_code == 0, allowed.output
    assert "[UpdateClusterKafkaVersion] (disruptive)" in allowed.output
    assert "This plan upgrades it to 3.8.x" in allowed.output
