"""SCRAM users on MSK: secrets in (moto's) Secrets Manager, associated with a cluster of the
local MSK endpoint through real boto3, which makes the credential on the real local broker.
Only this environment's secrets are associated or disassociated; MSK's rules are checked."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import AdminClient, NewTopic

from reconciler.cli import main
from reconciler.clients.aws import kafka_client
from reconciler.local.kafka.state import LocalCluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.integration.test_access import produce_error

pytestmark = pytest.mark.integration

REGION = "eu-central-1"
AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION}


def msk_api(server: MskServer) -> Any:
    """boto3's MSK client on the local endpoint."""
    return kafka_client(REGION, server.endpoint_url)


@pytest.fixture
def msk(secured_cluster: LocalCluster, moto_url: str) -> Iterator[tuple[MskServer, str]]:
    """The local MSK endpoint with one ACTIVE cluster that has SASL/SCRAM on."""
    with start_msk_server(
        kafka_bootstrap=secured_cluster.bootstrap_servers,
        kafka_tls_bootstrap=secured_cluster.sasl_bootstrap_servers,
        operation_seconds=0.1,
        secrets_endpoint=moto_url,
    ) as server:
        kafka = msk_api(server)
        arn = kafka.create_cluster_v2(
            ClusterName="scram",
            Provisioned={
                "KafkaVersion": "3.9.x",
                "NumberOfBrokerNodes": 2,
                "BrokerNodeGroupInfo": {
                    "InstanceType": "kafka.t3.small",
                    "ClientSubnets": ["subnet-1", "subnet-2"],
                    "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
                },
                "ClientAuthentication": {"Sasl": {"Scram": {"Enabled": True}}},
                "EncryptionInfo": {
                    "EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}
                },
            },
        )["ClusterArn"]
        for _ in range(300):
            if kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE":
                break
            time.sleep(0.1)
        yield server, arn


def make_secrets(moto_url: str, user: str, password: str, tag: str) -> tuple[str, str, str]:
    """The user's secret (a customer-managed key), the same under the default key, and
    another team's: their ARNs."""
    aws: dict[str, Any] = {
        "endpoint_url": moto_url,
        "region_name": REGION,
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    key = boto3.client("kms", **aws).create_key(Description="msk users")["KeyMetadata"]["KeyId"]
    manager = boto3.client("secretsmanager", **aws)
    value = json.dumps({"username": user, "password": password})
    mine = manager.create_secret(Name=f"AmazonMSK_{user}", KmsKeyId=key, SecretString=value)["ARN"]
    plain = manager.create_secret(Name=f"AmazonMSK_{user}-plain", SecretString=value)["ARN"]
    other_value = json.dumps({"username": f"team-b-{tag}", "password": "other-password-1"})
    other = manager.create_secret(
        Name=f"AmazonMSK_team-b-{tag}", KmsKeyId=key, SecretString=other_value
    )["ARN"]
    return mine, plain, other


def test_only_this_environments_secrets_are_associated_and_disassociated(
    secured_cluster: LocalCluster, msk: tuple[MskServer, str], moto_url: str, tmp_path: Path
) -> None:
    server, cluster = msk
    tag = secrets.token_hex(3)
    user, password = f"app-{tag}", secrets.token_urlsafe(12)
    mine, plain, other = make_secrets(moto_url, user, password, tag)
    kafka = msk_api(server)
    # another team's user, associated out of band: never touched
    assert (
        kafka.batch_associate_scram_secret(ClusterArn=cluster, SecretArnList=[other])[
            "UnprocessedScramSecrets"
        ]
        == []
    )
    # MSK's own rules, as the endpoint enforces them
    refused = kafka.batch_associate_scram_secret(ClusterArn=cluster, SecretArnList=[plain])
    assert refused["UnprocessedScramSecrets"][0]["ErrorCode"] == "InvalidSecretKey"
    with pytest.raises(kafka.exceptions.BadRequestException):
        kafka.batch_associate_scram_secret(ClusterArn=cluster, SecretArnList=[other] * 11)

    env = tmp_path / "mskusers"
    env.mkdir()

    def write(allow: bool, *users: str) -> None:
        (env / "environment.yaml").write_text(
            "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: mskusers}\nspec:\n"
            "  kafka:\n"
            f'    bootstrapServers: "{secured_cluster.sasl_bootstrap_servers}"\n'
            "    securityProtocol: SASL_PLAINTEXT\n"
            '    sasl: {mechanism: SCRAM-SHA-512, username: "${ADMIN_USER}", '
            'password: "${ADMIN_PASSWORD}"}\n'
            f"  msk: {{region: {REGION}, clusterName: scram}}\n"
            f'  access: {{manage: ["User:app-{tag}*"]}}\n'
            f"  policy: {{allowAccessRemoval: {str(allow).lower()}}}\n"
        )
        (env / "users.yaml").write_text(
            "---\n".join(
                f"apiVersion: reconciler/v1\nkind: ScramUser\nmetadata: {{name: {name}}}\n"
                f"spec:\n  awsSecretsManager: {{name: AmazonMSK_{name}}}\n"
                for name in users
            )
        )

    environ = {
        **AWS,
        "AWS_ENDPOINT_URL_KAFKA": server.endpoint_url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
        "ADMIN_USER": str(secured_cluster.sasl_username),
        "ADMIN_PASSWORD": str(secured_cluster.sasl_password),
    }

    def cli(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=environ)

    topic = f"msk-scram-{tag}"
    admin = AdminClient({"bootstrap.servers": secured_cluster.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    assert produce_error(secured_cluster, user, password, topic) is not None  # no such user

    write(False, user, f"{user}-plain")
    blocked = cli("plan", str(env), "--output", "json")
    assert blocked.exit_code == 1
    [refused_change] = [
        c
        for c in json.loads(blocked.output.split("\nerror:")[0])["changes"]
        if c["risk"] == "impossible"
    ]
    assert "Secrets Manager's default key" in refused_change["reasons"][0]

    write(False, user)
    plan = json.loads(cli("plan", str(env), "--output", "json").output)
    assert [(c["name"], c["operation"]) for c in plan["changes"]] == [
        (user, "BatchAssociateScramSecret")
    ]
    applied = cli("apply", str(env), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert cli("plan", str(env), "--detailed-exitcode").exit_code == 0
    assert produce_error(secured_cluster, user, password, topic) is None  # MSK made the user
    assert sorted(kafka.list_scram_secrets(ClusterArn=cluster)["SecretArnList"]) == sorted(
        [mine, other]
    )

    write(False)  # the document goes: kept without permission ...
    kept = json.loads(cli("plan", str(env), "--output", "json").output)
    assert kept["changes"] == [] and [o["name"] for o in kept["orphans"]] == [user]
    write(True)  # ... disassociated with it, and only that secret
    removed = cli("apply", str(env), "--auto-approve")
    assert removed.exit_code == 0, removed.output
    assert kafka.list_scram_secrets(ClusterArn=cluster)["SecretArnList"] == [other]
    assert produce_error(secured_cluster, user, password, topic) is not None
    for text in (blocked.output, applied.output, removed.output):
        assert password not in text
