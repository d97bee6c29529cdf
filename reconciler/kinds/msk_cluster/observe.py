"""Read the live MSK cluster: the one reader of control-plane state.

A fixed set of calls per cluster, independent of how many topics live in it:
ListClustersV2 (when given a name), DescribeClusterV2, ListTagsForResource,
DescribeConfiguration + DescribeConfigurationRevision (server properties), GetBootstrapBrokers,
ListClusterOperationsV2 (+ DescribeClusterOperationV2 for the operation in flight),
GetCompatibleKafkaVersions and CloudWatch Logs DescribeLogGroups for the log group's retention.
Throttling is retried by the clients' standard retry mode (`clients.aws`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from reconciler.clients.session import find_cluster_arn
from reconciler.core.configs.broker import canonical_property
from reconciler.core.environment import Environment
from reconciler.core.errors import ApiError, ConnectionFailure, ReconcilerError, aws_failure
from reconciler.kinds.base import Mode
from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.fields import flatten, from_fields, read_wire
from reconciler.kinds.msk_cluster.model import (
    HISTORY,
    MskDesired,
    MskObserved,
    ObservedCluster,
    ObservedConfiguration,
    ObservedLogGroup,
    ObservedOperation,
    OperationStep,
)
from reconciler.kinds.msk_cluster.spec import MskClusterSpec

if TYPE_CHECKING:
    from reconciler.clients.aws import Service
    from reconciler.clients.session import Clients


def _properties(msk: Service, arn: str, revision: int) -> dict[str, str]:
    response = msk.call("describe_configuration_revision", Arn=arn, Revision=revision)
    parsed = rules.parse_server_properties(bytes(response["ServerProperties"]).decode("utf-8"))
    return {k: canonical_property(k, v) for k, v in parsed.items()}


def observe_configuration(
    msk: Service, arn: str, revision: int | None = None
) -> ObservedConfiguration:
    """A configuration at `revision` (default: its latest)."""
    described = msk.call("describe_configuration", Arn=arn)
    latest = int(described["LatestRevision"]["Revision"])
    chosen = latest if revision is None else revision
    return ObservedConfiguration(
        arn=arn,
        name=str(described["Name"]),
        revision=chosen,
        latest_revision=latest,
        server_properties=_properties(msk, arn, chosen),
    )


def find_configuration(msk: Service, name: str) -> ObservedConfiguration | None:
    """The configuration with this name (names are unique per account and region)."""
    for item in msk.pages("list_configurations", "Configurations"):
        if item.get("Name") == name and item.get("State") != "DELETING":
            return observe_configuration(msk, str(item["Arn"]))
    return None


def observe_log_group(logs: Service, name: str) -> ObservedLogGroup:
    for group in logs.pages("describe_log_groups", "logGroups", logGroupNamePrefix=name):
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


def describe_operation(msk: Service, arn: str) -> ObservedOperation:
    """One operation with its steps and MSK's error info."""
    info = msk.call("describe_cluster_operation_v2", ClusterOperationArn=arn)[
        "ClusterOperationInfo"
    ]
    steps = tuple(
        OperationStep(str(s.get("StepName", "")), str(s.get("StepInfo", {}).get("StepStatus", "")))
        for s in info.get("Provisioned", {}).get("OperationSteps", [])
    )
    error = info.get("ErrorInfo") or {}
    text = " ".join(str(error[k]) for k in ("ErrorCode", "ErrorString") if error.get(k))
    return dataclasses.replace(_operation(info), steps=steps, error=text or None)


def _operations(msk: Service, arn: str) -> tuple[ObservedOperation, ...]:
    found = [
        _operation(s)
        for s in msk.pages(
            "list_cluster_operations_v2",
            "ClusterOperationInfoList",
            ClusterArn=arn,
            PaginationConfig={"MaxItems": HISTORY},
        )
    ]

    def started(op: ObservedOperation) -> float:
        return op.start.timestamp() if op.start else 0.0

    return tuple(sorted(found, key=started, reverse=True))


