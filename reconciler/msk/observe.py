"""Read the live MSK cluster through boto3 only: the one reader of control-plane state.

A fixed set of calls per cluster, independent of how many topics live in it:
ListClustersV2 (when given a name), DescribeClusterV2, ListTagsForResource,
DescribeConfiguration + DescribeConfigurationRevision (server properties), GetBootstrapBrokers,
ListClusterOperationsV2 (+ DescribeClusterOperationV2 for the operation in flight),
GetCompatibleKafkaVersions and CloudWatch Logs DescribeLogGroups for the log group's retention.
Throttling is retried by the clients' standard retry mode (see `clients.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from reconciler.errors import ReconcilerError
from reconciler.msk import rules
from reconciler.msk.spec import (
    ClientAuth,
    ClientBroker,
    Encryption,
    Logging,
    MskClusterSpec,
    Storage,
    flatten,
    normalize_property,
)

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_logs import CloudWatchLogsClient

#: Operation states that mean "still running" (DescribeClusterOperation's OperationState).
IN_FLIGHT = frozenset({"PENDING", "UPDATE_IN_PROGRESS", "REBOOT_IN_PROGRESS"})
#: How much operation history to read: enough for the storage cooldown and a plan's context.
HISTORY = 50


@dataclass(frozen=True)
class OperationStep:
    name: str
    status: str


@dataclass(frozen=True)
class ObservedOperation:
    """One cluster operation (ListClusterOperationsV2 / DescribeClusterOperationV2)."""

    arn: str
    type: str
    state: str
    start: datetime | None = None
    end: datetime | None = None
    steps: tuple[OperationStep, ...] = ()
    error: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT


@dataclass(frozen=True)
class ObservedConfiguration:
    """An MSK configuration revision and its server properties (normalized)."""

    arn: str
    name: str
    revision: int
    latest_revision: int
    server_properties: Mapping[str, str]

    @property
    def label(self) -> str:
        return configuration_label(self.name, self.revision)


def configuration_label(name: str, revision: int) -> str:
    """How plans name a configuration revision: "name:revision" (names cannot hold ':')."""
    return f"{name}:{revision}"


def parse_label(label: str) -> tuple[str, int]:
    name, _, revision = label.rpartition(":")
    return name, int(revision)


@dataclass(frozen=True)
class ObservedLogGroup:
    name: str
    exists: bool
    retention_days: int | None = None


@dataclass(frozen=True)
class ObservedCluster:
    """The live cluster: its settings in spec form (`actual`) plus what only MSK knows."""

    arn: str
    name: str
    state: str
    current_version: str
    actual: MskClusterSpec
    state_message: str | None = None
    creation_time: datetime | None = None
    configuration: ObservedConfiguration | None = None
    bootstrap_brokers: Mapping[str, str] = field(default_factory=dict)
    operations: tuple[ObservedOperation, ...] = ()
    active_operation: ObservedOperation | None = None
    compatible_versions: tuple[str, ...] = ()
    log_group: ObservedLogGroup | None = None

    @property
    def busy(self) -> bool:
        """An update would be refused now: not ACTIVE, or an operation still running."""
        return self.state != "ACTIVE" or self.active_operation is not None


@dataclass(frozen=True)
class MskObserved:
    """Everything `plan_cluster` needs: the cluster (None: it does not exist) and, for the
    spec's own names, the log group and the configuration it would use."""

    cluster: ObservedCluster | None
    log_group: ObservedLogGroup | None = None
    configuration: ObservedConfiguration | None = None
    #: Versions ListKafkaVersions offers (any status); read only when the cluster is missing.
    kafka_versions: tuple[str, ...] = ()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def find_cluster_arn(kafka: KafkaClient, name_or_arn: str) -> str | None:
    """The ARN of the cluster with this exact name (ListClustersV2 filters by prefix)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    for page in kafka.get_paginator("list_clusters_v2").paginate(ClusterNameFilter=name_or_arn):
        for info in page.get("ClusterInfoList", []):
            if info.get("ClusterName") == name_or_arn and info.get("State") != "DELETING":
                return str(info["ClusterArn"])
    return None


def _properties(kafka: KafkaClient, arn: str, revision: int) -> dict[str, str]:
    blob = kafka.describe_configuration_revision(Arn=arn, Revision=revision)["ServerProperties"]
    parsed = rules.parse_server_properties(blob.decode("utf-8"))
    return {k: normalize_property(k, v) for k, v in parsed.items()}


def observe_configuration(
    kafka: KafkaClient, arn: str, revision: int | None = None
) -> ObservedConfiguration:
    """A configuration at `revision` (default: its latest)."""
    described = kafka.describe_configuration(Arn=arn)
    latest = int(described["LatestRevision"]["Revision"])
    chosen = latest if revision is None else revision
    return ObservedConfiguration(
        arn=arn,
        name=str(described["Name"]),
        revision=chosen,
        latest_revision=latest,
        server_properties=_properties(kafka, arn, chosen),
    )


def find_configuration(kafka: KafkaClient, name: str) -> ObservedConfiguration | None:
    """The configuration with this name (names are unique per account and region)."""
    for page in kafka.get_paginator("list_configurations").paginate():
        for item in page.get("Configurations", []):
            if item.get("Name") == name and item.get("State") != "DELETING":
                return observe_configuration(kafka, str(item["Arn"]))
    return None


def observe_log_group(logs: CloudWatchLogsClient, name: str) -> ObservedLogGroup:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group.get("logGroupName") == name:
                retention = group.get("retentionInDays")
                return ObservedLogGroup(name, True, None if retention is None else int(retention))
    return ObservedLogGroup(name, False)


def _operation(summary: Mapping[str, Any]) -> ObservedOperation:
    return ObservedOperation(
        arn=str(summary.get("OperationArn", "")),
        type=str(summary.get("OperationType", "")),
        state=str(summary.get("OperationState", "")),
        start=summary.get("StartTime"),
        end=summary.get("EndTime"),
    )


def describe_operation(kafka: KafkaClient, arn: str) -> ObservedOperation:
    """One operation with its steps and MSK's error info."""
    info = cast(dict[str, Any], kafka.describe_cluster_operation_v2(ClusterOperationArn=arn))[
        "ClusterOperationInfo"
    ]
    steps = tuple(
        OperationStep(str(s.get("StepName", "")), str(s.get("StepInfo", {}).get("StepStatus", "")))
        for s in info.get("Provisioned", {}).get("OperationSteps", [])
    )
    error = info.get("ErrorInfo") or {}
    text = " ".join(str(error[k]) for k in ("ErrorCode", "ErrorString") if error.get(k))
    return ObservedOperation(
        arn=arn,
        type=str(info.get("OperationType", "")),
        state=str(info.get("OperationState", "")),
        start=info.get("StartTime"),
        end=info.get("EndTime"),
        steps=steps,
        error=text or None,
    )


