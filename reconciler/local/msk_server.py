"""A local Amazon MSK control-plane endpoint for the demo and the tests.

It speaks MSK's REST-JSON protocol, so the unmodified boto3 `kafka` client reaches it with
`endpoint_url=` or AWS_ENDPOINT_URL_KAFKA and dummy credentials, and the production code path
runs unchanged. Requests are parsed and responses written by walking botocore's own `kafka`
service model (routes, member names, timestamps, blobs come from it), so the wire format
cannot drift from AWS's; the tests validate every response against the output shapes again.

Semantics follow MSK: CurrentVersion optimistic concurrency (a stale version gets MSK's
BadRequestException text), CREATING/UPDATING -> ACTIVE, one operation at a time, operations
with steps that take `operation_seconds`, configuration revisions, the update rules of
`reconciler.msk.rules` enforced server-side, and bootstrap brokers that point at the local
Kafka cluster. Operations advance from the clock on every request, so no background thread
mutates state. Outside the AWS API, `/_local/...` endpoints (and the same methods on
`MskServer`) inject an operation failure, throttle requests or move the clock forward.

    python -m reconciler.local.msk_server --port 9500 --kafka-bootstrap 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import logging
import re
import secrets
import signal
import string
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from reconciler.kinds.msk_cluster import rules

log = logging.getLogger(__name__)
Json = dict[str, Any]

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
#: MSK's default EBS volume when CreateClusterV2 gives no StorageInfo.
DEFAULT_VOLUME_GIB = 1000
ADMIN_PREFIX = "/_local/"

#: The kafka API operations this endpoint serves; every other one answers 501.
IMPLEMENTED = (
    "CreateClusterV2",
    "DescribeClusterV2",
    "DescribeCluster",
    "ListClustersV2",
    "GetBootstrapBrokers",
    "GetCompatibleKafkaVersions",
    "ListKafkaVersions",
    *rules.CLUSTER_OPERATIONS,
    "CreateConfiguration",
    "UpdateConfiguration",
    "DescribeConfiguration",
    "DescribeConfigurationRevision",
    "ListConfigurationRevisions",
    "ListConfigurations",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "ListClusterOperationsV2",
    "DescribeClusterOperationV2",
    "ListClusterOperations",
    "DescribeClusterOperation",
)

#: Steps each operation type reports while it runs (UPDATE_CLUSTER_KAFKA_VERSION's are MSK's
#: documented ones; the others follow the same INITIALIZE/.../FINALIZE pattern).
STEPS: Mapping[str, tuple[str, ...]] = {
    "CREATE": (),
    "INCREASE_BROKER_COUNT": ("INITIALIZE_UPDATE", "PROVISION_NEW_BROKERS", "FINALIZE_UPDATE"),
    "DECREASE_BROKER_COUNT": ("INITIALIZE_UPDATE", "REMOVE_BROKERS", "FINALIZE_UPDATE"),
    "UPDATE_BROKER_STORAGE": ("INITIALIZE_UPDATE", "UPDATE_BROKER_STORAGE", "FINALIZE_UPDATE"),
    "UPDATE_BROKER_TYPE": ("INITIALIZE_UPDATE", "UPDATE_BROKER_TYPE", "FINALIZE_UPDATE"),
    "UPDATE_CLUSTER_CONFIGURATION": (
        "INITIALIZE_UPDATE",
        "UPDATE_BROKER_CONFIGURATION",
        "FINALIZE_UPDATE",
    ),
    "UPDATE_CLUSTER_KAFKA_VERSION": (
        "INITIALIZE_UPDATE",
        "UPDATE_APACHE_KAFKA_BINARIES",
        "FINALIZE_UPDATE",
    ),
    "UPDATE_MONITORING": ("INITIALIZE_UPDATE", "UPDATE_MONITORING", "FINALIZE_UPDATE"),
    "UPDATE_SECURITY": ("INITIALIZE_UPDATE", "UPDATE_SECURITY", "FINALIZE_UPDATE"),
    "UPDATE_CONNECTIVITY": ("INITIALIZE_UPDATE", "UPDATE_CONNECTIVITY", "FINALIZE_UPDATE"),
}

ERROR_STATUS: Mapping[str, int] = {
    "BadRequestException": 400,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,
    "NotFoundException": 404,
    "ConflictException": 409,
    "TooManyRequestsException": 429,
    "InternalServerErrorException": 500,
    "NotImplemented": 501,
    "ServiceUnavailableException": 503,
}


class ApiError(Exception):
    """An MSK error response: HTTP status from the code, JSON body with message."""

    def __init__(self, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter = parameter


def bad_request(message: str, parameter: str | None = None) -> ApiError:
    return ApiError("BadRequestException", message, parameter)


# --- the wire format, from botocore's model -------------------------------------------------


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("kafka")


def iso(moment: float | datetime) -> str:
    """MSK's timestamp format: ISO 8601 UTC with milliseconds, e.g. 2019-06-20T21:08:57.735Z."""
    value = moment if isinstance(moment, datetime) else datetime.fromtimestamp(moment, UTC)
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def to_wire(shape: Shape, value: Any) -> Any:
    """Member-name data -> the JSON MSK sends (serialization names). Unknown members raise."""
    kind = shape.type_name
    if kind == "structure":
        members = cast(StructureShape, shape).members
        out: Json = {}
        for key, item in value.items():
            if item is None:
                continue
            if key not in members:
                raise KeyError(f"{shape.name} has no member {key!r}")
            member = members[key]
            out[member.serialization.get("name", key)] = to_wire(member, item)
        return out
    if kind == "list":
        return [to_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(k): to_wire(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return iso(value)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    return value


def from_wire(shape: Shape, value: Any) -> Any:
    """Request JSON -> member-name data (what boto3 callers pass). Unknown members are dropped."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise bad_request(f"{shape.name} must be an object")
        members = cast(StructureShape, shape).members
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in members.items()}
        return {
            by_wire[k][0]: from_wire(by_wire[k][1], v) for k, v in value.items() if k in by_wire
        }
    if kind == "list":
        return [from_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(k): from_wire(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "blob":
        return base64.b64decode(value)
    return value


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in {"integer", "long"}:
        try:
            return int(text)
        except ValueError:
            raise bad_request(f"{text!r} is not a number") from None
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


@cache
def routes() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, path pattern, operation) for every implemented operation, from the model."""
    found = []
    for name in IMPLEMENTED:
        http = service_model().operation_model(name).http
        template = str(http["requestUri"]).split("?")[0]
        pattern = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", template)
        found.append((str(http["method"]), re.compile(f"^{pattern}$"), name))
    return tuple(found)


def parse_request(
    operation: OperationModel, path: Mapping[str, str], query: Mapping[str, list[str]], body: Json
) -> Json:
    """URI, query string and body members -> one member-name dict, like boto3's kwargs."""
    params: Json = {}
    shape = operation.input_shape
    if shape is None:
        return params
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri" and wire in path:
            params[name] = _scalar(member, unquote(path[wire]))
        elif where == "querystring" and wire in query:
            values = query[wire]
            if member.type_name == "list":
                params[name] = values
            else:
                params[name] = _scalar(member, values[0])
        elif where is None and wire in body:
            params[name] = from_wire(member, body[wire])
    return params


# --- state ----------------------------------------------------------------------------------


def _new_version() -> str:
    """A cluster version like MSK's (e.g. K21V3IB1VIZYYH): not a counter, so it is not guessable."""
    alphabet = string.ascii_uppercase + string.digits
    return "K" + "".join(secrets.choice(alphabet) for _ in range(13))


@dataclass
class _Cluster:
    arn: str
    name: str
    created: float
    version: str
    state: str
    provisioned: Json
    tags: dict[str, str] = field(default_factory=dict)
    state_info: Json | None = None
    active_operation: str | None = None


@dataclass
class _Revision:
    revision: int
    created: float
    properties: str
    description: str | None = None


@dataclass
class _Configuration:
    arn: str
    name: str
    created: float
    revisions: list[_Revision]
    kafka_versions: list[str] = field(default_factory=list)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class _Operation:
    arn: str
    cluster_arn: str
    type: str
    start: float
    duration: float
    source: Json
    target: Json
    request_id: str
    state: str = "PENDING"
    end: float | None = None
    fail_code: str | None = None
    fail_message: str | None = None

    def steps(self, now: float) -> list[Json]:
        names = STEPS.get(self.type, ())
        if not names:
            return []
        elapsed = now - self.start
        running = elapsed >= self.duration * 0.1 and self.state == "UPDATE_IN_PROGRESS"
        share = self.duration * 0.9 / len(names)
        steps = []
        for index, name in enumerate(names):
            begins = self.duration * 0.1 + index * share
            if self.state == "UPDATE_COMPLETE" or (running and elapsed >= begins + share):
                status = "COMPLETED"
            elif self.state == "UPDATE_FAILED":
                status = "FAILED" if index == len(names) - 1 else "COMPLETED"
            elif running and elapsed >= begins:
                status = "IN_PROGRESS"
            else:
                status = "PENDING"
            steps.append({"StepName": name, "StepInfo": {"StepStatus": status}})
        return steps


@dataclass
class _Failure:
    cluster: str
    operation_type: str | None
    code: str
    message: str


def _full_auth(auth: Json | None) -> Json:
    """ClientAuthentication as MSK describes it: every method present, enabled or not."""
    auth = auth or {"Unauthenticated": {"Enabled": True}}
    sasl = auth.get("Sasl") or {}
    tls = auth.get("Tls") or {}
    cas = list(tls.get("CertificateAuthorityArnList") or [])
    return {
        "Sasl": {
            "Scram": {"Enabled": bool((sasl.get("Scram") or {}).get("Enabled", False))},
            "Iam": {"Enabled": bool((sasl.get("Iam") or {}).get("Enabled", False))},
        },
        "Tls": {"CertificateAuthorityArnList": cas, "Enabled": bool(tls.get("Enabled", bool(cas)))},
        "Unauthenticated": {
            "Enabled": bool((auth.get("Unauthenticated") or {}).get("Enabled", False))
        },
    }


def _full_logging(logging_info: Json | None) -> Json:
    logs = (logging_info or {}).get("BrokerLogs") or {}
    result: Json = {}
    for key in ("CloudWatchLogs", "Firehose", "S3"):
        entry = dict(logs.get(key) or {"Enabled": False})
        entry["Enabled"] = bool(entry.get("Enabled", False))
        result[key] = entry
    return {"BrokerLogs": result}


def _logging_problem(logging_info: Json) -> str | None:
    logs = logging_info.get("BrokerLogs") or {}
    for key, target in (
        ("CloudWatchLogs", "LogGroup"),
        ("S3", "Bucket"),
        ("Firehose", "DeliveryStream"),
    ):
        entry = logs.get(key) or {}
        if entry.get("Enabled") and not entry.get(target):
            return f"{key} broker logs need {target} when enabled"
    return None


def _open_monitoring(info: Json | None) -> Json:
    prometheus = (info or {}).get("Prometheus") or {}
    return {
        "Prometheus": {
            "JmxExporter": {
                "EnabledInBroker": bool(
                    (prometheus.get("JmxExporter") or {}).get("EnabledInBroker")
                )
            },
            "NodeExporter": {
                "EnabledInBroker": bool(
                    (prometheus.get("NodeExporter") or {}).get("EnabledInBroker")
                )
            },
        }
    }


def _security(p: Json) -> tuple[str, bool, bool, bool, bool, bool]:
    auth = p["ClientAuthentication"]
    transit = p["EncryptionInfo"]["EncryptionInTransit"]
    return (
        str(transit["ClientBroker"]),
        bool(transit["InCluster"]),
        bool(auth["Unauthenticated"]["Enabled"]),
        bool(auth["Tls"]["Enabled"]),
        bool(auth["Sasl"]["Scram"]["Enabled"]),
        bool(auth["Sasl"]["Iam"]["Enabled"]),
    )


def _security_problems(p: Json) -> list[str]:
    client_broker, in_cluster, unauth, tls, scram, iam = _security(p)
    return rules.security_problems(
        client_broker=client_broker,
        in_cluster=in_cluster,
        unauthenticated=unauth,
        tls=tls,
        scram=scram,
        iam=iam,
    )


class MskBackend:
    """The MSK state machine behind the HTTP layer; every public call holds the lock."""

    def __init__(
        self,
        *,
        kafka_bootstrap: str,
        kafka_tls_bootstrap: str | None = None,
        operation_seconds: float = 2.0,
        storage_cooldown_seconds: float = rules.STORAGE_COOLDOWN.total_seconds(),
        state_file: Path | None = None,
    ) -> None:
        self.kafka_bootstrap = kafka_bootstrap
        self.kafka_tls_bootstrap = kafka_tls_bootstrap
        self.operation_seconds = operation_seconds
        self.storage_cooldown_seconds = storage_cooldown_seconds
        self.state_file = state_file
        self.lock = threading.RLock()
        self.clusters: dict[str, _Cluster] = {}
        self.configurations: dict[str, _Configuration] = {}
        self.operations: dict[str, _Operation] = {}
        self.failures: list[_Failure] = []
        self.throttled = 0
        self.clock_offset = 0.0
        self.region = DEFAULT_REGION
        if state_file is not None and state_file.exists():
            self._restore(json.loads(state_file.read_text(encoding="utf-8")))

    # -- persistence -------------------------------------------------------------------------

    def _save(self) -> None:
        if self.state_file is None:
            return
        data = {
            "clock_offset": self.clock_offset,
            "clusters": [asdict(c) for c in self.clusters.values()],
            "configurations": [asdict(c) for c in self.configurations.values()],
            "operations": [asdict(o) for o in self.operations.values()],
        }
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(self.state_file)

    def _restore(self, data: Json) -> None:
        self.clock_offset = float(data.get("clock_offset", 0.0))
        for raw in data.get("clusters", []):
            cluster = _Cluster(**raw)
            self.clusters[cluster.arn] = cluster
        for raw in data.get("configurations", []):
            revisions = [_Revision(**r) for r in raw.pop("revisions")]
            configuration = _Configuration(revisions=revisions, **raw)
            self.configurations[configuration.arn] = configuration
        for raw in data.get("operations", []):
            operation = _Operation(**raw)
            self.operations[operation.arn] = operation

    # -- time and operations -----------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self) -> None:
        """Move every running operation along the clock; finish the ones whose time is up."""
        now = self.now()
        for cluster in self.clusters.values():
            if cluster.active_operation is None:
                continue
            operation = self.operations[cluster.active_operation]
            elapsed = now - operation.start
            if elapsed < operation.duration:
                if elapsed >= operation.duration * 0.1:
                    operation.state = "UPDATE_IN_PROGRESS"
                continue
            operation.end = operation.start + operation.duration
            cluster.active_operation = None
            if operation.fail_code is not None:
                operation.state = "UPDATE_FAILED"
                if operation.type == "CREATE":
                    cluster.state = "FAILED"
                    cluster.state_info = {
                        "Code": operation.fail_code,
                        "Message": operation.fail_message,
                    }
                else:  # MSK rolls a failed update back; the cluster serves on, unchanged
                    cluster.state = "ACTIVE"
            else:
                operation.state = "UPDATE_COMPLETE"
                self._apply_target(cluster, operation.target)
                cluster.state = "ACTIVE"
            self._save()

    def _apply_target(self, cluster: _Cluster, target: Json) -> None:
        p = cluster.provisioned
        nodes = p["BrokerNodeGroupInfo"]
        for key, value in target.items():
            if key == "NumberOfBrokerNodes":
                p[key] = value
            elif key == "BrokerEBSVolumeInfo":
                ebs = nodes["StorageInfo"]["EbsStorageInfo"]
                info = value[0]
                if info.get("VolumeSizeGB") is not None:
                    ebs["VolumeSize"] = info["VolumeSizeGB"]
                if info.get("ProvisionedThroughput") is not None:
                    ebs["ProvisionedThroughput"] = info["ProvisionedThroughput"]
            elif key == "InstanceType":
                nodes["InstanceType"] = value
            elif key == "KafkaVersion":
                p["CurrentBrokerSoftwareInfo"]["KafkaVersion"] = value
            elif key == "ConfigurationInfo":
                p["CurrentBrokerSoftwareInfo"]["ConfigurationArn"] = value["Arn"]
                p["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] = value["Revision"]
            elif key == "EncryptionInfo":
                transit = value.get("EncryptionInTransit") or {}
                if "ClientBroker" in transit:
                    p["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] = transit[
                        "ClientBroker"
                    ]
            elif key == "ConnectivityInfo":
                nodes["ConnectivityInfo"] = value
            else:  # ClientAuthentication, EnhancedMonitoring, OpenMonitoring, LoggingInfo
                p[key] = value

    def _source(self, cluster: _Cluster, target: Json) -> Json:
        """The current values of the fields an operation changes (MutableClusterInfo)."""
        p = cluster.provisioned
        nodes = p["BrokerNodeGroupInfo"]
        ebs = nodes["StorageInfo"]["EbsStorageInfo"]
        current: Json = {
            "NumberOfBrokerNodes": p["NumberOfBrokerNodes"],
            "BrokerEBSVolumeInfo": [
                {
                    "KafkaBrokerNodeId": "All",
                    "VolumeSizeGB": ebs["VolumeSize"],
                    "ProvisionedThroughput": ebs.get("ProvisionedThroughput"),
                }
            ],
            "InstanceType": nodes["InstanceType"],
            "KafkaVersion": p["CurrentBrokerSoftwareInfo"]["KafkaVersion"],
            "ConfigurationInfo": {
                "Arn": p["CurrentBrokerSoftwareInfo"].get("ConfigurationArn"),
                "Revision": p["CurrentBrokerSoftwareInfo"].get("ConfigurationRevision"),
            }
            if p["CurrentBrokerSoftwareInfo"].get("ConfigurationArn")
            else None,
            "EncryptionInfo": {
                "EncryptionInTransit": {
                    "ClientBroker": p["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"]
                }
            },
            "ConnectivityInfo": nodes["ConnectivityInfo"],
            "ClientAuthentication": p["ClientAuthentication"],
            "EnhancedMonitoring": p["EnhancedMonitoring"],
            "OpenMonitoring": p["OpenMonitoring"],
            "LoggingInfo": p["LoggingInfo"],
        }
        return copy.deepcopy({k: current[k] for k in target if current.get(k) is not None})

    def _start(self, cluster: _Cluster, op_type: str, target: Json) -> Json:
        """Begin an operation: the cluster is busy until it ends; a new CurrentVersion now."""
        operation = _Operation(
            arn=(
                f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:cluster-operation/{cluster.name}/"
                f"{cluster.arn.rsplit('/', 1)[-1]}/{uuid.uuid4()}"
            ),
            cluster_arn=cluster.arn,
            type=op_type,
            start=self.now(),
            duration=self.operation_seconds,
            source=self._source(cluster, target) if op_type != "CREATE" else {},
            target=copy.deepcopy(target),
            request_id=str(uuid.uuid4()),
        )
        for failure in list(self.failures):
            if failure.cluster in {"*", cluster.arn, cluster.name} and failure.operation_type in {
                None,
                op_type,
            }:
                operation.fail_code, operation.fail_message = failure.code, failure.message
                self.failures.remove(failure)
                break
        self.operations[operation.arn] = operation
        cluster.active_operation = operation.arn
        cluster.state = "CREATING" if op_type == "CREATE" else "UPDATING"
        cluster.version = _new_version()
        self._save()
        return {"ClusterArn": cluster.arn, "ClusterOperationArn": operation.arn}

    # -- lookups -----------------------------------------------------------------------------

    def _cluster(self, arn: str) -> _Cluster:
        cluster = self.clusters.get(arn)
        if cluster is None:
            raise ApiError("NotFoundException", f"The cluster {arn} does not exist.", "clusterArn")
        return cluster

    def _configuration(self, arn: str, *, missing: str = "NotFoundException") -> _Configuration:
        configuration = self.configurations.get(arn)
        if configuration is None:
            if missing == "BadRequestException":
                raise bad_request(rules.INVALID_CONFIGURATION_ARN, "arn")
            raise ApiError("NotFoundException", f"The configuration {arn} does not exist.", "arn")
        return configuration

    def _revision(self, configuration: _Configuration, revision: int) -> _Revision:
        for candidate in configuration.revisions:
            if candidate.revision == revision:
                return candidate
        raise bad_request(
            f"Revision {revision} of configuration {configuration.arn} does not exist.",
            "revision",
        )

    def _updatable(self, params: Json) -> _Cluster:
        """The cluster an update names, if MSK would accept an update on it now."""
        cluster = self._cluster(str(params["ClusterArn"]))
        if params.get("CurrentVersion") != cluster.version:
            raise bad_request(rules.STALE_VERSION, "currentVersion")
        if cluster.state != "ACTIVE":
            raise bad_request(
                f"The cluster is in {cluster.state} state. You can perform this operation only "
                "when the cluster is ACTIVE.",
                "clusterArn",
            )
        return cluster

    def _properties_of(self, cluster: _Cluster) -> dict[str, str]:
        software = cluster.provisioned["CurrentBrokerSoftwareInfo"]
        arn = software.get("ConfigurationArn")
        if not arn or arn not in self.configurations:
            return {}
        revision = self._revision(self.configurations[arn], int(software["ConfigurationRevision"]))
        return rules.parse_server_properties(revision.properties)

    def _today(self) -> date:
        return datetime.fromtimestamp(self.now(), UTC).date()

    # -- clusters ----------------------------------------------------------------------------

    def create_cluster_v2(self, params: Json) -> Json:
        name = str(params["ClusterName"])
        if "Serverless" in params or "Provisioned" not in params:
            raise bad_request("The local MSK endpoint creates provisioned clusters only.")
        if any(c.name == name for c in self.clusters.values()):
            raise ApiError("ConflictException", rules.NAME_TAKEN, "clusterName")
        request: Json = params["Provisioned"]
        nodes = copy.deepcopy(request["BrokerNodeGroupInfo"])
        subnets = list(nodes.get("ClientSubnets") or [])
        instance_type = str(nodes.get("InstanceType"))
        version = str(request["KafkaVersion"])
        count = int(request["NumberOfBrokerNodes"])
        if not 2 <= len(subnets) <= 3:
            raise bad_request("Specify two or three client subnets, one per Availability Zone.")
        if instance_type not in rules.BROKER_SIZES:
            raise bad_request(f"{instance_type} is not a supported broker type.", "instanceType")
        if version not in rules.VERSIONS_BY_NAME:
            raise bad_request(f"Unsupported Apache Kafka version {version}.", "kafkaVersion")
        if count % len(subnets):
            raise bad_request(
                f"The number of broker nodes must be a multiple of the number of client subnets "
                f"({len(subnets)}).",
                "numberOfBrokerNodes",
            )
        public = ((nodes.get("ConnectivityInfo") or {}).get("PublicAccess") or {}).get("Type")
        if public not in {None, "DISABLED"}:
            raise bad_request("You can't turn on public access while creating a cluster.")
        storage = nodes.setdefault("StorageInfo", {}).setdefault("EbsStorageInfo", {})
        storage.setdefault("VolumeSize", DEFAULT_VOLUME_GIB)
        throughput = storage.get("ProvisionedThroughput") or {}
        if throughput.get("Enabled"):
            problem = rules.throughput_problem(
                instance_type, throughput.get("VolumeThroughput"), int(storage["VolumeSize"])
            )
            if problem:
                raise bad_request(problem, "provisionedThroughput")
        nodes.setdefault("BrokerAZDistribution", "DEFAULT")
        nodes.setdefault(
            "SecurityGroups", [f"sg-{uuid.uuid5(uuid.NAMESPACE_DNS, subnets[0]).hex[:17]}"]
        )
        nodes["ConnectivityInfo"] = {"PublicAccess": {"Type": "DISABLED"}}
        encryption = request.get("EncryptionInfo") or {}
        at_rest = encryption.get("EncryptionAtRest") or {
            "DataVolumeKMSKeyId": f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{uuid.uuid4()}"
        }
        transit = encryption.get("EncryptionInTransit") or {}
        software: Json = {"KafkaVersion": version}
        configuration = request.get("ConfigurationInfo")
        if configuration:
            checked = self._configuration_info(configuration, version)
            software["ConfigurationArn"] = checked["Arn"]
            software["ConfigurationRevision"] = checked["Revision"]
        provisioned: Json = {
            "BrokerNodeGroupInfo": nodes,
            "CurrentBrokerSoftwareInfo": software,
            "ClientAuthentication": _full_auth(request.get("ClientAuthentication")),
            "EncryptionInfo": {
                "EncryptionAtRest": at_rest,
                "EncryptionInTransit": {
                    "ClientBroker": transit.get("ClientBroker", "TLS"),
                    "InCluster": bool(transit.get("InCluster", True)),
                },
            },
            "EnhancedMonitoring": request.get("EnhancedMonitoring", "DEFAULT"),
            "OpenMonitoring": _open_monitoring(request.get("OpenMonitoring")),
            "LoggingInfo": _full_logging(request.get("LoggingInfo")),
            "NumberOfBrokerNodes": count,
            "StorageMode": "LOCAL",
        }
        problems = _security_problems(provisioned)
        logging_problem = _logging_problem(provisioned["LoggingInfo"])
        if problems or logging_problem:
            raise bad_request(
                "; ".join([*problems, *([logging_problem] if logging_problem else [])])
            )
        cluster = _Cluster(
            arn=f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:cluster/{name}/{uuid.uuid4()}-1",
            name=name,
            created=self.now(),
            version=_new_version(),
            state="CREATING",
            provisioned=provisioned,
            tags=dict(params.get("Tags") or {}),
        )
        self.clusters[cluster.arn] = cluster
        self._start(cluster, "CREATE", {})
        return {
            "ClusterArn": cluster.arn,
            "ClusterName": name,
            "State": "CREATING",
            "ClusterType": "PROVISIONED",
        }

    def _view_v2(self, cluster: _Cluster) -> Json:
        return {
            "ActiveOperationArn": cluster.active_operation,
            "ClusterType": "PROVISIONED",
            "ClusterArn": cluster.arn,
            "ClusterName": cluster.name,
            "CreationTime": cluster.created,
            "CurrentVersion": cluster.version,
            "State": cluster.state,
            "StateInfo": cluster.state_info,
            "Tags": dict(cluster.tags),
            "Provisioned": copy.deepcopy(cluster.provisioned),
        }

    def describe_cluster_v2(self, params: Json) -> Json:
        return {"ClusterInfo": self._view_v2(self._cluster(str(params["ClusterArn"])))}

    def describe_cluster(self, params: Json) -> Json:
        cluster = self._cluster(str(params["ClusterArn"]))
        p = copy.deepcopy(cluster.provisioned)
        return {
            "ClusterInfo": {
                "ActiveOperationArn": cluster.active_operation,
                "BrokerNodeGroupInfo": p["BrokerNodeGroupInfo"],
                "ClientAuthentication": p["ClientAuthentication"],
                "ClusterArn": cluster.arn,
                "ClusterName": cluster.name,
                "CreationTime": cluster.created,
                "CurrentBrokerSoftwareInfo": p["CurrentBrokerSoftwareInfo"],
                "CurrentVersion": cluster.version,
                "EncryptionInfo": p["EncryptionInfo"],
                "EnhancedMonitoring": p["EnhancedMonitoring"],
                "OpenMonitoring": p["OpenMonitoring"],
                "LoggingInfo": p["LoggingInfo"],
                "NumberOfBrokerNodes": p["NumberOfBrokerNodes"],
                "State": cluster.state,
                "StateInfo": cluster.state_info,
                "Tags": dict(cluster.tags),
                "StorageMode": p["StorageMode"],
            }
        }

    def list_clusters_v2(self, params: Json) -> Json:
        prefix = str(params.get("ClusterNameFilter") or "")
        kind = params.get("ClusterTypeFilter")
        found = [
            self._view_v2(c)
            for c in sorted(self.clusters.values(), key=lambda c: c.created)
            if c.name.startswith(prefix) and kind in {None, "PROVISIONED"}
        ]
        return _page(found, params, "ClusterInfoList")

    def get_bootstrap_brokers(self, params: Json) -> Json:
        cluster = self._cluster(str(params["ClusterArn"]))
        if cluster.state not in {
            "ACTIVE",
            "UPDATING",
            "HEALING",
            "MAINTENANCE",
            "REBOOTING_BROKER",
        }:
            raise bad_request(rules.bootstrap_refused(cluster.state))
        client_broker, _, unauth, tls, scram, iam = _security(cluster.provisioned)
        public = (
            cluster.provisioned["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"]
            == "SERVICE_PROVIDED_EIPS"
        )
        plain = self.kafka_bootstrap
        secure = self.kafka_tls_bootstrap or self.kafka_bootstrap
        result: Json = {}
        if client_broker in {"PLAINTEXT", "TLS_PLAINTEXT"}:
            result["BootstrapBrokerString"] = plain
        if client_broker in {"TLS", "TLS_PLAINTEXT"} and (unauth or tls):
            result["BootstrapBrokerStringTls"] = secure
            if public and tls:
                result["BootstrapBrokerStringPublicTls"] = secure
        if scram:
            result["BootstrapBrokerStringSaslScram"] = secure
            if public:
                result["BootstrapBrokerStringPublicSaslScram"] = secure
        if iam:
            result["BootstrapBrokerStringSaslIam"] = secure
            if public:
                result["BootstrapBrokerStringPublicSaslIam"] = secure
        return result

    def get_compatible_kafka_versions(self, params: Json) -> Json:
        if params.get("ClusterArn"):
            cluster = self._cluster(str(params["ClusterArn"]))
            sources = [str(cluster.provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"])]
        else:
            sources = [v.version for v in rules.KAFKA_VERSIONS]
        return {
            "CompatibleKafkaVersions": [
                {"SourceVersion": s, "TargetVersions": list(rules.compatible_targets(s))}
                for s in sources
            ]
        }

    def list_kafka_versions(self, params: Json) -> Json:
        today = self._today()
        versions = [
            {"Version": v.version, "Status": "DEPRECATED" if v.deprecated(today) else "ACTIVE"}
            for v in rules.KAFKA_VERSIONS
        ]
        return _page(versions, params, "KafkaVersions")

    # -- cluster updates ---------------------------------------------------------------------

    def update_broker_count(self, params: Json) -> Json:
        cluster = self._updatable(params)
        p = cluster.provisioned
        before, after = int(p["NumberOfBrokerNodes"]), int(params["TargetNumberOfBrokerNodes"])
        if before == after:
            raise bad_request(f"The cluster already has {after} broker nodes.")
        problems = rules.broker_count_problems(
            before,
            after,
            len(p["BrokerNodeGroupInfo"]["ClientSubnets"]),
            str(p["BrokerNodeGroupInfo"]["InstanceType"]),
            str(p["CurrentBrokerSoftwareInfo"]["KafkaVersion"]),
        )
        if problems:
            raise bad_request("; ".join(problems), "targetNumberOfBrokerNodes")
        op_type = "INCREASE_BROKER_COUNT" if after > before else "DECREASE_BROKER_COUNT"
        return self._start(cluster, op_type, {"NumberOfBrokerNodes": after})

    def update_broker_storage(self, params: Json) -> Json:
        cluster = self._updatable(params)
        infos = params.get("TargetBrokerEBSVolumeInfo") or []
        if len(infos) != 1 or str(infos[0].get("KafkaBrokerNodeId", "")).upper() != "ALL":
            raise bad_request(
                "Storage is updated for all brokers at once: give one entry with "
                "KafkaBrokerNodeId All.",
                "targetBrokerEBSVolumeInfo",
            )
        info = infos[0]
        nodes = cluster.provisioned["BrokerNodeGroupInfo"]
        ebs = nodes["StorageInfo"]["EbsStorageInfo"]
        current = int(ebs["VolumeSize"])
        size = info.get("VolumeSizeGB")
        throughput = info.get("ProvisionedThroughput")
        if size is not None:
            if int(size) < current:
                raise bad_request(
                    f"You can't decrease broker storage ({current} GiB -> {size} GiB).",
                    "volumeSizeGB",
                )
            if int(size) > rules.MAX_VOLUME_GIB:
                raise bad_request(
                    f"Storage per broker can't exceed {rules.MAX_VOLUME_GIB} GiB.", "volumeSizeGB"
                )
            if int(size) == current and throughput is None:
                raise bad_request(f"The brokers already have {current} GiB of storage.")
        if throughput and throughput.get("Enabled"):
            problem = rules.throughput_problem(
                str(nodes["InstanceType"]),
                throughput.get("VolumeThroughput"),
                int(size or current),
            )
            if problem:
                raise bad_request(problem, "provisionedThroughput")
        now = self.now()
        for operation in self.operations.values():
            if (
                operation.cluster_arn != cluster.arn
                or operation.type != "UPDATE_BROKER_STORAGE"
                or operation.state != "UPDATE_COMPLETE"
                or operation.end is None
            ):
                continue
            ready = operation.end + self.storage_cooldown_seconds
            if now < ready:
                raise bad_request(
                    "The cluster is in a storage cool-down period after the previous storage "
                    f"update; try again after {iso(ready)}.",
                    "targetBrokerEBSVolumeInfo",
                )
        target = {
            "BrokerEBSVolumeInfo": [
                {
                    "KafkaBrokerNodeId": "All",
                    "VolumeSizeGB": size,
                    "ProvisionedThroughput": throughput,
                }
            ]
        }
        return self._start(cluster, "UPDATE_BROKER_STORAGE", target)

    def update_broker_type(self, params: Json) -> Json:
        cluster = self._updatable(params)
        before = str(cluster.provisioned["BrokerNodeGroupInfo"]["InstanceType"])
        after = str(params["TargetInstanceType"])
        if before == after:
            raise bad_request(f"The brokers are already {after}.", "targetInstanceType")
        problem = rules.broker_type_problem(before, after)
        if problem:
            raise bad_request(problem, "targetInstanceType")
        return self._start(cluster, "UPDATE_BROKER_TYPE", {"InstanceType": after})

    def _configuration_info(self, info: Json, kafka_version: str) -> Json:
        """A configuration revision a cluster on `kafka_version` may use."""
        configuration = self._configuration(str(info.get("Arn")), missing="BadRequestException")
        revision = int(info.get("Revision", 0))
        self._revision(configuration, revision)
        versions = configuration.kafka_versions
        if versions and kafka_version not in versions:
            raise bad_request(
                f"Configuration {configuration.name} supports Kafka {', '.join(versions)}, not "
                f"{kafka_version}.",
                "configurationInfo",
            )
        return {"Arn": configuration.arn, "Revision": revision}

    def _kafka_version(self, cluster: _Cluster) -> str:
        return str(cluster.provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"])

    def update_cluster_configuration(self, params: Json) -> Json:
        cluster = self._updatable(params)
        info = self._configuration_info(params["ConfigurationInfo"], self._kafka_version(cluster))
        return self._start(cluster, "UPDATE_CLUSTER_CONFIGURATION", {"ConfigurationInfo": info})

    def update_cluster_kafka_version(self, params: Json) -> Json:
        cluster = self._updatable(params)
        current = self._kafka_version(cluster)
        target = str(params["TargetKafkaVersion"])
        allowed = rules.compatible_targets(current)
        if target not in allowed:
            raise bad_request(
                f"Apache Kafka version {current} can't be updated to {target}. Compatible "
                f"versions: {', '.join(allowed) or 'none'}.",
                "targetKafkaVersion",
            )
        change: Json = {"KafkaVersion": target}
        if params.get("ConfigurationInfo"):
            change["ConfigurationInfo"] = self._configuration_info(
                params["ConfigurationInfo"], target
            )
        else:
            software = cluster.provisioned["CurrentBrokerSoftwareInfo"]
            current_configuration = self.configurations.get(str(software.get("ConfigurationArn")))
            if current_configuration and current_configuration.kafka_versions:
                self._configuration_info(
                    {
                        "Arn": current_configuration.arn,
                        "Revision": software["ConfigurationRevision"],
                    },
                    target,
                )
        return self._start(cluster, "UPDATE_CLUSTER_KAFKA_VERSION", change)

    def update_monitoring(self, params: Json) -> Json:
        cluster = self._updatable(params)
        change: Json = {}
        if params.get("EnhancedMonitoring"):
            change["EnhancedMonitoring"] = params["EnhancedMonitoring"]
        if params.get("OpenMonitoring"):
            change["OpenMonitoring"] = _open_monitoring(params["OpenMonitoring"])
        if params.get("LoggingInfo"):
            logging_info = _full_logging(params["LoggingInfo"])
            problem = _logging_problem(logging_info)
            if problem:
                raise bad_request(problem, "loggingInfo")
            change["LoggingInfo"] = logging_info
        if not change:
            raise bad_request("Specify the monitoring or logging settings to update.")
        return self._start(cluster, "UPDATE_MONITORING", change)

    def update_security(self, params: Json) -> Json:
        cluster = self._updatable(params)
        encryption = params.get("EncryptionInfo") or {}
        if encryption.get("EncryptionAtRest"):
            raise bad_request("You can't change encryption at rest of an existing cluster.")
        transit = encryption.get("EncryptionInTransit") or {}
        in_cluster = cluster.provisioned["EncryptionInfo"]["EncryptionInTransit"]["InCluster"]
        if "InCluster" in transit and bool(transit["InCluster"]) != in_cluster:
            raise bad_request(
                "You can't change the in-cluster (broker-to-broker) encryption setting."
            )
        change: Json = {}
        if params.get("ClientAuthentication"):
            change["ClientAuthentication"] = _full_auth(params["ClientAuthentication"])
        if transit.get("ClientBroker"):
            change["EncryptionInfo"] = {
                "EncryptionInTransit": {"ClientBroker": transit["ClientBroker"]}
            }
        if not change:
            raise bad_request("Specify the client authentication or encryption to update.")
        result = copy.deepcopy(cluster.provisioned)
        result.update({k: v for k, v in change.items() if k == "ClientAuthentication"})
        if "EncryptionInfo" in change:
            result["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] = transit[
                "ClientBroker"
            ]
        problems = _security_problems(result)
        if result["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"] != "DISABLED":
            problems += self._public_problems(cluster, result)
        if problems:
            raise bad_request("; ".join(problems))
        return self._start(cluster, "UPDATE_SECURITY", change)

    def _public_problems(self, cluster: _Cluster, provisioned: Json) -> list[str]:
        client_broker, in_cluster, unauth, tls, scram, iam = _security(provisioned)
        return rules.public_access_problems(
            kafka_version=str(provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"]),
            client_broker=client_broker,
            in_cluster=in_cluster,
            unauthenticated=unauth,
            tls=tls,
            scram=scram,
            iam=iam,
            server_properties=self._properties_of(cluster),
        )

    def update_connectivity(self, params: Json) -> Json:
        cluster = self._updatable(params)
        public = ((params.get("ConnectivityInfo") or {}).get("PublicAccess") or {}).get("Type")
        if public not in {"DISABLED", "SERVICE_PROVIDED_EIPS"}:
            raise bad_request(
                "PublicAccess Type must be DISABLED or SERVICE_PROVIDED_EIPS.", "connectivityInfo"
            )
        if public == "SERVICE_PROVIDED_EIPS":
            problems = self._public_problems(cluster, cluster.provisioned)
            if problems:
                raise bad_request("; ".join(problems), "connectivityInfo")
        return self._start(
            cluster, "UPDATE_CONNECTIVITY", {"ConnectivityInfo": {"PublicAccess": {"Type": public}}}
        )

    # -- configurations ----------------------------------------------------------------------

    def _checked_properties(self, blob: bytes) -> str:
        text = blob.decode("utf-8")
        unknown = sorted(set(rules.parse_server_properties(text)) - rules.CUSTOM_CONFIGURATION_KEYS)
        if unknown:
            raise bad_request(
                f"Unsupported properties in a custom configuration: {', '.join(unknown)}.",
                "serverProperties",
            )
        return text

    def create_configuration(self, params: Json) -> Json:
        name = str(params["Name"])
        if not rules.CONFIGURATION_NAME.match(name):
            raise bad_request(f"Invalid configuration name {name!r}.", "name")
        if any(c.name == name for c in self.configurations.values()):
            raise ApiError("ConflictException", rules.NAME_TAKEN, "name")
        now = self.now()
        configuration = _Configuration(
            arn=f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:configuration/{name}/{uuid.uuid4()}-1",
            name=name,
            created=now,
            revisions=[
                _Revision(
                    1,
                    now,
                    self._checked_properties(params["ServerProperties"]),
                    params.get("Description"),
                )
            ],
            kafka_versions=list(params.get("KafkaVersions") or []),
            description=params.get("Description"),
        )
        self.configurations[configuration.arn] = configuration
        self._save()
        return {
            "Arn": configuration.arn,
            "CreationTime": now,
            "LatestRevision": _revision_view(configuration.revisions[-1]),
            "Name": name,
            "State": "ACTIVE",
        }

    def update_configuration(self, params: Json) -> Json:
        configuration = self._configuration(str(params["Arn"]))
        revision = _Revision(
            configuration.revisions[-1].revision + 1,
            self.now(),
            self._checked_properties(params["ServerProperties"]),
            params.get("Description"),
        )
        configuration.revisions.append(revision)
        self._save()
        return {"Arn": configuration.arn, "LatestRevision": _revision_view(revision)}

    def _configuration_view(self, configuration: _Configuration) -> Json:
        return {
            "Arn": configuration.arn,
            "CreationTime": configuration.created,
            "Description": configuration.description or "",
            "KafkaVersions": list(configuration.kafka_versions),
            "LatestRevision": _revision_view(configuration.revisions[-1]),
            "Name": configuration.name,
            "State": "ACTIVE",
        }

    def describe_configuration(self, params: Json) -> Json:
        return self._configuration_view(self._configuration(str(params["Arn"])))

    def describe_configuration_revision(self, params: Json) -> Json:
        configuration = self._configuration(str(params["Arn"]))
        revision = self._revision(configuration, int(params["Revision"]))
        return {
            "Arn": configuration.arn,
            "CreationTime": revision.created,
            "Description": revision.description,
            "Revision": revision.revision,
            "ServerProperties": revision.properties,
        }

    def list_configuration_revisions(self, params: Json) -> Json:
        configuration = self._configuration(str(params["Arn"]))
        revisions = [_revision_view(r) for r in configuration.revisions]
        return _page(revisions, params, "Revisions")

    def list_configurations(self, params: Json) -> Json:
        views = [self._configuration_view(c) for c in self.configurations.values()]
        return _page(views, params, "Configurations")

    # -- tags --------------------------------------------------------------------------------

    def _tags(self, arn: str) -> dict[str, str]:
        if arn in self.clusters:
            return self.clusters[arn].tags
        if arn in self.configurations:
            return self.configurations[arn].tags
        raise ApiError("NotFoundException", f"The resource {arn} does not exist.", "resourceArn")

    def tag_resource(self, params: Json) -> Json:
        self._tags(str(params["ResourceArn"])).update(params.get("Tags") or {})
        self._save()
        return {}

    def untag_resource(self, params: Json) -> Json:
        tags = self._tags(str(params["ResourceArn"]))
        for key in params.get("TagKeys") or []:
            tags.pop(key, None)
        self._save()
        return {}

    def list_tags_for_resource(self, params: Json) -> Json:
        return {"Tags": dict(self._tags(str(params["ResourceArn"])))}

    # -- operations --------------------------------------------------------------------------

    def _cluster_operations(self, arn: str) -> list[_Operation]:
        self._cluster(arn)
        found = [o for o in self.operations.values() if o.cluster_arn == arn]
        return sorted(found, key=lambda o: o.start, reverse=True)

    def _operation(self, arn: str) -> _Operation:
        operation = self.operations.get(arn)
        if operation is None:
            raise ApiError(
                "NotFoundException", f"The operation {arn} does not exist.", "clusterOperationArn"
            )
        return operation

    def _error_info(self, operation: _Operation) -> Json | None:
        if operation.state != "UPDATE_FAILED":
            return None
        return {"ErrorCode": operation.fail_code, "ErrorString": operation.fail_message}

    def _summary_v2(self, operation: _Operation) -> Json:
        return {
            "ClusterArn": operation.cluster_arn,
            "ClusterType": "PROVISIONED",
            "StartTime": operation.start,
            "EndTime": operation.end,
            "OperationArn": operation.arn,
            "OperationState": operation.state,
            "OperationType": operation.type,
        }

    def list_cluster_operations_v2(self, params: Json) -> Json:
        operations = self._cluster_operations(str(params["ClusterArn"]))
        return _page([self._summary_v2(o) for o in operations], params, "ClusterOperationInfoList")

    def describe_cluster_operation_v2(self, params: Json) -> Json:
        operation = self._operation(str(params["ClusterOperationArn"]))
        view = self._summary_v2(operation)
        view["ErrorInfo"] = self._error_info(operation)
        view["Provisioned"] = {
            "OperationSteps": operation.steps(self.now()),
            "SourceClusterInfo": operation.source,
            "TargetClusterInfo": operation.target,
        }
        return {"ClusterOperationInfo": view}

    def _info_v1(self, operation: _Operation) -> Json:
        return {
            "ClientRequestId": operation.request_id,
            "ClusterArn": operation.cluster_arn,
            "CreationTime": operation.start,
            "EndTime": operation.end,
            "ErrorInfo": self._error_info(operation),
            "OperationArn": operation.arn,
            "OperationState": operation.state,
            "OperationSteps": operation.steps(self.now()),
            "OperationType": operation.type,
            "SourceClusterInfo": operation.source,
            "TargetClusterInfo": operation.target,
        }

    def list_cluster_operations(self, params: Json) -> Json:
        operations = self._cluster_operations(str(params["ClusterArn"]))
        return _page([self._info_v1(o) for o in operations], params, "ClusterOperationInfoList")

    def describe_cluster_operation(self, params: Json) -> Json:
        operation = self._operation(str(params["ClusterOperationArn"]))
        return {"ClusterOperationInfo": self._info_v1(operation)}

    # -- outside the AWS API -----------------------------------------------------------------

    def inject_failure(
        self,
        cluster: str = "*",
        operation_type: str | None = None,
        error_code: str = "InternalFailure",
        error_string: str = "The operation failed (injected by the local MSK endpoint).",
    ) -> None:
        """The next matching operation ends UPDATE_FAILED with this ErrorInfo."""
        with self.lock:
            self.failures.append(_Failure(cluster, operation_type, error_code, error_string))

    def throttle(self, count: int) -> None:
        """Answer the next `count` API requests with TooManyRequestsException (HTTP 429)."""
        with self.lock:
            self.throttled = count

    def advance_clock(self, seconds: float) -> None:
        """Move the endpoint's clock forward (e.g. past the storage cooldown)."""
        with self.lock:
            self.clock_offset += seconds
            self.advance()
            self._save()

    def admin(self, action: str, body: Json) -> Json:
        if action == "fail-next":
            self.inject_failure(
                str(body.get("cluster", "*")),
                body.get("operationType"),
                str(body.get("errorCode", "InternalFailure")),
                str(body.get("errorString", "The operation failed (injected).")),
            )
        elif action == "throttle":
            self.throttle(int(body.get("count", 1)))
        elif action == "advance-clock":
            self.advance_clock(float(body.get("seconds", 0)))
        elif action != "health":
            raise ApiError("NotFoundException", f"unknown local action {action!r}")
        return {"ok": True}

    # -- HTTP dispatch -----------------------------------------------------------------------

    def dispatch(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request -> (status, headers, body); errors become MSK error responses."""
        request_id = str(uuid.uuid4())
        reply = {"x-amzn-RequestId": request_id, "Content-Type": "application/json"}
        try:
            payload = json.loads(body) if body.strip() else {}
            if path.startswith(ADMIN_PREFIX):
                return (
                    200,
                    reply,
                    json.dumps(self.admin(path[len(ADMIN_PREFIX) :], payload)).encode(),
                )
            with self.lock:
                if self.throttled > 0:
                    self.throttled -= 1
                    raise ApiError("TooManyRequestsException", "Too Many Requests")
                self.region = _region(headers) or self.region
                for verb, pattern, name in routes():
                    match = pattern.match(path)
                    if verb == method and match:
                        return self._call(name, match.groupdict(), query, payload, reply)
            raise ApiError(
                "NotImplemented", f"{method} {path} is not served by the local MSK endpoint"
            )
        except ApiError as error:
            reply["x-amzn-ErrorType"] = error.code
            content = {"message": error.message, "invalidParameter": error.parameter}
            data = {k: v for k, v in content.items() if v is not None}
            return ERROR_STATUS.get(error.code, 400), reply, json.dumps(data).encode()
        except (ValueError, KeyError, TypeError) as exc:
            log.exception("bad request %s %s", method, path)
            reply["x-amzn-ErrorType"] = "BadRequestException"
            return 400, reply, json.dumps({"message": f"Invalid request: {exc}"}).encode()

    def _call(
        self,
        name: str,
        path: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Json,
        reply: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        operation = service_model().operation_model(name)
        params = parse_request(operation, path, query, body)
        self.advance()
        handler: Callable[[Json], Json] = getattr(self, _snake(name))
        result = handler(params)
        status = int(operation.http.get("responseCode", 200))
        if status == 204 or operation.output_shape is None:
            return status, reply, b""
        try:
            body_out = to_wire(operation.output_shape, result)
        except (KeyError, TypeError, AttributeError) as exc:  # our bug, not the caller's
            log.exception("%s produced a response outside its shape", name)
            raise ApiError("InternalServerErrorException", f"{name}: {exc}") from exc
        return status, reply, json.dumps(body_out).encode()


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _region(headers: Mapping[str, str]) -> str | None:
    """The region of a SigV4 credential scope: .../20240101/us-east-1/kafka/aws4_request."""
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/kafka/", authorization)
    return match.group(1) if match else None


def _revision_view(revision: _Revision) -> Json:
    return {
        "CreationTime": revision.created,
        "Description": revision.description,
        "Revision": revision.revision,
    }


def _page(items: list[Json], params: Json, key: str) -> Json:
    """MaxResults/NextToken pagination over a list (the token is the next index)."""
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 100)
    page: Json = {key: items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return page


# --- HTTP server ----------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    backend: MskBackend


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(parts.query, keep_blank_values=True)
        status, headers, payload = self.server.backend.dispatch(
            method, parts.path, query, body, dict(self.headers.items())
        )
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class MskServer:
    """A running local MSK endpoint; `stop()` shuts it down (also a context manager)."""

    def __init__(self, httpd: _HttpServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.backend = httpd.backend

    @property
    def endpoint_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def inject_failure(
        self,
        cluster: str = "*",
        operation_type: str | None = None,
        error_code: str = "InternalFailure",
        error_string: str = "The operation failed (injected by the local MSK endpoint).",
    ) -> None:
        self.backend.inject_failure(cluster, operation_type, error_code, error_string)

    def throttle(self, count: int) -> None:
        self.backend.throttle(count)

    def advance_clock(self, seconds: float) -> None:
        self.backend.advance_clock(seconds)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> MskServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_msk_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    kafka_bootstrap: str,
    operation_seconds: float = 2.0,
    state_file: Path | None = None,
    kafka_tls_bootstrap: str | None = None,
    storage_cooldown_seconds: float = rules.STORAGE_COOLDOWN.total_seconds(),
) -> MskServer:
    """Serve the local MSK endpoint on a background thread; port 0 picks a free port."""
    httpd = _HttpServer((host, port), _Handler)
    httpd.backend = MskBackend(
        kafka_bootstrap=kafka_bootstrap,
        kafka_tls_bootstrap=kafka_tls_bootstrap,
        operation_seconds=operation_seconds,
        storage_cooldown_seconds=storage_cooldown_seconds,
        state_file=state_file,
    )
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="msk-endpoint", daemon=True
    )
    thread.start()
    return MskServer(httpd, thread)


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground until SIGTERM/SIGINT (`reconciler local up` runs it detached)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kafka-bootstrap", required=True)
    parser.add_argument("--kafka-tls-bootstrap")
    parser.add_argument("--operation-seconds", type=float, default=2.0)
    parser.add_argument(
        "--storage-cooldown-seconds", type=float, default=rules.STORAGE_COOLDOWN.total_seconds()
    )
    parser.add_argument("--state-file", type=Path)
    args = parser.parse_args(argv)
    server = start_msk_server(
        args.host,
        args.port,
        kafka_bootstrap=args.kafka_bootstrap,
        kafka_tls_bootstrap=args.kafka_tls_bootstrap,
        operation_seconds=args.operation_seconds,
        state_file=args.state_file,
        storage_cooldown_seconds=args.storage_cooldown_seconds,
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    print(server.endpoint_url, flush=True)
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
