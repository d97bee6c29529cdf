"""The field table's wire side: what the local MSK endpoint reads from requests and stores."""

from __future__ import annotations

from reconciler.kinds.msk_cluster.fields import (
    BY_PATH,
    Enabled,
    create_request,
    describe_wire,
    flatten,
    read_create,
    read_request,
    read_wire,
    update_request,
)
from reconciler.kinds.msk_cluster.spec import MskClusterSpec, parse_cluster
from tests.unit.test_msk_spec import brokers, seed


def full_spec() -> MskClusterSpec:
    """The seed with a value in (nearly) every field."""
    return parse_cluster(
        seed(
            brokers=brokers(
                instanceType="kafka.m5.4xlarge",
                securityGroups=["sg-1"],
                storage={"volumeSizeGiB": 200, "provisionedThroughputMiBps": 250},
            ),
            clientAuthentication={
                "unauthenticated": False,
                "tls": {"certificateAuthorityArns": ["arn:ca/b", "arn:ca/a"]},
                "sasl": {"scram": True},
            },
            monitoring={"enhanced": "PER_BROKER", "prometheus": {"jmxExporter": True}},
            logging={"s3": {"bucket": "logs", "prefix": "msk/"}},
        )
    )


def test_a_create_request_reads_back_as_the_fields_it_carries() -> None:
    spec = full_spec()
    taken = {p: v for p, v in flatten(spec).items() if p in BY_PATH and BY_PATH[p].create_path}
    assert read_create(create_request(spec)) == taken
    assert "brokers.publicAccess" not in taken  # turned on once the cluster is ACTIVE


def test_describe_wire_gives_every_block_whole_with_msks_defaults() -> None:
    bare = describe_wire({})
    assert bare["ClientAuthentication"] == {
        "Unauthenticated": {"Enabled": True},
        "Tls": {"Enabled": False, "CertificateAuthorityArnList": []},
        "Sasl": {"Scram": {"Enabled": False}, "Iam": {"Enabled": False}},
    }
    assert bare["LoggingInfo"]["BrokerLogs"] == {
        "CloudWatchLogs": {"Enabled": False},
        "S3": {"Enabled": False},
        "Firehose": {"Enabled": False},
    }
    assert bare["OpenMonitoring"]["Prometheus"] == {
        "JmxExporter": {"EnabledInBroker": False},
        "NodeExporter": {"EnabledInBroker": False},
    }
    assert bare["BrokerNodeGroupInfo"]["ConnectivityInfo"] == {"PublicAccess": {"Type": "DISABLED"}}
    wire = {p: v for p, v in flatten(full_spec()).items() if p in BY_PATH and BY_PATH[p].wire}
    assert read_wire(describe_wire(wire)) == wire


def test_an_update_request_carries_whole_blocks_and_only_the_members_it_gives() -> None:
    size_only = {"TargetBrokerEBSVolumeInfo": [{"KafkaBrokerNodeId": "All", "VolumeSizeGB": 300}]}
    assert read_request("UpdateBrokerStorage", size_only) == {"brokers.storage.volumeSizeGiB": 300}
    in_cluster_only = {"EncryptionInfo": {"EncryptionInTransit": {"InCluster": True}}}
    assert read_request("UpdateSecurity", in_cluster_only) == {}
    assert read_request("UpdateSecurity", {"ClientAuthentication": {}}) == {}
    iam = {"ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}}}
    assert read_request("UpdateSecurity", iam) == {
        "clientAuthentication.unauthenticated": False,
        "clientAuthentication.tls.certificateAuthorityArns": [],
        "clientAuthentication.sasl.scram": False,
        "clientAuthentication.sasl.iam": True,
    }
    jmx = {"OpenMonitoring": {"Prometheus": {"JmxExporter": {"EnabledInBroker": True}}}}
    assert read_request("UpdateMonitoring", jmx) == {
        "monitoring.prometheus.jmxExporter": True,
        "monitoring.prometheus.nodeExporter": False,
    }


def test_what_update_request_writes_read_request_reads() -> None:
    spec, fields = full_spec(), flatten(full_spec())
    for operation, changed in (
        ("UpdateBrokerStorage", ["brokers.storage.volumeSizeGiB"]),
        ("UpdateSecurity", ["encryption.inTransit.clientBroker"]),
        ("UpdateMonitoring", []),
        ("UpdateBrokerType", ["brokers.instanceType"]),
    ):
        carried = read_request(operation, update_request(operation, spec, changed))
        assert carried == {p: fields[p] for p in carried}, operation
        assert set(changed) <= set(carried), operation


def test_a_block_without_its_enabled_flag_is_on_when_it_holds_the_member() -> None:
    tls = Enabled("CertificateAuthorityArnList", off=[])
    assert tls.read({"Tls": {"CertificateAuthorityArnList": ["arn:ca"]}}, "Tls") == ["arn:ca"]
    off = {"Tls": {"Enabled": False, "CertificateAuthorityArnList": ["arn:ca"]}}
    assert tls.read(off, "Tls") == []
    assert tls.read({}, "Tls") == []
