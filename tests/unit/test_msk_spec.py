"""The MskCluster document: its JSON Schema, `parse_cluster`'s cross-field rules, locations."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.kinds.msk_cluster.fields import flatten
from reconciler.kinds.msk_cluster.fields import from_fields as spec_from_fields
from reconciler.kinds.msk_cluster.spec import (
    ClusterSpecError,
    MskClusterSpec,
    located_problems,
    parse_cluster,
)
from reconciler.specs.schema import validator
from reconciler.specs.yaml_source import load_documents

#: The seed cluster (../shared/seeds/000_a1e6b2060a11a0b7.txt) as an MskCluster document.
SEED_DOC: dict[str, Any] = {
    "apiVersion": "reconciler/v1",
    "kind": "MskCluster",
    "metadata": {"name": "malawi-pg-kafka-cluster"},
    "spec": {
        "kafkaVersion": "3.5.1",
        "brokers": {
            "instanceType": "kafka.t3.small",
            "count": 2,
            "clientSubnets": ["subnet-private-a", "subnet-private-b"],
            "storage": {"volumeSizeGiB": 100},
        },
        "encryption": {"inTransit": {"clientBroker": "TLS", "inCluster": True}},
        "monitoring": {"enhanced": "DEFAULT"},
        "logging": {
            "cloudWatch": {"logGroup": "/aws/msk/malawi-pg-kafka-cluster", "retentionDays": 7}
        },
        "serverProperties": {
            "auto.create.topics.enable": True,
            "default.replication.factor": 2,
            "min.insync.replicas": 1,
            "num.partitions": 3,
        },
        "tags": {"Environment": "dev"},
    },
}


def seed(**spec_changes: Any) -> dict[str, Any]:
    """The seed document with top-level spec keys replaced (None removes a key)."""
    doc = copy.deepcopy(SEED_DOC)
    for key, value in spec_changes.items():
        if value is None:
            doc["spec"].pop(key, None)
        else:
            doc["spec"][key] = value
    return doc


def brokers(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = copy.deepcopy(SEED_DOC["spec"]["brokers"])
    result.update(changes)
    return result


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in validator("mskcluster.schema.json").iter_errors(doc)]


def issues(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ClusterSpecError) as caught:
        parse_cluster(doc)
    return [(i.field, i.message) for i in caught.value.issues]


def test_the_seed_cluster_is_valid_and_parses_to_what_it_describes() -> None:
    assert schema_errors(SEED_DOC) == []
    spec = parse_cluster(SEED_DOC)
    assert (spec.kafka_version, spec.instance_type, spec.broker_count) == (
        "3.5.1",
        "kafka.t3.small",
        2,
    )
    assert spec.az_count == 2
    assert spec.storage.volume_size_gib == 100
    assert spec.encryption.client_broker == "TLS"
    assert spec.encryption.kms_key_id is None  # AWS-managed key
    assert spec.client_auth.unauthenticated  # no clientAuthentication: MSK's default
    assert spec.logging.cloudwatch_retention_days == 7
    assert spec.server_properties == {
        "auto.create.topics.enable": "true",
        "default.replication.factor": "2",
        "min.insync.replicas": "1",
        "num.partitions": "3",
    }


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (seed(brokers=brokers(instanceType="kafka.t2.micro")), "is not one of"),
        (seed(brokers=brokers(clientSubnets=["subnet-a"])), "is too short"),
        (seed(brokers=brokers(storage={"volumeSizeGiB": 20000})), "is greater than the maximum"),
        (seed(kafkaVersion="latest"), "does not match"),
        (
            seed(logging={"cloudWatch": {"logGroup": "/aws/msk/x", "retentionDays": 10}}),
            "is not one of",
        ),
        (seed(encryption={"inTransit": {"clientBroker": "SSL"}}), "is not one of"),
        (seed(replicas=3), "Additional properties"),
    ],
)
def test_the_schema_refuses_what_msk_cannot_take(doc: dict[str, Any], expected: str) -> None:
    assert any(expected in message for message in schema_errors(doc))


def test_server_property_keys_are_checked_against_msks_custom_configuration_list() -> None:
    doc = seed(serverProperties={"auto.create.topic.enable": True, "listeners": "PLAINTEXT://"})
    found = issues(doc)
    assert [f for f, _ in found] == [
        "spec.serverProperties.auto.create.topic.enable",
        "spec.serverProperties.listeners",
    ]
    with pytest.raises(ClusterSpecError) as caught:
        parse_cluster(doc)
    assert caught.value.issues[0].hint == "did you mean 'auto.create.topics.enable'?"
    assert caught.value.issues[0].at_key


def test_server_property_values_are_normalised_so_equal_values_compare_equal() -> None:
    doc = seed(
        serverProperties={
            "log.retention.ms": "7d",
            "log.segment.bytes": "1GiB",
            "unclean.leader.election.enable": "False",
            "log.cleanup.policy": ["delete", "compact"],
            "log.cleaner.min.cleanable.ratio": 0.5,
        }
    )
    assert parse_cluster(doc).server_properties == {
        "log.retention.ms": "604800000",
        "log.segment.bytes": "1073741824",
        "unclean.leader.election.enable": "false",
        "log.cleanup.policy": "compact,delete",  # a set: one order, as for cleanup.policy
        "log.cleaner.min.cleanable.ratio": "0.5",
    }
    other = seed(serverProperties={"log.cleanup.policy": "compact, delete"})
    assert parse_cluster(other).server_properties == {"log.cleanup.policy": "compact,delete"}


def test_server_property_values_are_checked_like_topic_configs() -> None:
    """One catalog and one normaliser for broker properties and topic configs."""
    found = issues(seed(serverProperties={"num.io.threads": 0, "log.retention.ms": "soon"}))
    assert [f for f, _ in found] == [
        "spec.serverProperties.num.io.threads",
        "spec.serverProperties.log.retention.ms",
    ]
    assert "out of range" in found[0][1]


def test_broker_count_must_be_a_multiple_of_the_availability_zones() -> None:
    assert issues(seed(brokers=brokers(count=3))) == [
        (
            "spec.brokers.count",
            "3 brokers cannot be spread evenly over 2 Availability Zones (one per client subnet)",
        )
    ]


def test_authentication_needs_the_encryption_msk_requires() -> None:
    doc = seed(
        encryption={"inTransit": {"clientBroker": "PLAINTEXT", "inCluster": False}},
        clientAuthentication={"sasl": {"scram": True}},
    )
    messages = [m for _, m in issues(doc)]
    assert "SASL/SCRAM authentication needs clientBroker TLS" in messages
    assert "mTLS, SASL/SCRAM and SASL/IAM need in-cluster encryption on" in messages
    only_sasl = parse_cluster(seed(clientAuthentication={"sasl": {"iam": True}}))
    assert not only_sasl.client_auth.unauthenticated  # another method given: no default


def test_public_access_lists_every_missing_prerequisite() -> None:
    doc = seed(brokers=brokers(publicAccess=True))
    messages = [m for f, m in issues(doc) if f == "spec.brokers.publicAccess"]
    assert "public access needs unauthenticated access off" in messages
    assert "public access needs SASL/IAM, SASL/SCRAM or mTLS on" in messages
    ready = seed(
        brokers=brokers(publicAccess=True),
        clientAuthentication={"unauthenticated": False, "sasl": {"iam": True}},
    )
    assert parse_cluster(ready).public_access


def test_provisioned_throughput_only_on_brokers_that_support_it() -> None:
    small = seed(brokers=brokers(storage={"volumeSizeGiB": 100, "provisionedThroughputMiBps": 300}))
    assert "kafka.t3.small cannot have it" in issues(small)[0][1]
    big = seed(
        brokers=brokers(
            instanceType="kafka.m5.4xlarge",
            storage={"volumeSizeGiB": 100, "provisionedThroughputMiBps": 600},
        )
    )
    assert "allows 250 to 593 MiB/s" in issues(big)[0][1]


def test_issues_are_located_at_file_line_column(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    doc = seed(brokers=brokers(count=3), serverProperties={"num.partitons": 3})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    documents, problems = load_documents(path)
    assert problems == []
    with pytest.raises(ClusterSpecError) as caught:
        parse_cluster(documents[0].data)
    located = {str(p) for p in located_problems(documents[0], caught.value.issues)}
    text = path.read_text(encoding="utf-8").splitlines()
    count_line = next(i for i, line in enumerate(text, 1) if "count: 3" in line)
    key_line = next(i for i, line in enumerate(text, 1) if "num.partitons" in line)
    assert any(p.startswith(f"{path}:{count_line}:") for p in located)
    assert any(
        p.startswith(f"{path}:{key_line}:") and "did you mean 'num.partitions'" in p
        for p in located
    )


def test_flat_fields_round_trip_to_the_same_spec() -> None:
    spec = parse_cluster(
        seed(
            clientAuthentication={
                "unauthenticated": False,
                "tls": {"certificateAuthorityArns": ["arn:aws:acm-pca:eu-central-1:1:ca/b"]},
            },
            monitoring={"enhanced": "PER_BROKER", "prometheus": {"jmxExporter": True}},
        )
    )
    rebuilt = spec_from_fields(spec.name, flatten(spec), spec.configuration_name)
    assert isinstance(rebuilt, MskClusterSpec)
    assert rebuilt == spec
