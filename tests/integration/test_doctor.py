"""`reconciler doctor` on a real local broker with TLS, SASL/SCRAM and Kafka's authorizer, the
local MSK endpoint (driven through boto3) and moto's EC2 for the security groups: every check
passing once, then each failing check provoked once, with what to do."""

from __future__ import annotations

import copy
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from reconciler.cli import main
from reconciler.clients.aws import Service, ec2_client, kafka_client
from reconciler.kinds.msk_cluster.fields import create_request
from reconciler.kinds.msk_cluster.spec import parse_cluster
from reconciler.local.kafka.cluster import down, up
from reconciler.local.kafka.state import LocalCluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.conftest import TEST_KAFKA_VERSION
from tests.unit.test_msk_spec import SEED_DOC

pytestmark = pytest.mark.integration

REGION = "eu-central-1"
LIMITED = ("limited", "limited-password-1")


@dataclass
class Site:
    """A secured broker, an MSK endpoint whose clusters point at it, EC2 in moto."""

    kafka: LocalCluster
    msk: MskServer
    moto_url: str
    groups: dict[str, str]  # "open" / "closed" -> security group id

    def environ(self, **overrides: str) -> dict[str, str]:
        values = {
            "AWS_ENDPOINT_URL_KAFKA": self.msk.endpoint_url,
            "AWS_ENDPOINT_URL_EC2": self.moto_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "DOCTOR_BOOTSTRAP": str(self.kafka.sasl_bootstrap_servers),
            "DOCTOR_CA": str(self.kafka.ca_file),
            "DOCTOR_USER": str(self.kafka.sasl_username),
            "DOCTOR_PASSWORD": str(self.kafka.sasl_password),
        }
        return {**values, **overrides}


def _cluster_doc(name: str, group: str) -> dict[str, Any]:
    doc = copy.deepcopy(SEED_DOC)
    doc["metadata"]["name"] = name
    doc["spec"]["brokers"]["securityGroups"] = [group]
    doc["spec"]["clientAuthentication"] = {"unauthenticated": False, "sasl": {"scram": True}}
    return doc


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> Iterator[Site]:
    state = tmp_path_factory.mktemp("doctor-kafka")
    kafka = up(state, brokers=1, version=TEST_KAFKA_VERSION, tls=True, sasl=True)
    sasl_port = int(str(kafka.sasl_bootstrap_servers).rsplit(":", 1)[1])
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ACCESS_KEY_ID", "local")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    try:
        ec2 = ec2_client(REGION, moto_url)
        groups = {}
        for label, cidr in (("open", "127.0.0.0/8"), ("closed", "10.0.0.0/16")):
            group = ec2.create_security_group(GroupName=f"msk-{label}", Description="brokers")
            ec2.authorize_security_group_ingress(
                GroupId=group["GroupId"],
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": sasl_port,
                        "ToPort": sasl_port,
                        "IpRanges": [{"CidrIp": cidr}],
                    }
                ],
            )
            groups[label] = group["GroupId"]
        with start_msk_server(
            kafka_bootstrap=kafka.bootstrap_servers,
            kafka_tls_bootstrap=kafka.sasl_bootstrap_servers,
            operation_seconds=0.2,
        ) as msk:
            api = Service(kafka_client(REGION, msk.endpoint_url), "MSK")
            for name, label in (("doctor", "open"), ("doctor-closed", "closed")):
                spec = parse_cluster(_cluster_doc(name, groups[label]))
                api.call("create_cluster_v2", ClusterName=name, Provisioned=create_request(spec))
            deadline = time.monotonic() + 30
            while {c["State"] for c in api.call("list_clusters_v2")["ClusterInfoList"]} != {
                "ACTIVE"
            }:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            _limited_user(kafka)
            yield Site(kafka, msk, moto_url, groups)
    finally:
        patch.undo()
        down(state)


def _limited_user(kafka: LocalCluster) -> None:
    """A SCRAM user that may not read configs: a DENY ACL on the cluster (plaintext is a super
    user on the local cluster, so it may set this up); and the declared topic, so the doctor
    asks to alter it."""
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
    admin.create_topics([NewTopic("doctor-orders", 1, 1)])["doctor-orders"].result()
    credential = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
    upsert = UserScramCredentialUpsertion(LIMITED[0], credential, LIMITED[1].encode())
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result()
    deny = AclBinding(
        ResourceType.BROKER, "kafka-cluster", ResourcePatternType.LITERAL, f"User:{LIMITED[0]}",
        "*", AclOperation.DESCRIBE_CONFIGS, AclPermissionType.DENY,
    )  # fmt: skip
    for future in admin.create_acls([deny]).values():
        future.result()


