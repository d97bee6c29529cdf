"""Apply MSK changes: the only writer of the control plane.

One operation at a time, in plan order. Before each cluster update it waits until the cluster
is ACTIVE with no operation in flight (never racing another writer), re-reads CurrentVersion,
skips the change when the live cluster already has it, then waits for the MSK operation to
finish, reporting its steps. A stale CurrentVersion (someone else updated in between) is
re-read and retried. Every wait is bounded by `wait_timeout`; on a timeout, an UPDATE_FAILED
operation (with MSK's ErrorInfo) or a FAILED cluster, the remaining changes are not attempted,
so nothing runs on top of a cluster in an unknown state. Requests are rebuilt from the
changes' field diffs over the live cluster, so a saved plan applies what was reviewed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from reconciler.apply import Outcome, Progress
from reconciler.errors import ReconcilerError
from reconciler.model import Change
from reconciler.msk import rules
from reconciler.msk.observe import (
    describe_operation,
    find_cluster_arn,
    find_configuration,
    observe_cluster,
    observe_configuration,
    parse_label,
)
from reconciler.msk.spec import KIND, MAP_FIELDS, MskClusterSpec, flatten, spec_from_fields

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_logs import CloudWatchLogsClient

#: How often a stale CurrentVersion is re-read before giving up on a change.
VERSION_RETRIES = 3
CLUSTER_OPERATIONS = frozenset(rules.CLUSTER_OPERATIONS)
DESCRIPTION = "Managed by msk-reconciler"


class ApplyFailed(ReconcilerError):
    """One MSK change did not complete; the message says what MSK reported and what to do."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", exc))


# --- request bodies from a spec -------------------------------------------------------------


def client_authentication(spec: MskClusterSpec) -> dict[str, Any]:
    auth = spec.client_auth
    return {
        "Sasl": {"Scram": {"Enabled": auth.sasl_scram}, "Iam": {"Enabled": auth.sasl_iam}},
        "Tls": {
            "CertificateAuthorityArnList": list(auth.tls_certificate_authority_arns),
            "Enabled": auth.tls,
        },
        "Unauthenticated": {"Enabled": auth.unauthenticated},
    }


def logging_info(spec: MskClusterSpec) -> dict[str, Any]:
    logs = spec.logging
    cloudwatch: dict[str, Any] = {"Enabled": logs.cloudwatch_log_group is not None}
    if logs.cloudwatch_log_group:
        cloudwatch["LogGroup"] = logs.cloudwatch_log_group
    s3: dict[str, Any] = {"Enabled": logs.s3_bucket is not None}
    if logs.s3_bucket:
        s3["Bucket"] = logs.s3_bucket
        if logs.s3_prefix:
            s3["Prefix"] = logs.s3_prefix
    firehose: dict[str, Any] = {"Enabled": logs.firehose_delivery_stream is not None}
    if logs.firehose_delivery_stream:
        firehose["DeliveryStream"] = logs.firehose_delivery_stream
    return {"BrokerLogs": {"CloudWatchLogs": cloudwatch, "S3": s3, "Firehose": firehose}}


def open_monitoring(spec: MskClusterSpec) -> dict[str, Any]:
    return {
        "Prometheus": {
            "JmxExporter": {"EnabledInBroker": spec.jmx_exporter},
            "NodeExporter": {"EnabledInBroker": spec.node_exporter},
        }
    }


