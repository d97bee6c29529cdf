"""The local MSK endpoint through the unmodified boto3 `kafka` client: MSK's semantics and rules
server-side, and every response checked against botocore's output shapes (test_msk_wire).

No Kafka broker is needed here: the bootstrap strings are only handed back to clients.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from reconciler.clients.aws import kafka_client
from reconciler.core.polling import attempts
from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.backend import IMPLEMENTED, TOPIC_OPERATIONS
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.unit.test_msk_wire import WireLog

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_kafka.type_defs import ConnectivityInfoTypeDef, S3TypeDef

REGION = "eu-central-1"
PLAIN, TLS = "127.0.0.1:19092", "127.0.0.1:19093"
OPERATION_SECONDS = 0.3
#: For the operations a test must catch in flight.
SLOW = 1.5


def seed_request(name: str = "malawi-pg-kafka-cluster", **provisioned: Any) -> dict[str, Any]:
    """CreateClusterV2 for the seed cluster: 2 x kafka.t3.small in 2 AZs, 100 GB, TLS."""
    request: dict[str, Any] = {
        "BrokerNodeGroupInfo": {
            "ClientSubnets": ["subnet-private-a", "subnet-private-b"],
            "InstanceType": "kafka.t3.small",
            "SecurityGroups": ["sg-kafka"],
            "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
        },
        "KafkaVersion": "3.5.1",
        "NumberOfBrokerNodes": 2,
        "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
        "EnhancedMonitoring": "DEFAULT",
        "LoggingInfo": {
            "BrokerLogs": {"CloudWatchLogs": {"Enabled": True, "LogGroup": f"/aws/msk/{name}"}}
        },
    }
    request.update(provisioned)
    return {"ClusterName": name, "Provisioned": request, "Tags": {"Environment": "dev"}}


def wait_active(kafka: KafkaClient, arn: str, timeout: float = 10.0) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for _ in attempts(timeout, 0.05):
        info = dict(kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"])
        if info["State"] == "ACTIVE" and not info.get("ActiveOperationArn"):
            return info
    raise AssertionError(f"cluster still {info['State']}")


def create_active(kafka: KafkaClient, **request: Any) -> tuple[str, str]:
    """A seed-like cluster, ACTIVE: (arn, CurrentVersion)."""
    arn = kafka.create_cluster_v2(**seed_request(**request))["ClusterArn"]
    return arn, wait_active(kafka, arn)["CurrentVersion"]


def refused(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


@pytest.fixture
def msk(monkeypatch: pytest.MonkeyPatch) -> Iterator[MskServer]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    with start_msk_server(
        kafka_bootstrap=PLAIN,
        kafka_tls_bootstrap=TLS,
        operation_seconds=OPERATION_SECONDS,
        storage_cooldown_seconds=3600,
    ) as server:
        yield server


@pytest.fixture
def wire() -> WireLog:
    return WireLog()


@pytest.fixture
def kafka(msk: MskServer, wire: WireLog) -> Iterator[KafkaClient]:
    """A production-configured client on the endpoint; its raw responses are shape-checked."""
    yield wire.attach(kafka_client(REGION, msk.endpoint_url))
    assert wire.problems() == []


def test_create_goes_creating_then_active_and_bootstrap_points_at_local_kafka(
    msk: MskServer, kafka: KafkaClient
) -> None:
    msk.backend.operation_seconds = SLOW  # long enough to look at CREATING on a busy machine
    created = kafka.create_cluster_v2(**seed_request())
    msk.backend.operation_seconds = OPERATION_SECONDS
    assert (created["State"], created["ClusterType"]) == ("CREATING", "PROVISIONED")
    arn = created["ClusterArn"]
    assert arn.startswith(f"arn:aws:kafka:{REGION}:")
    assert refused(kafka.get_bootstrap_brokers, ClusterArn=arn) == (
        "BadRequestException",
        "You can't get bootstrap broker nodes for a cluster in CREATING state.",
    )
    info = wait_active(kafka, arn)
    assert info["Provisioned"]["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.5.1"
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert brokers["BootstrapBrokerStringTls"] == TLS
    assert "BootstrapBrokerString" not in dict(brokers)  # TLS only: no plaintext listener
    plain, _ = create_active(
        kafka,
        name="plain",
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "PLAINTEXT", "InCluster": False}},
    )
    assert kafka.get_bootstrap_brokers(ClusterArn=plain)["BootstrapBrokerString"] == PLAIN
    assert refused(kafka.create_cluster_v2, **seed_request())[0] == "ConflictException"


def test_a_stale_current_version_is_refused_with_msks_message(kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    kafka.update_broker_type(
        ClusterArn=arn, CurrentVersion=version, TargetInstanceType="kafka.m5.large"
    )
    wait_active(kafka, arn)
    assert refused(
        kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=version,
        TargetNumberOfBrokerNodes=4,
    ) == ("BadRequestException", rules.STALE_VERSION)


def test_one_operation_at_a_time(msk: MskServer, kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    msk.backend.operation_seconds = SLOW
    kafka.update_monitoring(ClusterArn=arn, CurrentVersion=version, EnhancedMonitoring="PER_BROKER")
    busy = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    assert busy["State"] == "UPDATING" and busy["ActiveOperationArn"]
    assert busy["CurrentVersion"] != version  # a new version as soon as the update starts
    code, message = refused(
        kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=busy["CurrentVersion"],
        TargetNumberOfBrokerNodes=4,
    )
    assert code == "BadRequestException" and "UPDATING state" in message
    assert wait_active(kafka, arn)["Provisioned"]["EnhancedMonitoring"] == "PER_BROKER"


def test_broker_count_is_a_multiple_of_the_az_count(kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    code, message = refused(
        kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=version,
        TargetNumberOfBrokerNodes=3,
    )
    assert code == "BadRequestException"
    assert "3 brokers cannot be spread evenly over 2 Availability Zones" in message
    code, message = refused(
        kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=version,
        TargetNumberOfBrokerNodes=1,
    )
    assert "only from M5 and M7g clusters" in message
    operation = kafka.update_broker_count(
        ClusterArn=arn, CurrentVersion=version, TargetNumberOfBrokerNodes=4
    )
    assert wait_active(kafka, arn)["Provisioned"]["NumberOfBrokerNodes"] == 4
    info = kafka.describe_cluster_operation_v2(ClusterOperationArn=operation["ClusterOperationArn"])
    assert info["ClusterOperationInfo"]["OperationType"] == "INCREASE_BROKER_COUNT"


def test_storage_only_grows_and_waits_out_the_cooldown(msk: MskServer, kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)

    def grow(size: int, current: str) -> dict[str, Any]:
        return dict(
            kafka.update_broker_storage(
                ClusterArn=arn,
                CurrentVersion=current,
                TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "All", "VolumeSizeGB": size}],
            )
        )

    with pytest.raises(ClientError, match="can't decrease broker storage"):
        grow(50, version)
    grow(200, version)
    version = wait_active(kafka, arn)["CurrentVersion"]
    with pytest.raises(ClientError, match="storage cool-down period"):
        grow(300, version)
    msk.advance_clock(3601)
    grow(300, version)
    ebs = wait_active(kafka, arn)["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]
    assert ebs["EbsStorageInfo"]["VolumeSize"] == 300


def test_an_update_writes_the_blocks_it_carries_and_keeps_the_rest(kafka: KafkaClient) -> None:
    storage = {
        "VolumeSize": 100,
        "ProvisionedThroughput": {"Enabled": True, "VolumeThroughput": 250},
    }
    nodes = dict(
        seed_request()["Provisioned"]["BrokerNodeGroupInfo"],
        InstanceType="kafka.m5.4xlarge",
        StorageInfo={"EbsStorageInfo": storage},
    )
    arn, version = create_active(kafka, BrokerNodeGroupInfo=nodes)
    kafka.update_broker_storage(
        ClusterArn=arn,
        CurrentVersion=version,
        TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "All", "VolumeSizeGB": 200}],
    )
    info = wait_active(kafka, arn)
    ebs = info["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]
    assert ebs == dict(storage, VolumeSize=200)  # the throughput it did not carry stays
    s3: S3TypeDef = {"Enabled": True, "Bucket": "logs", "Prefix": "msk/"}
    kafka.update_monitoring(
        ClusterArn=arn,
        CurrentVersion=info["CurrentVersion"],
        LoggingInfo={"BrokerLogs": {"S3": s3}},
    )
    provisioned = wait_active(kafka, arn)["Provisioned"]
    assert provisioned["LoggingInfo"]["BrokerLogs"] == {  # MSK replaces LoggingInfo whole
        "CloudWatchLogs": {"Enabled": False},
        "S3": s3,
        "Firehose": {"Enabled": False},
    }
    assert provisioned["EnhancedMonitoring"] == "DEFAULT"


def test_instance_type_rules(kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    kafka.update_broker_type(
        ClusterArn=arn, CurrentVersion=version, TargetInstanceType="kafka.m5.large"
    )
    version = wait_active(kafka, arn)["CurrentVersion"]
    code, message = refused(
        kafka.update_broker_type,
        ClusterArn=arn,
        CurrentVersion=version,
        TargetInstanceType="kafka.t3.small",
    )
    assert code == "BadRequestException" and "down to kafka.t3.small" in message


def test_kafka_version_only_along_compatible_paths(kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    compatible = kafka.get_compatible_kafka_versions(ClusterArn=arn)["CompatibleKafkaVersions"]
    assert compatible == [
        {"SourceVersion": "3.5.1", "TargetVersions": ["3.6.0", "3.7.x", "3.8.x", "3.9.x"]}
    ]
    for target in ("3.4.0", "3.9.x.kraft"):
        code, _ = refused(
            kafka.update_cluster_kafka_version,
            ClusterArn=arn,
            CurrentVersion=version,
            TargetKafkaVersion=target,
        )
        assert code == "BadRequestException", target
    operation = kafka.update_cluster_kafka_version(
        ClusterArn=arn, CurrentVersion=version, TargetKafkaVersion="3.6.0"
    )
    steps = kafka.describe_cluster_operation_v2(
        ClusterOperationArn=operation["ClusterOperationArn"]
    )
    names = [s["StepName"] for s in steps["ClusterOperationInfo"]["Provisioned"]["OperationSteps"]]
    assert names == ["INITIALIZE_UPDATE", "UPDATE_APACHE_KAFKA_BINARIES", "FINALIZE_UPDATE"]
    software = wait_active(kafka, arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert software["KafkaVersion"] == "3.6.0"


def test_fields_fixed_at_creation_cannot_be_updated(kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    code, message = refused(
        kafka.update_security,
        ClusterArn=arn,
        CurrentVersion=version,
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": False}},
    )
    assert code == "BadRequestException"
    assert "in-cluster (broker-to-broker) encryption" in message
    code, message = refused(
        kafka.update_security,
        ClusterArn=arn,
        CurrentVersion=version,
        EncryptionInfo={"EncryptionAtRest": {"DataVolumeKMSKeyId": "alias/mine"}},
    )
    assert code == "BadRequestException" and "encryption at rest" in message
    code, message = refused(
        kafka.update_security,
        ClusterArn=arn,
        CurrentVersion=version,
        ClientAuthentication={"Sasl": {"Scram": {"Enabled": True}}},
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}},
    )
    assert code == "BadRequestException"
    assert "SASL/SCRAM authentication needs clientBroker TLS" in message


def test_configurations_keep_revisions_and_apply_to_a_cluster(kafka: KafkaClient) -> None:
    created = kafka.create_configuration(
        Name="malawi", ServerProperties=b"auto.create.topics.enable=true\nnum.partitions=3\n"
    )
    arn = created["Arn"]
    assert created["LatestRevision"]["Revision"] == 1
    assert refused(kafka.create_configuration, Name="malawi", ServerProperties=b"x=1")[0] in {
        "ConflictException",
        "BadRequestException",
    }
    assert refused(kafka.create_configuration, Name="other", ServerProperties=b"listeners=x")[
        1
    ].startswith("Unsupported properties in a custom configuration: listeners")
    updated = kafka.update_configuration(Arn=arn, ServerProperties=b"num.partitions=6\n")
    assert updated["LatestRevision"]["Revision"] == 2
    revisions = kafka.list_configuration_revisions(Arn=arn)["Revisions"]
    assert [r["Revision"] for r in revisions] == [1, 2]
    text = kafka.describe_configuration_revision(Arn=arn, Revision=2)["ServerProperties"]
    assert text == b"num.partitions=6\n"
    cluster, version = create_active(kafka)
    assert refused(
        kafka.update_cluster_configuration,
        ClusterArn=cluster,
        CurrentVersion=version,
        ConfigurationInfo={"Arn": arn + "x", "Revision": 1},
    ) == ("BadRequestException", rules.INVALID_CONFIGURATION_ARN)
    kafka.update_cluster_configuration(
        ClusterArn=cluster, CurrentVersion=version, ConfigurationInfo={"Arn": arn, "Revision": 2}
    )
    software = wait_active(kafka, cluster)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert (software["ConfigurationArn"], software["ConfigurationRevision"]) == (arn, 2)
    pinned = kafka.create_configuration(
        Name="pinned", KafkaVersions=["3.9.x"], ServerProperties=b"num.partitions=3\n"
    )["Arn"]
    version = wait_active(kafka, cluster)["CurrentVersion"]
    code, message = refused(
        kafka.update_cluster_configuration,
        ClusterArn=cluster,
        CurrentVersion=version,
        ConfigurationInfo={"Arn": pinned, "Revision": 1},
    )
    assert code == "BadRequestException" and "supports Kafka 3.9.x, not 3.5.1" in message


def test_operation_history_steps_and_an_injected_failure(
    msk: MskServer, kafka: KafkaClient
) -> None:
    arn, version = create_active(kafka)
    msk.inject_failure(
        "malawi-pg-kafka-cluster", "UPDATE_BROKER_TYPE", "BrokerUnhealthy", "broker 2 unhealthy"
    )
    failing = kafka.update_broker_type(
        ClusterArn=arn, CurrentVersion=version, TargetInstanceType="kafka.m5.large"
    )["ClusterOperationArn"]
    info = wait_active(kafka, arn)  # MSK rolls a failed update back: ACTIVE, unchanged
    assert info["Provisioned"]["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.t3.small"
    failed = kafka.describe_cluster_operation_v2(ClusterOperationArn=failing)[
        "ClusterOperationInfo"
    ]
    assert failed["OperationState"] == "UPDATE_FAILED"
    assert failed["ErrorInfo"] == {
        "ErrorCode": "BrokerUnhealthy",
        "ErrorString": "broker 2 unhealthy",
    }
    assert failed["EndTime"] > failed["StartTime"]
    history = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
    assert [(o["OperationType"], o["OperationState"]) for o in history] == [
        ("UPDATE_BROKER_TYPE", "UPDATE_FAILED"),
        ("CREATE", "UPDATE_COMPLETE"),
    ]
    v1 = kafka.list_cluster_operations(ClusterArn=arn)["ClusterOperationInfoList"]
    assert v1[0]["ErrorInfo"]["ErrorCode"] == "BrokerUnhealthy"


def test_a_failed_creation_leaves_a_failed_cluster(msk: MskServer, kafka: KafkaClient) -> None:
    msk.inject_failure("*", "CREATE", "InsufficientCapacity", "no capacity in the AZ")
    arn = kafka.create_cluster_v2(**seed_request())["ClusterArn"]
    time.sleep(OPERATION_SECONDS + 0.1)
    info = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    assert info["State"] == "FAILED"
    assert info["StateInfo"] == {"Code": "InsufficientCapacity", "Message": "no capacity in the AZ"}
    assert refused(kafka.get_bootstrap_brokers, ClusterArn=arn)[1] == (
        "You can't get bootstrap broker nodes for a cluster in FAILED state."
    )


def test_public_access_needs_its_prerequisites(kafka: KafkaClient) -> None:
    public: ConnectivityInfoTypeDef = {"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}}
    nodes = dict(seed_request()["Provisioned"]["BrokerNodeGroupInfo"], ConnectivityInfo=public)
    code, message = refused(
        kafka.create_cluster_v2, **seed_request(name="p", BrokerNodeGroupInfo=nodes)
    )
    assert code == "BadRequestException" and "while creating a cluster" in message
    arn, version = create_active(kafka)
    code, message = refused(
        kafka.update_connectivity, ClusterArn=arn, CurrentVersion=version, ConnectivityInfo=public
    )
    assert code == "BadRequestException"
    assert "public access needs unauthenticated access off" in message
    kafka.update_security(
        ClusterArn=arn,
        CurrentVersion=version,
        ClientAuthentication={
            "Sasl": {"Iam": {"Enabled": True}},
            "Unauthenticated": {"Enabled": False},
        },
    )
    version = wait_active(kafka, arn)["CurrentVersion"]
    kafka.update_connectivity(ClusterArn=arn, CurrentVersion=version, ConnectivityInfo=public)
    wait_active(kafka, arn)
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert brokers["BootstrapBrokerStringPublicSaslIam"] == TLS


def test_tags_on_clusters_and_configurations(kafka: KafkaClient) -> None:
    arn, _ = create_active(kafka)
    kafka.tag_resource(ResourceArn=arn, Tags={"Team": "payments", "Cost": "1"})
    kafka.untag_resource(ResourceArn=arn, TagKeys=["Cost", "Environment"])
    assert kafka.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"Team": "payments"}
    assert refused(kafka.list_tags_for_resource, ResourceArn=arn + "x")[0] == "NotFoundException"


def test_throttling_is_retried_with_backoff_by_the_standard_retry_mode(
    msk: MskServer, kafka: KafkaClient
) -> None:
    msk.throttle(1)
    response = kafka.list_clusters_v2()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1


def test_the_admin_endpoint_injects_a_failure_over_http(msk: MskServer, kafka: KafkaClient) -> None:
    arn, version = create_active(kafka)
    request = urllib.request.Request(
        f"{msk.endpoint_url}/_local/fail-next",
        data=json.dumps({"cluster": arn, "errorCode": "X", "errorString": "boom"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response) == {"ok": True}
    operation = kafka.update_monitoring(
        ClusterArn=arn, CurrentVersion=version, EnhancedMonitoring="PER_BROKER"
    )["ClusterOperationArn"]
    wait_active(kafka, arn)
    info = kafka.describe_cluster_operation(ClusterOperationArn=operation)["ClusterOperationInfo"]
    assert (info["OperationState"], info["ErrorInfo"]["ErrorString"]) == ("UPDATE_FAILED", "boom")


def test_state_survives_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    state = tmp_path / "msk.json"
    with start_msk_server(kafka_bootstrap=PLAIN, operation_seconds=0.1, state_file=state) as first:
        kafka = kafka_client(REGION, first.endpoint_url)
        arn, version = create_active(kafka)
    with start_msk_server(kafka_bootstrap=PLAIN, operation_seconds=0.1, state_file=state) as second:
        kafka = kafka_client(REGION, second.endpoint_url)
        info = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
        assert (info["State"], info["CurrentVersion"]) == ("ACTIVE", version)


def test_the_module_runs_as_a_detachable_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    command = [sys.executable, "-m", "reconciler.local.msk.server", "--kafka-bootstrap", PLAIN]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            endpoint = process.stdout.readline().strip()
            assert endpoint.startswith("http://127.0.0.1:")
            assert kafka_client(REGION, endpoint).list_clusters_v2()["ClusterInfoList"] == []
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0


def test_every_implemented_operation_answers_in_botocore_shapes(
    msk: MskServer, kafka: KafkaClient, wire: WireLog
) -> None:
    """Exercise all of IMPLEMENTED once; the `kafka` fixture validates every raw response."""
    config = kafka.create_configuration(Name="all", ServerProperties=b"num.partitions=3\n")["Arn"]
    kafka.update_configuration(Arn=config, ServerProperties=b"num.partitions=4\n")
    kafka.describe_configuration(Arn=config)
    kafka.describe_configuration_revision(Arn=config, Revision=2)
    kafka.list_configuration_revisions(Arn=config)
    kafka.list_configurations()
    arn, version = create_active(kafka)
    kafka.describe_cluster(ClusterArn=arn)
    kafka.list_clusters_v2(ClusterNameFilter="malawi")
    kafka.get_bootstrap_brokers(ClusterArn=arn)
    kafka.get_compatible_kafka_versions(ClusterArn=arn)
    kafka.get_compatible_kafka_versions()
    kafka.list_kafka_versions()
    kafka.tag_resource(ResourceArn=arn, Tags={"a": "b"})
    kafka.untag_resource(ResourceArn=arn, TagKeys=["a"])
    kafka.list_tags_for_resource(ResourceArn=arn)
    updates: list[tuple[Any, dict[str, Any]]] = [
        (kafka.update_broker_count, {"TargetNumberOfBrokerNodes": 4}),
        (
            kafka.update_broker_storage,
            {"TargetBrokerEBSVolumeInfo": [{"KafkaBrokerNodeId": "All", "VolumeSizeGB": 150}]},
        ),
        (kafka.update_broker_type, {"TargetInstanceType": "kafka.m5.large"}),
        (kafka.update_cluster_configuration, {"ConfigurationInfo": {"Arn": config, "Revision": 2}}),
        (kafka.update_cluster_kafka_version, {"TargetKafkaVersion": "3.6.0"}),
        (
            kafka.update_monitoring,
            {"OpenMonitoring": {"Prometheus": {"JmxExporter": {"EnabledInBroker": True}}}},
        ),
        (
            kafka.update_security,
            {
                "ClientAuthentication": {
                    "Sasl": {"Iam": {"Enabled": True}},
                    "Unauthenticated": {"Enabled": False},
                }
            },
        ),
        (
            kafka.update_connectivity,
            {"ConnectivityInfo": {"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}}},
        ),
    ]
    operation = ""
    for call, body in updates:
        operation = call(ClusterArn=arn, CurrentVersion=version, **body)["ClusterOperationArn"]
        kafka.describe_cluster_operation_v2(ClusterOperationArn=operation)
        version = wait_active(kafka, arn)["CurrentVersion"]
    kafka.describe_cluster_operation(ClusterOperationArn=operation)
    kafka.list_cluster_operations(ClusterArn=arn)
    kafka.list_cluster_operations_v2(ClusterArn=arn)
    refused(kafka.describe_cluster_v2, ClusterArn=arn + "-missing")
    # A secret MSK refuses by its name alone, on a cluster with SCRAM (test_msk_scram.py
    # associates real secrets from Secrets Manager).
    scram = {"Sasl": {"Scram": {"Enabled": True}}}
    with_scram, _ = create_active(kafka, ClientAuthentication=scram, name="scram")
    plain = f"{with_scram.split(':cluster/')[0].replace(':kafka:', ':secretsmanager:')}:secret:a"
    for call in (kafka.batch_associate_scram_secret, kafka.batch_disassociate_scram_secret):
        assert call(ClusterArn=with_scram, SecretArnList=[plain])["UnprocessedScramSecrets"]
    assert kafka.list_scram_secrets(ClusterArn=with_scram)["SecretArnList"] == []
    # The topic operations need a real Kafka cluster: test_msk_topics.py exercises them.
    assert wire.operations == set(IMPLEMENTED) - set(TOPIC_OPERATIONS)
    assert wire.problems() == []