def _operations(kafka: KafkaClient, arn: str) -> tuple[ObservedOperation, ...]:
    found: list[ObservedOperation] = []
    pages = kafka.get_paginator("list_cluster_operations_v2").paginate(
        ClusterArn=arn, PaginationConfig={"MaxItems": HISTORY}
    )
    for page in pages:
        found.extend(_operation(s) for s in page.get("ClusterOperationInfoList", []))

    def started(op: ObservedOperation) -> float:
        return op.start.timestamp() if op.start else 0.0

    return tuple(sorted(found, key=started, reverse=True))


def _actual(
    info: Mapping[str, Any],
    tags: Mapping[str, str],
    configuration: ObservedConfiguration | None,
    log_group: ObservedLogGroup | None,
) -> MskClusterSpec:
    p = info["Provisioned"]
    nodes = p["BrokerNodeGroupInfo"]
    ebs = nodes.get("StorageInfo", {}).get("EbsStorageInfo", {})
    throughput = ebs.get("ProvisionedThroughput") or {}
    auth = p.get("ClientAuthentication")
    tls = (auth or {}).get("Tls") or {}
    sasl = (auth or {}).get("Sasl") or {}
    encryption = p.get("EncryptionInfo") or {}
    in_transit = encryption.get("EncryptionInTransit") or {}
    broker_logs = (p.get("LoggingInfo") or {}).get("BrokerLogs") or {}
    cloudwatch = broker_logs.get("CloudWatchLogs") or {}
    s3 = broker_logs.get("S3") or {}
    firehose = broker_logs.get("Firehose") or {}
    prometheus = (p.get("OpenMonitoring") or {}).get("Prometheus") or {}
    public = nodes.get("ConnectivityInfo", {}).get("PublicAccess", {}).get("Type", "DISABLED")
    return MskClusterSpec(
        name=str(info["ClusterName"]),
        kafka_version=str(p.get("CurrentBrokerSoftwareInfo", {}).get("KafkaVersion", "")),
        instance_type=str(nodes["InstanceType"]),
        broker_count=int(p["NumberOfBrokerNodes"]),
        client_subnets=tuple(nodes.get("ClientSubnets", [])),
        storage=Storage(
            int(ebs.get("VolumeSize", 0)),
            int(throughput["VolumeThroughput"]) if throughput.get("Enabled") else None,
        ),
        security_groups=tuple(nodes.get("SecurityGroups", [])),
        encryption=Encryption(
            kms_key_id=(encryption.get("EncryptionAtRest") or {}).get("DataVolumeKMSKeyId"),
            client_broker=cast(ClientBroker, in_transit.get("ClientBroker", "TLS")),
            in_cluster=bool(in_transit.get("InCluster", True)),
        ),
        client_auth=ClientAuth(
            # No ClientAuthentication block at all is MSK's "unauthenticated only".
            unauthenticated=bool((auth or {}).get("Unauthenticated", {}).get("Enabled", not auth)),
            tls_certificate_authority_arns=tuple(tls.get("CertificateAuthorityArnList", []))
            if tls.get("Enabled")
            else (),
            sasl_scram=bool(sasl.get("Scram", {}).get("Enabled", False)),
            sasl_iam=bool(sasl.get("Iam", {}).get("Enabled", False)),
        ),
        enhanced_monitoring=str(p.get("EnhancedMonitoring", "DEFAULT")),
        jmx_exporter=bool(prometheus.get("JmxExporter", {}).get("EnabledInBroker", False)),
        node_exporter=bool(prometheus.get("NodeExporter", {}).get("EnabledInBroker", False)),
        logging=Logging(
            cloudwatch_log_group=cloudwatch.get("LogGroup") if cloudwatch.get("Enabled") else None,
            cloudwatch_retention_days=log_group.retention_days if log_group else None,
            s3_bucket=s3.get("Bucket") if s3.get("Enabled") else None,
            s3_prefix=s3.get("Prefix") if s3.get("Enabled") else None,
            firehose_delivery_stream=firehose.get("DeliveryStream")
            if firehose.get("Enabled")
            else None,
        ),
        public_access=public == "SERVICE_PROVIDED_EIPS",
        server_properties=dict(configuration.server_properties) if configuration else {},
        configuration_name=configuration.name if configuration else None,
        tags=dict(tags),
    )


