"""`reconciler outputs` in every format, on clusters of the local MSK endpoint created through
boto3: the seed's ZooKeeper-mode TLS cluster and a KRaft cluster with SCRAM and IAM."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.clients.aws import Service, kafka_client
from reconciler.kinds.msk_cluster.fields import create_request
from reconciler.kinds.msk_cluster.spec import parse_cluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.unit.test_msk_spec import seed

REGION = "eu-central-1"
PLAIN, SECURE = "127.0.0.1:19092,127.0.0.1:19093", "127.0.0.1:19193,127.0.0.1:19194"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MskServer]:
    with start_msk_server(
        kafka_bootstrap=PLAIN, kafka_tls_bootstrap=SECURE, operation_seconds=0.2
    ) as server:
        client = kafka_client(REGION, server.endpoint_url)
        msk = Service(client, "MSK")
        kraft = seed(
            kafkaVersion="3.9.x.kraft",
            clientAuthentication={"sasl": {"scram": True, "iam": True}},
        )
        kraft["metadata"]["name"] = "kraft"
        for doc in (seed(), kraft):
            spec = parse_cluster(doc)
            msk.call("create_cluster_v2", ClusterName=spec.name, Provisioned=create_request(spec))
        deadline = time.monotonic() + 30
        while {c["State"] for c in client.list_clusters_v2()["ClusterInfoList"]} != {"ACTIVE"}:
            assert time.monotonic() < deadline, "the clusters never became ACTIVE"
            time.sleep(0.1)
        yield server


def environment(tmp_path: Path, cluster: str, kafka: str) -> Path:
    env = tmp_path / cluster
    env.mkdir(exist_ok=True)
    (env / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\nspec:\n"
        f"  kafka: {kafka}\n  msk: {{region: {REGION}, clusterName: {cluster}}}\n",
        encoding="utf-8",
    )
    return env


def run(endpoint: MskServer, *args: str) -> Result:
    env = {"AWS_ENDPOINT_URL_KAFKA": endpoint.endpoint_url, "CA_BUNDLE": ""}
    return CliRunner().invoke(main, ["outputs", *args], env=env)


def test_text_and_json_are_what_terraform_output_gives(endpoint: MskServer, tmp_path: Path) -> None:
    env = environment(tmp_path, "malawi-pg-kafka-cluster", "{securityProtocol: SSL}")
    text = run(endpoint, str(env))
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert f'bootstrap_brokers_tls = "{SECURE}"' in lines
    assert 'kafka_version = "3.5.1"' in lines
    assert 'state = "ACTIVE"' in lines
    assert lines == sorted(lines)  # one `name = "value"` per line, as terraform prints them
    zookeeper = next(line for line in lines if line.startswith("zookeeper_connect_string ="))
    assert zookeeper.endswith(':2181"') and zookeeper.count(":2181") == 3
    assert not any(line.startswith("bootstrap_brokers =") for line in lines)  # TLS only
    document = json.loads(run(endpoint, str(env), "--format", "json").output)
    assert document["arn"].startswith(f"arn:aws:kafka:{REGION}:")
    assert document["cluster_uuid"] == document["arn"].rsplit("/", 1)[-1]
    assert document["zookeeper_connect_string_tls"].endswith(":2182")
    assert set(document) >= {"current_version", "cluster_name", "bootstrap_brokers_tls"}


def test_properties_and_env_are_the_seeds_hand_written_client_settings(
    endpoint: MskServer, tmp_path: Path
) -> None:
    kafka = '{securityProtocol: SSL, caFile: "${CA_BUNDLE:-/etc/msk/ca.pem}"}'
    env = environment(tmp_path, "malawi-pg-kafka-cluster", kafka)
    properties = run(endpoint, str(env), "-f", "properties")
    assert properties.exit_code == 0, properties.output
    assert properties.output.splitlines()[1:] == [
        f"bootstrap.servers={SECURE}",
        "security.protocol=SSL",
        "ssl.truststore.type=PEM",
        "ssl.truststore.location=/etc/msk/ca.pem",
    ]
    pod = run(endpoint, str(env), "-f", "env")
    assert pod.output == f"KAFKA_BOOTSTRAP_SERVERS={SECURE}\nKAFKA_SECURITY_PROTOCOL=SSL\n"


def test_a_kraft_cluster_has_no_zookeeper_and_each_sasl_listener_its_settings(
    endpoint: MskServer, tmp_path: Path
) -> None:
    scram = "{securityProtocol: SASL_SSL, sasl: {mechanism: SCRAM-SHA-512}}"
    env = environment(tmp_path, "kraft", scram)
    text = run(endpoint, str(env)).output
    assert "zookeeper" not in text
    assert f'bootstrap_brokers_sasl_scram = "{SECURE}"' in text
    assert f'bootstrap_brokers_sasl_iam = "{SECURE}"' in text
    pod = run(endpoint, str(env), "-f", "env").output
    assert pod.splitlines()[1:] == [
        "KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        "KAFKA_SASL_MECHANISM=SCRAM-SHA-512",
    ]
    iam = run(endpoint, str(env), "-f", "properties", "--listener", "sasl_iam").output
    assert "sasl.mechanism=AWS_MSK_IAM" in iam.splitlines()
    assert "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;" in iam


def test_what_cannot_be_given_says_what_to_do(endpoint: MskServer, tmp_path: Path) -> None:
    plaintext = environment(tmp_path, "malawi-pg-kafka-cluster", "{securityProtocol: PLAINTEXT}")
    refused = run(endpoint, str(plaintext), "-f", "properties")
    assert refused.exit_code == 1
    assert "has no listener for securityProtocol PLAINTEXT (it has: tls)" in refused.output
    assert "pass --listener with one of those" in refused.output
    missing = run(endpoint, str(plaintext), "-f", "env", "--listener", "sasl_iam")
    assert "has no sasl_iam listener (it has: tls)" in missing.output
    nowhere = environment(tmp_path, "no-such-cluster", "{securityProtocol: SSL}")
    absent = run(endpoint, str(nowhere))
    assert absent.exit_code == 1
    assert "MSK has no cluster 'no-such-cluster' in eu-central-1" in absent.output