def _actual(
    info: Mapping[str, Any],
    tags: Mapping[str, str],
    configuration: ObservedConfiguration | None,
    log_group: ObservedLogGroup | None,
) -> MskClusterSpec:
    """The live cluster in spec form: MSK's fields through the table, and what MSK keeps
    beside the cluster (tags, the configuration's properties, the log group's retention)."""
    fields = read_wire(info["Provisioned"])
    fields["logging.cloudWatch.retentionDays"] = log_group.retention_days if log_group else None
    spec = from_fields(
        str(info["ClusterName"]), fields, configuration.name if configuration else None
    )
    return dataclasses.replace(
        spec,
        server_properties=dict(configuration.server_properties) if configuration else {},
        tags=dict(tags),
    )


def _optional(call: Any, *tolerated: str) -> Any:
    """A call whose refusal with one of these codes means "nothing to report"."""
    try:
        return call()
    except ApiError as exc:
        if exc.code not in tolerated:
            raise
        return None


def observe_cluster(msk: Service, logs: Service, name_or_arn: str) -> ObservedCluster | None:
    """The cluster with this name or ARN, or None when it does not exist."""
    arn = find_cluster_arn(msk, name_or_arn)
    if arn is None:
        return None
    described = _optional(
        lambda: msk.call("describe_cluster_v2", ClusterArn=arn), "NotFoundException"
    )
    if described is None:
        return None
    info = described["ClusterInfo"]
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
            msk, str(software["ConfigurationArn"]), int(software["ConfigurationRevision"])
        )
    cloudwatch = (provisioned.get("LoggingInfo") or {}).get("BrokerLogs", {}).get(
        "CloudWatchLogs"
    ) or {}
    log_group = None
    if cloudwatch.get("Enabled") and cloudwatch.get("LogGroup"):
        log_group = observe_log_group(logs, str(cloudwatch["LogGroup"]))
    tags = msk.call("list_tags_for_resource", ResourceArn=arn).get("Tags", {})
    state = str(info.get("State", ""))
    bootstrap: dict[str, str] = {}
    if state in {"ACTIVE", "UPDATING"}:
        response = _optional(
            lambda: msk.call("get_bootstrap_brokers", ClusterArn=arn), "BadRequestException"
        )
        bootstrap = {
            k: str(v) for k, v in (response or {}).items() if k.startswith("BootstrapBroker")
        }
    active = None
    if info.get("ActiveOperationArn"):
        active = describe_operation(msk, str(info["ActiveOperationArn"]))
    compatible: tuple[str, ...] = ()
    versions = _optional(
        lambda: msk.call("get_compatible_kafka_versions", ClusterArn=arn),
        "BadRequestException",
        "NotFoundException",
    )
    for entry in (versions or {}).get("CompatibleKafkaVersions", []):
        if entry.get("SourceVersion") == software.get("KafkaVersion"):
            compatible = tuple(entry.get("TargetVersions", []))
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
        operations=_operations(msk, arn),
        active_operation=active,
        compatible_versions=compatible,
        log_group=log_group,
    )


def observe_spec(msk: Service, logs: Service, spec: MskClusterSpec) -> MskObserved:
    """What planning `spec` needs: the cluster plus the log group and configuration it names."""
    cluster = observe_cluster(msk, logs, spec.name)
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
            configuration = find_configuration(msk, spec.effective_configuration_name)
    versions: tuple[str, ...] = ()
    if cluster is None:
        versions = tuple(
            str(v["Version"]) for v in msk.pages("list_kafka_versions", "KafkaVersions")
        )
    return MskObserved(cluster, log_group, configuration, versions)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turns a refused or failed AWS call into one message that says what to do."""
    try:
        yield
    except (ApiError, ConnectionFailure) as exc:
        raise aws_failure(what, exc) from exc


def observe(
    clients: Clients, environment: Environment, desired: MskDesired | None, mode: Mode
) -> MskObserved | None:
    """The MskCluster kind's observation (None when the specs declare no cluster)."""
    if desired is None:
        return None
    with reading("reading the cluster"):
        return observe_spec(clients.msk(), clients.logs(), desired.spec)


def fingerprint(desired: MskDesired | None, observed: MskObserved | None) -> object:
    """The observed MSK state as JSON for the plan's observed digest (invariant 4).

    CurrentVersion changes with every cluster update, so any write since the plan shows.
    """
    if observed is None:
        return None
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