def observe_cluster(
    kafka: KafkaClient, logs: CloudWatchLogsClient, name_or_arn: str
) -> ObservedCluster | None:
    """The cluster with this name or ARN, or None when it does not exist."""
    arn = find_cluster_arn(kafka, name_or_arn)
    if arn is None:
        return None
    try:
        info = cast(dict[str, Any], kafka.describe_cluster_v2(ClusterArn=arn))["ClusterInfo"]
    except ClientError as exc:
        if _error_code(exc) == "NotFoundException":
            return None
        raise
    if info.get("ClusterType") != "PROVISIONED" or "Provisioned" not in info:
        raise ReconcilerError(
            f"{info.get('ClusterName', arn)} is a serverless MSK cluster; only provisioned "
            "clusters can be reconciled"
        )
    provisioned = info["Provisioned"]
    software = provisioned.get("CurrentBrokerSoftwareInfo", {})
    configuration = None
    if software.get("ConfigurationArn"):
        configuration = observe_configuration(
            kafka, str(software["ConfigurationArn"]), int(software["ConfigurationRevision"])
        )
    broker_logs = (provisioned.get("LoggingInfo") or {}).get("BrokerLogs") or {}
    cloudwatch = broker_logs.get("CloudWatchLogs") or {}
    log_group = None
    if cloudwatch.get("Enabled") and cloudwatch.get("LogGroup"):
        log_group = observe_log_group(logs, str(cloudwatch["LogGroup"]))
    tags = kafka.list_tags_for_resource(ResourceArn=arn).get("Tags", {})
    state = str(info.get("State", ""))
    bootstrap: dict[str, str] = {}
    if state in {"ACTIVE", "UPDATING"}:
        try:
            response = cast(dict[str, Any], kafka.get_bootstrap_brokers(ClusterArn=arn))
            bootstrap = {k: str(v) for k, v in response.items() if k.startswith("BootstrapBroker")}
        except ClientError as exc:
            if _error_code(exc) != "BadRequestException":
                raise
    active = None
    if info.get("ActiveOperationArn"):
        active = describe_operation(kafka, str(info["ActiveOperationArn"]))
    compatible: tuple[str, ...] = ()
    try:
        versions = kafka.get_compatible_kafka_versions(ClusterArn=arn)
        for entry in versions.get("CompatibleKafkaVersions", []):
            if entry.get("SourceVersion") == software.get("KafkaVersion"):
                compatible = tuple(entry.get("TargetVersions", []))
    except ClientError as exc:
        if _error_code(exc) not in {"BadRequestException", "NotFoundException"}:
            raise
    return ObservedCluster(
        arn=arn,
        name=str(info["ClusterName"]),
        state=state,
        current_version=str(info.get("CurrentVersion", "")),
        actual=_actual(info, tags, configuration, log_group),
        state_message=(info.get("StateInfo") or {}).get("Message"),
        creation_time=info.get("CreationTime"),
        configuration=configuration,
        bootstrap_brokers=bootstrap,
        operations=_operations(kafka, arn),
        active_operation=active,
        compatible_versions=compatible,
        log_group=log_group,
    )