def write_env(parent: Path, cluster: str = "doctor", protocol: str = "SASL_SSL") -> Path:
    root = parent / "doctor"  # an environment is named after its directory
    root.mkdir(parents=True, exist_ok=True)
    sasl = (
        '  sasl: {mechanism: SCRAM-SHA-512, username: "${DOCTOR_USER}", '
        'password: "${DOCTOR_PASSWORD}"}\n'
        if protocol.startswith("SASL")
        else ""
    )
    (root / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: doctor}\nspec:\n"
        "  kafka:\n"
        '    bootstrapServers: "${DOCTOR_BOOTSTRAP}"\n'
        f"    securityProtocol: {protocol}\n"
        '    caFile: "${DOCTOR_CA:-}"\n'
        "    timeoutSeconds: 5\n"
        f"{'  ' + sasl if sasl else ''}"
        f"  msk: {{region: {REGION}, clusterName: {cluster}}}\n",
        encoding="utf-8",
    )
    (root / "topics.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: doctor-orders}\n"
        "spec: {partitions: 1, replicationFactor: 1}\n",
        encoding="utf-8",
    )
    return root


def doctor(site: Site, env: Path, **overrides: str) -> Result:
    return CliRunner().invoke(main, ["doctor", str(env)], env=site.environ(**overrides))


def line(result: Result, check: str) -> str:
    """The line of one check (the status word, then its name)."""
    found = [x for x in result.output.splitlines() if x[11:].startswith(check)]
    assert found, f"no {check!r} line in:\n{result.output}"
    return found[0].strip()


def failed(result: Result, check: str) -> str:
    """The line of a check that failed, in a run that exits 1 for it."""
    assert result.exit_code == 1, result.output
    found = line(result, check)
    assert found.startswith(f"FAILED   {check}"), found
    return found


def test_every_check_passes_on_a_healthy_secured_cluster(site: Site, tmp_path: Path) -> None:
    result = doctor(site, write_env(tmp_path / "ok"))
    assert result.exit_code == 0, result.output
    address = str(site.kafka.sasl_bootstrap_servers)
    assert line(result, "MSK cluster").startswith("ok       MSK cluster: ACTIVE, no operation")
    assert line(result, "DNS 127.0.0.1") == "ok       DNS 127.0.0.1: 127.0.0.1"
    assert line(result, f"TCP {address}").startswith(f"ok       TCP {address}: connected in")
    assert "speaks TLS, as securityProtocol SASL_SSL needs" in line(result, "listener")
    tls = line(result, f"TLS {address}")
    assert tls.startswith("ok") and "issued by CN=reconciler local CA" in tls
    assert f"verified by caFile {site.kafka.ca_file} (CA CN=reconciler local CA)" in tls
    sasl = line(result, "SASL authentication")
    assert sasl.startswith("ok       SASL authentication: SCRAM-SHA-512 as reconciler: accepted")
    permissions = line(result, "permissions")
    assert permissions == (
        "ok       permissions: describe configs, describe ACLs, create topics, alter topic "
        "configs allowed (validate-only: nothing written)"
    )
    groups = line(result, "security groups")
    assert groups == (
        f"ok       security groups: {site.groups['open']} admit this runner (127.0.0.1) on tcp "
        f"{address.rsplit(':', 1)[1]} (127.0.0.0/8 tcp {address.rsplit(':', 1)[1]})"
    )
    assert "some checks failed" not in result.output and "FAILED" not in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_missing_msk_cluster_fails_and_says_what_to_do(site: Site, tmp_path: Path) -> None:
    result = doctor(site, write_env(tmp_path / "e", cluster="no-such-cluster"))
    assert result.exit_code == 1
    assert line(result, "MSK cluster") == (
        "FAILED   MSK cluster: no cluster 'no-such-cluster' in eu-central-1"
    )
    assert "what to do: fix spec.msk (clusterName, region)" in result.output
    assert line(result, "security groups").startswith("skipped")