def create_request(spec: MskClusterSpec, configuration: dict[str, Any] | None) -> dict[str, Any]:
    """CreateClusterV2 for a provisioned cluster (public access always follows later)."""
    ebs: dict[str, Any] = {"VolumeSize": spec.storage.volume_size_gib}
    if spec.storage.provisioned_throughput_mibps is not None:
        ebs["ProvisionedThroughput"] = {
            "Enabled": True,
            "VolumeThroughput": spec.storage.provisioned_throughput_mibps,
        }
    nodes: dict[str, Any] = {
        "ClientSubnets": list(spec.client_subnets),
        "InstanceType": spec.instance_type,
        "StorageInfo": {"EbsStorageInfo": ebs},
    }
    if spec.security_groups is not None:
        nodes["SecurityGroups"] = list(spec.security_groups)
    encryption: dict[str, Any] = {
        "EncryptionInTransit": {
            "ClientBroker": spec.encryption.client_broker,
            "InCluster": spec.encryption.in_cluster,
        }
    }
    if spec.encryption.kms_key_id:
        encryption["EncryptionAtRest"] = {"DataVolumeKMSKeyId": spec.encryption.kms_key_id}
    provisioned: dict[str, Any] = {
        "BrokerNodeGroupInfo": nodes,
        "KafkaVersion": spec.kafka_version,
        "NumberOfBrokerNodes": spec.broker_count,
        "ClientAuthentication": client_authentication(spec),
        "EncryptionInfo": encryption,
        "EnhancedMonitoring": spec.enhanced_monitoring,
        "OpenMonitoring": open_monitoring(spec),
        "LoggingInfo": logging_info(spec),
    }
    if configuration:
        provisioned["ConfigurationInfo"] = configuration
    request: dict[str, Any] = {"ClusterName": spec.name, "Provisioned": provisioned}
    if spec.tags:
        request["Tags"] = dict(spec.tags)
    return request


def update_request(operation: str, spec: MskClusterSpec, change: Change) -> dict[str, Any]:
    """The body of one cluster update (without ClusterArn / CurrentVersion)."""
    changed = {d.field for d in change.diff}
    if operation == "UpdateBrokerCount":
        return {"TargetNumberOfBrokerNodes": spec.broker_count}
    if operation == "UpdateBrokerStorage":
        info: dict[str, Any] = {"KafkaBrokerNodeId": "All"}
        if "brokers.storage.volumeSizeGiB" in changed:
            info["VolumeSizeGB"] = spec.storage.volume_size_gib
        if "brokers.storage.provisionedThroughputMiBps" in changed:
            mibps = spec.storage.provisioned_throughput_mibps
            info["ProvisionedThroughput"] = (
                {"Enabled": True, "VolumeThroughput": mibps} if mibps else {"Enabled": False}
            )
        return {"TargetBrokerEBSVolumeInfo": [info]}
    if operation == "UpdateBrokerType":
        return {"TargetInstanceType": spec.instance_type}
    if operation == "UpdateClusterKafkaVersion":
        return {"TargetKafkaVersion": spec.kafka_version}
    if operation == "UpdateMonitoring":
        return {
            "EnhancedMonitoring": spec.enhanced_monitoring,
            "OpenMonitoring": open_monitoring(spec),
            "LoggingInfo": logging_info(spec),
        }
    if operation == "UpdateSecurity":
        request: dict[str, Any] = {"ClientAuthentication": client_authentication(spec)}
        if "encryption.inTransit.clientBroker" in changed:
            request["EncryptionInfo"] = {
                "EncryptionInTransit": {"ClientBroker": spec.encryption.client_broker}
            }
        return request
    if operation == "UpdateConnectivity":
        kind = "SERVICE_PROVIDED_EIPS" if spec.public_access else "DISABLED"
        return {"ConnectivityInfo": {"PublicAccess": {"Type": kind}}}
    raise ApplyFailed(f"{operation} is not an MSK cluster update this version applies")