def observe(kafka: KafkaClient, logs: CloudWatchLogsClient, spec: MskClusterSpec) -> MskObserved:
    """What planning `spec` needs: the cluster plus the log group and configuration it names."""
    cluster = observe_cluster(kafka, logs, spec.name)
    log_group = None
    wanted_group = spec.logging.cloudwatch_log_group
    if wanted_group:
        if cluster and cluster.log_group and cluster.log_group.name == wanted_group:
            log_group = cluster.log_group
        else:
            log_group = observe_log_group(logs, wanted_group)
    configuration = None
    if spec.server_properties is not None:
        in_use = cluster.configuration if cluster else None
        if in_use is None:
            configuration = find_configuration(kafka, spec.effective_configuration_name)
    versions: tuple[str, ...] = ()
    if cluster is None:
        versions = tuple(
            str(v["Version"])
            for page in kafka.get_paginator("list_kafka_versions").paginate()
            for v in page.get("KafkaVersions", [])
        )
    return MskObserved(cluster, log_group, configuration, versions)


def bootstrap_servers(
    cluster: ObservedCluster, security_protocol: str, sasl_mechanism: str | None = None
) -> str | None:
    """The bootstrap string a Kafka client with this protocol uses (private before public).

    SASL_SSL means SCRAM here: the reconciler does not speak IAM (OAUTHBEARER) to brokers yet,
    so it never picks the IAM listener for a mechanism that would fail there.
    """
    if security_protocol == "SASL_SSL" and not (sasl_mechanism or "").startswith("SCRAM"):
        return None
    sasl = "SaslScram"
    keys = {
        "PLAINTEXT": ("BootstrapBrokerString",),
        "SSL": ("BootstrapBrokerStringTls", "BootstrapBrokerStringPublicTls"),
        "SASL_SSL": (f"BootstrapBrokerString{sasl}", f"BootstrapBrokerStringPublic{sasl}"),
    }.get(security_protocol, ())
    for key in keys:
        if cluster.bootstrap_brokers.get(key):
            return cluster.bootstrap_brokers[key]
    return None


def fingerprint(observed: MskObserved) -> dict[str, Any]:
    """The observed MSK state as JSON for the plan's observed digest (invariant 4).

    CurrentVersion changes with every cluster update, so any write since the plan shows.
    """
    cluster = observed.cluster
    return {
        "cluster": None
        if cluster is None
        else {
            "arn": cluster.arn,
            "state": cluster.state,
            "currentVersion": cluster.current_version,
            "activeOperation": cluster.active_operation.arn if cluster.active_operation else None,
            "settings": flatten(cluster.actual),
            "configuration": cluster.configuration.label if cluster.configuration else None,
            "compatibleVersions": list(cluster.compatible_versions),
        },
        "logGroup": None
        if observed.log_group is None
        else [
            observed.log_group.name,
            observed.log_group.exists,
            observed.log_group.retention_days,
        ],
        "configuration": None
        if observed.configuration is None
        else [observed.configuration.label, dict(observed.configuration.server_properties)],
    }