def test_dns_and_tcp_failures(site: Site, tmp_path: Path) -> None:
    env = write_env(tmp_path / "e")
    unknown = doctor(site, env, DOCTOR_BOOTSTRAP="no-such-broker.invalid:9096")
    assert unknown.exit_code == 1
    assert line(unknown, "DNS no-such-broker.invalid").startswith("FAILED   DNS")
    assert "resolve only inside its VPC" in unknown.output
    assert line(unknown, "SASL authentication").startswith("skipped")
    closed = doctor(site, env, DOCTOR_BOOTSTRAP=f"127.0.0.1:{_free_port()}")
    assert closed.exit_code == 1
    assert "connection refused" in line(closed, "TCP 127.0.0.1")


def test_a_listener_that_does_not_fit_security_protocol(site: Site, tmp_path: Path) -> None:
    plaintext = site.kafka.bootstrap_servers.split(",")[0]
    result = doctor(site, write_env(tmp_path / "e"), DOCTOR_BOOTSTRAP=plaintext)
    assert result.exit_code == 1
    assert line(result, "listener") == (
        f"FAILED   listener {plaintext}: it speaks plaintext; securityProtocol SASL_SSL expects TLS"
    )
    assert line(result, f"TLS {plaintext}").startswith("skipped")


def test_a_certificate_the_runner_does_not_trust(site: Site, tmp_path: Path) -> None:
    result = doctor(site, write_env(tmp_path / "e"), DOCTOR_CA="")
    assert "certificate" in failed(result, "TLS 127.0.0.1")
    assert "what to do: set spec.kafka.caFile to the CA bundle" in result.output


def test_a_refused_sasl_login(site: Site, tmp_path: Path) -> None:
    result = doctor(site, write_env(tmp_path / "e"), DOCTOR_PASSWORD="not-the-password")
    assert "Authentication failed" in failed(result, "SASL authentication")
    assert "the brokers refused the SASL login: check kafka.sasl.username" in result.output
    assert line(result, "permissions").startswith("skipped")


def test_a_user_without_the_permissions_the_reconciler_needs(site: Site, tmp_path: Path) -> None:
    result = doctor(
        site, write_env(tmp_path / "e"), DOCTOR_USER=LIMITED[0], DOCTOR_PASSWORD=LIMITED[1]
    )
    permissions = failed(result, "permissions")
    assert permissions.startswith("FAILED   permissions: describe configs refused")
    assert "CLUSTER_AUTHORIZATION_FAILED" in permissions
    assert "grant User:limited DescribeConfigs on the cluster" in result.output
    assert "kafka-cluster:DescribeClusterDynamicConfiguration" in result.output


def test_security_groups_that_do_not_admit_this_runner(site: Site, tmp_path: Path) -> None:
    result = doctor(site, write_env(tmp_path / "e", cluster="doctor-closed"))
    groups = failed(result, "security groups")
    assert groups.startswith(
        f"FAILED   security groups: no inbound rule of {site.groups['closed']} admits this "
        "runner (127.0.0.1)"
    )
    assert "10.0.0.0/16" in groups
    assert f"authorize-security-group-ingress --group-id {site.groups['closed']}" in result.output


def test_an_msk_operation_in_flight_is_a_warning_not_a_failure(site: Site, tmp_path: Path) -> None:
    api = kafka_client(REGION, site.msk.endpoint_url)
    arn = api.list_clusters_v2(ClusterNameFilter="doctor")["ClusterInfoList"][0]["ClusterArn"]
    version = api.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    site.msk.backend.operation_seconds = 600  # someone else's long update...
    try:
        api.update_monitoring(
            ClusterArn=arn, CurrentVersion=version, EnhancedMonitoring="PER_BROKER"
        )
        result = doctor(site, write_env(tmp_path / "e"))
    finally:
        site.msk.backend.operation_seconds = 0.2
        site.msk.advance_clock(601)  # ...which then ends
    assert result.exit_code == 0, result.output
    running = line(result, "MSK cluster")
    assert running.startswith("warn     MSK cluster: UPDATING: UPDATE_MONITORING in flight since")
    assert "apply waits for it. Run doctor again when it is done" in result.output