def _merge(fields: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """Live fields with the change's `after` values laid over them (map keys may vanish)."""
    merged = dict(fields)
    for diff in change.diff:
        merged[diff.field] = diff.after
    return {k: v for k, v in merged.items() if not (v is None and k.split(".")[0] in MAP_FIELDS)}


def _properties(base: Mapping[str, str], change: Change) -> dict[str, str]:
    result = dict(base)
    for diff in change.diff:
        if diff.field.startswith("serverProperties."):
            key = diff.field.removeprefix("serverProperties.")
            if diff.after is None:
                result.pop(key, None)
            else:
                result[key] = str(diff.after)
    return result


def _label_of(change: Change) -> tuple[str | None, str]:
    for diff in change.diff:
        if diff.field == "configuration":
            return diff.before, str(diff.after)
    raise ApplyFailed(f"{change.operation} has no configuration diff")


# --- the applier ----------------------------------------------------------------------------


@dataclass
class _Applier:
    kafka: KafkaClient
    logs: CloudWatchLogsClient
    progress: Progress
    wait_timeout: float
    poll_seconds: float
    sleep: Callable[[float], None] = time.sleep
    arns: dict[str, str] = field(default_factory=dict)
    configurations: dict[str, str] = field(default_factory=dict)

    # -- lookups -----------------------------------------------------------------------------

    def cluster_arn(self, name: str) -> str:
        if name not in self.arns:
            arn = find_cluster_arn(self.kafka, name)
            if arn is None:
                raise ApplyFailed(f"MSK cluster {name} does not exist (any more); plan again")
            self.arns[name] = arn
        return self.arns[name]

    def configuration_arn(self, name: str) -> str:
        if name not in self.configurations:
            found = find_configuration(self.kafka, name)
            if found is None:
                raise ApplyFailed(f"MSK configuration {name} does not exist; plan again")
            self.configurations[name] = found.arn
        return self.configurations[name]

    # -- waiting -----------------------------------------------------------------------------

    def _describe(self, arn: str) -> dict[str, Any]:
        response = cast(dict[str, Any], self.kafka.describe_cluster_v2(ClusterArn=arn))
        return cast(dict[str, Any], response["ClusterInfo"])

    def wait_until_ready(self, name: str) -> None:
        """Block until ACTIVE with nothing in flight; refuse a FAILED or DELETING cluster."""
        arn = self.cluster_arn(name)
        deadline = time.monotonic() + self.wait_timeout
        last = ""
        while True:
            info = self._describe(arn)
            state = str(info.get("State"))
            running = info.get("ActiveOperationArn")
            if state == "ACTIVE" and not running:
                return
            if state in {"FAILED", "DELETING"}:
                detail = (info.get("StateInfo") or {}).get("Message")
                raise ApplyFailed(
                    f"MSK cluster {name} is {state}{f' ({detail})' if detail else ''}: MSK "
                    "accepts no update in this state"
                )
            what = state
            if running:
                operation = describe_operation(self.kafka, str(running))
                what = f"{state}: {operation.type} {_step_text(operation.steps)}"
            if what != last:
                self.progress(f"waiting for MSK cluster {name} ({what})")
                last = what
            if time.monotonic() >= deadline:
                raise ApplyFailed(
                    f"MSK cluster {name} was still {what} after {self.wait_timeout:g}s; nothing "
                    "was changed by this step. Run apply again once the cluster is ACTIVE"
                )
            self.sleep(self.poll_seconds)

    def wait_for_operation(self, operation_arn: str, label: str) -> str:
        """Follow one cluster operation to UPDATE_COMPLETE, reporting each step change."""
        started = time.monotonic()
        deadline = started + self.wait_timeout
        last = ""
        while True:
            operation = describe_operation(self.kafka, operation_arn)
            elapsed = time.monotonic() - started
            if operation.state == "UPDATE_COMPLETE":
                self.progress(f"{label}: complete after {elapsed:.0f}s")
                return f"{label}: UPDATE_COMPLETE"
            if operation.state == "UPDATE_FAILED":
                raise ApplyFailed(
                    f"{label} failed: MSK reports {operation.error or 'no error info'} "
                    f"(operation {operation_arn}). MSK keeps the previous settings; fix the "
                    "cause and run plan again"
                )
            text = f"{operation.state} {_step_text(operation.steps)}".strip()
            if text != last:
                self.progress(f"{label}: {text} ({elapsed:.0f}s)")
                last = text
            if time.monotonic() >= deadline:
                raise ApplyFailed(
                    f"{label} was still {operation.state} after {self.wait_timeout:g}s; MSK "
                    "keeps running it, nothing after it was attempted. Run plan again once it "
                    f"finishes (operation {operation_arn})"
                )
            self.sleep(self.poll_seconds)

    def wait_for_creation(self, name: str) -> str:
        arn = self.cluster_arn(name)
        started = time.monotonic()
        while True:
            info = self._describe(arn)
            state = str(info.get("State"))
            elapsed = time.monotonic() - started
            if state == "ACTIVE":
                self.progress(f"CreateClusterV2 {name}: ACTIVE after {elapsed:.0f}s")
                return f"CreateClusterV2: {name} is ACTIVE"
            if state == "FAILED":
                reason = info.get("StateInfo") or {}
                raise ApplyFailed(
                    f"MSK could not create {name}: {reason.get('Code', '')} "
                    f"{reason.get('Message', 'no state info')}".strip()
                )
            if elapsed >= self.wait_timeout:
                raise ApplyFailed(
                    f"MSK cluster {name} was still {state} after {self.wait_timeout:g}s; MSK "
                    "keeps creating it. Run plan again once it is ACTIVE"
                )
            self.sleep(self.poll_seconds)

    # -- operations --------------------------------------------------------------------------

    def run(self, change: Change) -> str:
        operation = change.operation or ""
        if operation in CLUSTER_OPERATIONS:
            return self.cluster_update(change)
        handler = {
            "CreateLogGroup": self.create_log_group,
            "PutRetentionPolicy": self.put_retention,
            "CreateConfiguration": self.create_configuration,
            "UpdateConfiguration": self.update_configuration,
            "CreateClusterV2": self.create_cluster,
            "TagResource": self.tag,
            "UntagResource": self.untag,
        }.get(operation)
        if handler is None:
            raise ApplyFailed(f"no MSK operation to apply for {change.name} ({operation or '?'})")
        return handler(change)

    def cluster_update(self, change: Change) -> str:
        operation = str(change.operation)
        for _ in range(VERSION_RETRIES):
            self.wait_until_ready(change.name)
            live = observe_cluster(self.kafka, self.logs, self.cluster_arn(change.name))
            if live is None:
                raise ApplyFailed(f"MSK cluster {change.name} disappeared; plan again")
            if operation == "UpdateClusterConfiguration":
                after = _label_of(change)[1]
                if live.configuration is not None and live.configuration.label == after:
                    return f"{operation}: already {after}"
                name, revision = parse_label(after)
                body: dict[str, Any] = {
                    "ConfigurationInfo": {"Arn": self.configuration_arn(name), "Revision": revision}
                }
            else:
                fields = flatten(live.actual)
                if all(fields.get(d.field) == d.after for d in change.diff):
                    return f"{operation}: already in place"
                desired = spec_from_fields(change.name, _merge(fields, change))
                body = update_request(operation, desired, change)
            call = getattr(self.kafka, _snake(operation))
            try:
                response = call(ClusterArn=live.arn, CurrentVersion=live.current_version, **body)
            except ClientError as exc:
                if _code(exc) == "BadRequestException" and _message(exc) == rules.STALE_VERSION:
                    self.progress(f"{operation}: the cluster version changed meanwhile; re-reading")
                    continue
                raise ApplyFailed(f"{operation} refused: {_code(exc)}: {_message(exc)}") from exc
            self.progress(f"{operation} started on {change.name}")
            return self.wait_for_operation(str(response["ClusterOperationArn"]), operation)
        raise ApplyFailed(
            f"{operation}: the cluster's CurrentVersion kept changing ({VERSION_RETRIES} tries); "
            "another writer is active. Run plan again"
        )

    def create_cluster(self, change: Change) -> str:
        fields = {d.field: d.after for d in change.diff}
        label = fields.pop("configuration", None)
        spec = spec_from_fields(change.name, fields)
        configuration = None
        if label:
            name, revision = parse_label(str(label))
            configuration = {"Arn": self.configuration_arn(name), "Revision": revision}
        try:
            response = self.kafka.create_cluster_v2(**create_request(spec, configuration))
        except ClientError as exc:
            raise ApplyFailed(f"CreateClusterV2 refused: {_code(exc)}: {_message(exc)}") from exc
        self.arns[change.name] = str(response["ClusterArn"])
        self.progress(f"CreateClusterV2 {change.name}: {response.get('State', 'CREATING')}")
        return self.wait_for_creation(change.name)

    def create_configuration(self, change: Change) -> str:
        _, after = _label_of(change)
        name, revision = parse_label(after)
        text = rules.render_server_properties(_properties({}, change))
        try:
            response = self.kafka.create_configuration(
                Name=name, ServerProperties=text.encode(), Description=DESCRIPTION
            )
        except ClientError as exc:
            raise ApplyFailed(
                f"CreateConfiguration {name} refused: {_code(exc)}: {_message(exc)}"
            ) from exc
        self.configurations[name] = str(response["Arn"])
        got = int(response["LatestRevision"]["Revision"])
        if got != revision:
            raise ApplyFailed(f"MSK created {name} at revision {got}, not {revision}; plan again")
        return f"CreateConfiguration: {after}"

    def update_configuration(self, change: Change) -> str:
        before, after = _label_of(change)
        name, revision = parse_label(after)
        arn = self.configuration_arn(name)
        base: Mapping[str, str] = {}
        if before is not None:
            base_name, base_revision = parse_label(before)
            base = observe_configuration(
                self.kafka, self.configuration_arn(base_name), base_revision
            ).server_properties
        text = rules.render_server_properties(_properties(base, change))
        try:
            response = self.kafka.update_configuration(
                Arn=arn, ServerProperties=text.encode(), Description=DESCRIPTION
            )
        except ClientError as exc:
            raise ApplyFailed(
                f"UpdateConfiguration {name} refused: {_code(exc)}: {_message(exc)}"
            ) from exc
        got = int(response["LatestRevision"]["Revision"])
        if got != revision:
            raise ApplyFailed(
                f"MSK made revision {got} of {name}, not the planned {revision}: someone else "
                "changed the configuration. Plan again"
            )
        return f"UpdateConfiguration: {after}"

    def create_log_group(self, change: Change) -> str:
        name = str(change.diff[0].after)
        try:
            self.logs.create_log_group(logGroupName=name)
        except ClientError as exc:
            if _code(exc) != "ResourceAlreadyExistsException":
                raise ApplyFailed(f"CreateLogGroup {name}: {_message(exc)}") from exc
            return f"CreateLogGroup: {name} already exists"
        return f"CreateLogGroup: {name}"

    def put_retention(self, change: Change) -> str:
        diff = change.diff[0]
        group = diff.field.removeprefix("logGroup[").removesuffix("].retentionDays")
        try:
            self.logs.put_retention_policy(logGroupName=group, retentionInDays=int(diff.after))
        except ClientError as exc:
            raise ApplyFailed(f"PutRetentionPolicy {group}: {_message(exc)}") from exc
        return f"PutRetentionPolicy: {group} keeps {diff.after} days"

    def tag(self, change: Change) -> str:
        tags = {d.field.removeprefix("tags."): str(d.after) for d in change.diff}
        self.kafka.tag_resource(ResourceArn=self.cluster_arn(change.name), Tags=tags)
        return f"TagResource: {', '.join(sorted(tags))}"

    def untag(self, change: Change) -> str:
        keys = [d.field.removeprefix("tags.") for d in change.diff]
        self.kafka.untag_resource(ResourceArn=self.cluster_arn(change.name), TagKeys=keys)
        return f"UntagResource: {', '.join(keys)}"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _step_text(steps: tuple[Any, ...]) -> str:
    if not steps:
        return ""
    done = sum(1 for s in steps if s.status == "COMPLETED")
    current = next((s for s in steps if s.status not in {"COMPLETED", "PENDING"}), None)
    now = f", {current.name} {current.status}" if current else ""
    return f"step {done}/{len(steps)}{now}"


def apply_cluster(
    kafka: KafkaClient,
    logs: CloudWatchLogsClient,
    changes: list[Change],
    progress: Progress,
    *,
    wait_timeout: float,
    poll_seconds: float,
) -> list[Outcome]:
    """Run the plan's MskCluster changes in order; one Outcome per change, whatever happens.

    Refuses (raises, having written nothing) when any of them is impossible. After a failure
    the remaining changes are reported as not attempted.
    """
    mine = [c for c in changes if c.kind == KIND]
    if any(c.blocked for c in mine):
        raise ReconcilerError("the plan has impossible MSK changes; nothing was applied")
    applier = _Applier(kafka, logs, progress, wait_timeout, poll_seconds)
    outcomes: list[Outcome] = []
    failure: str | None = None
    for change in mine:
        if failure is not None:
            outcomes.append(Outcome(change, False, f"not attempted: {failure}"))
            continue
        try:
            outcomes.append(Outcome(change, True, applier.run(change)))
        except (ApplyFailed, ClientError, BotoCoreError) as exc:  # AWS errors after retries too
            outcomes.append(Outcome(change, False, str(exc)))
            failure = f"{change.operation} on {change.name} did not complete"
            progress(str(exc))
    return outcomes
