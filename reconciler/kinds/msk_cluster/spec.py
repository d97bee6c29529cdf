"""The `kind: MskCluster` document as a typed, validated value (pure: data in, spec out).

The JSON Schema (schemas/mskcluster.schema.json) checks the structure; `parse_cluster` adds
the rules that need more than one field (broker count vs AZs, auth vs encryption, public
access prerequisites, provisioned throughput vs broker size) and MSK's list of custom
configuration keys, so a spec that parses is one MSK would accept. Every problem carries the
JSON path of its field; `located_problems` turns them into file:line:column SpecProblems.

The same dataclass describes the live cluster (observe fills it from DescribeClusterV2), so
diffing is a field-by-field comparison (`fields.FIELDS` maps each field once). `None` in a
desired spec means "not managed".
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from reconciler.core.configs.broker import BROKER_CONFIGS, normalize_property
from reconciler.core.configs.topic import ConfigValueError
from reconciler.core.errors import SpecProblem
from reconciler.kinds.msk_cluster import rules
from reconciler.specs.yaml_source import Document

KIND = "MskCluster"
ClientBroker = Literal["TLS", "TLS_PLAINTEXT", "PLAINTEXT"]
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Storage:
    """EBS storage per broker; throughput None means not provisioned."""

    volume_size_gib: int
    provisioned_throughput_mibps: int | None = None


@dataclass(frozen=True)
class Encryption:
    """kms_key_id None means the AWS-managed key (MSK's default)."""

    kms_key_id: str | None = None
    client_broker: ClientBroker = "TLS"
    in_cluster: bool = True


@dataclass(frozen=True)
class ClientAuth:
    """Client authentication; mTLS is on when it has certificate authorities."""

    unauthenticated: bool = True
    tls_certificate_authority_arns: tuple[str, ...] = ()
    sasl_scram: bool = False
    sasl_iam: bool = False

    @property
    def tls(self) -> bool:
        return bool(self.tls_certificate_authority_arns)


@dataclass(frozen=True)
class Logging:
    """Broker log delivery; a destination is on when its target is set."""

    cloudwatch_log_group: str | None = None
    cloudwatch_retention_days: int | None = None
    s3_bucket: str | None = None
    s3_prefix: str | None = None
    firehose_delivery_stream: str | None = None


@dataclass(frozen=True)
class MskClusterSpec:
    """A provisioned MSK cluster. Optional fields set to None are left as they are."""

    name: str
    kafka_version: str
    instance_type: str
    broker_count: int
    client_subnets: tuple[str, ...]
    storage: Storage
    security_groups: tuple[str, ...] | None = None
    encryption: Encryption = field(default_factory=Encryption)
    client_auth: ClientAuth = field(default_factory=ClientAuth)
    enhanced_monitoring: str = "DEFAULT"
    jmx_exporter: bool = False
    node_exporter: bool = False
    logging: Logging = field(default_factory=Logging)
    public_access: bool = False
    server_properties: Mapping[str, str] | None = None
    configuration_name: str | None = None
    tags: Mapping[str, str] | None = None

    @property
    def az_count(self) -> int:
        return rules.az_count(self.client_subnets)

    @property
    def effective_configuration_name(self) -> str:
        return self.configuration_name or self.name


@dataclass(frozen=True)
class SpecIssue:
    """One problem in an MskCluster document, at a JSON path (at_key: point at the key)."""

    path: Path
    message: str
    hint: str | None = None
    at_key: bool = False

    @property
    def field(self) -> str:
        return ".".join(str(p) for p in self.path)


class ClusterSpecError(ValueError):
    """Every problem found in one MskCluster document."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in issues))


def located_problems(doc: Document, issues: list[SpecIssue]) -> list[SpecProblem]:
    """The issues as SpecProblems with file:line:column, for the loader's error report."""
    return [
        SpecProblem(
            doc.key_location(i.path) if i.at_key else doc.location(i.path),
            i.field,
            i.message,
            i.hint,
        )
        for i in issues
    ]


# --- server properties ----------------------------------------------------------------------


def _server_properties(raw: Mapping[str, object], issues: list[SpecIssue]) -> dict[str, str]:
    result: dict[str, str] = {}
    allowed = sorted(BROKER_CONFIGS)
    for key, value in raw.items():
        path: Path = ("spec", "serverProperties", key)
        if key not in BROKER_CONFIGS:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            issues.append(
                SpecIssue(
                    path,
                    "MSK does not allow this property in a custom configuration",
                    f"did you mean {close[0]!r}?"
                    if close
                    else "see msk-configuration-properties in the MSK Developer Guide",
                    at_key=True,
                )
            )
            continue
        try:
            result[key] = normalize_property(key, value)
        except ConfigValueError as exc:
            issues.append(SpecIssue(path, str(exc).removeprefix(f"{key}: ")))
    return result


# --- document -> spec -----------------------------------------------------------------------


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def parse_cluster(doc_data: Mapping[str, Any]) -> MskClusterSpec:
    """A schema-valid MskCluster document -> spec; raises ClusterSpecError with every issue."""
    spec_data: Mapping[str, Any] = doc_data["spec"]
    brokers: Mapping[str, Any] = spec_data["brokers"]
    issues: list[SpecIssue] = []
    auth_data = spec_data.get("clientAuthentication")
    sasl = _get(spec_data, "clientAuthentication", "sasl") or {}
    cas = tuple(_get(spec_data, "clientAuthentication", "tls", "certificateAuthorityArns") or ())
    others = bool(cas or sasl.get("scram") or sasl.get("iam"))
    client_auth = ClientAuth(
        unauthenticated=bool((auth_data or {}).get("unauthenticated", not others)),
        tls_certificate_authority_arns=cas,
        sasl_scram=bool(sasl.get("scram", False)),
        sasl_iam=bool(sasl.get("iam", False)),
    )
    in_transit = _get(spec_data, "encryption", "inTransit") or {}
    encryption = Encryption(
        kms_key_id=_get(spec_data, "encryption", "atRest", "kmsKeyId"),
        client_broker=cast(ClientBroker, in_transit.get("clientBroker", "TLS")),
        in_cluster=bool(in_transit.get("inCluster", True)),
    )
    storage_data = brokers["storage"]
    storage = Storage(
        int(storage_data["volumeSizeGiB"]), storage_data.get("provisionedThroughputMiBps")
    )
    cloudwatch = _get(spec_data, "logging", "cloudWatch") or {}
    s3 = _get(spec_data, "logging", "s3") or {}
    logging = Logging(
        cloudwatch_log_group=cloudwatch.get("logGroup"),
        cloudwatch_retention_days=cloudwatch.get("retentionDays"),
        s3_bucket=s3.get("bucket"),
        s3_prefix=s3.get("prefix"),
        firehose_delivery_stream=_get(spec_data, "logging", "firehose", "deliveryStream"),
    )
    raw_properties = spec_data.get("serverProperties")
    properties = None if raw_properties is None else _server_properties(raw_properties, issues)
    groups = brokers.get("securityGroups")
    tags = spec_data.get("tags")
    spec = MskClusterSpec(
        name=str(doc_data["metadata"]["name"]),
        kafka_version=str(spec_data["kafkaVersion"]),
        instance_type=str(brokers["instanceType"]),
        broker_count=int(brokers["count"]),
        client_subnets=tuple(brokers["clientSubnets"]),
        storage=storage,
        security_groups=None if groups is None else tuple(groups),
        encryption=encryption,
        client_auth=client_auth,
        enhanced_monitoring=str(_get(spec_data, "monitoring", "enhanced") or "DEFAULT"),
        jmx_exporter=bool(_get(spec_data, "monitoring", "prometheus", "jmxExporter")),
        node_exporter=bool(_get(spec_data, "monitoring", "prometheus", "nodeExporter")),
        logging=logging,
        public_access=bool(brokers.get("publicAccess", False)),
        server_properties=properties,
        configuration_name=spec_data.get("configurationName"),
        tags=None if tags is None else {str(k): str(v) for k, v in tags.items()},
    )
    issues.extend(check_cluster(spec))
    if issues:
        raise ClusterSpecError(issues)
    return spec


def check_cluster(spec: MskClusterSpec) -> list[SpecIssue]:
    """Rules across fields that MSK enforces on create and update."""
    issues: list[SpecIssue] = []
    if spec.broker_count % spec.az_count:
        issues.append(
            SpecIssue(
                ("spec", "brokers", "count"),
                f"{spec.broker_count} brokers cannot be spread evenly over "
                f"{spec.az_count} Availability Zones (one per client subnet)",
                f"use a multiple of {spec.az_count}",
            )
        )
    throughput = rules.throughput_problem(
        spec.instance_type,
        spec.storage.provisioned_throughput_mibps,
        spec.storage.volume_size_gib,
    )
    if throughput:
        issues.append(
            SpecIssue(("spec", "brokers", "storage", "provisionedThroughputMiBps"), throughput)
        )
    auth, enc = spec.client_auth, spec.encryption
    security = rules.Security(
        client_broker=enc.client_broker,
        in_cluster=enc.in_cluster,
        unauthenticated=auth.unauthenticated,
        tls=auth.tls,
        scram=auth.sasl_scram,
        iam=auth.sasl_iam,
    )
    for problem in rules.security_problems(security):
        issues.append(SpecIssue(("spec", "clientAuthentication"), problem))
    if spec.public_access:
        for problem in rules.public_access_problems(
            security, kafka_version=spec.kafka_version, server_properties=spec.server_properties
        ):
            issues.append(SpecIssue(("spec", "brokers", "publicAccess"), problem))
    return issues
