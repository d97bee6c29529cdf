"""Every MskCluster field, mapped once: the table `FIELDS`, read five ways.

Each row names a field by its spec path (which is also its name in field-level diffs), the
attribute of `MskClusterSpec` that holds it, where MSK's DescribeClusterV2 reports it (and
CreateClusterV2 takes it), which update operation changes it and where that operation takes
it. From the table alone come: `flatten` and `from_fields` (spec <-> field values),
`from_wire` (the live cluster as a spec), `create_request` and `update_request` (the API
bodies), and the local MSK endpoint's handling of the same requests (`read_create`,
`read_request`, `write_wire`, `describe_wire`), so a field cannot be mapped one way here and
another way there.

Paths in the wire and request columns are dotted; a number is a list index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from reconciler.kinds.msk_cluster.spec import (
    ClientAuth,
    Encryption,
    Logging,
    MskClusterSpec,
    Storage,
)

Json = dict[str, Any]

# --- paths in nested dicts ------------------------------------------------------------------


def _keys(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")]


def get_in(data: Any, path: str) -> Any:
    """The value at a dotted path, or None where any part is missing."""
    node = data
    for key in _keys(path):
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            return None
    return node


def set_in(data: Json, path: str, value: Any) -> None:
    """Set a dotted path, making the dicts (and one-element lists) on the way."""
    keys = _keys(path)
    node: Any = data
    for key, following in pairwise(keys):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(key, int):
            while len(node) <= key:
                node.append(empty)
            node = node[key]
        else:
            node = node.setdefault(key, empty)
    last = keys[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


# --- how a value is written on the wire -----------------------------------------------------


class Plain:
    """The value as it is; `default` where MSK leaves it out."""

    def __init__(self, default: Any = None) -> None:
        self.default = default

    def read(self, data: Any, path: str) -> Any:
        value = get_in(data, path)
        return self.default if value is None else value

    def write(self, data: Json, path: str, value: Any) -> None:
        if value is not None:
            set_in(data, path, value)


class Enabled:
    """A block with an `Enabled` flag: on exactly when the value is set (LoggingInfo's
    destinations, provisioned throughput, mTLS's certificate authorities). A block that leaves
    the flag out (a request may) is on when it holds the member."""

    def __init__(self, member: str, off: Any = None, *, always: bool = False) -> None:
        self.member = member
        self.off = off
        self.always = always  # write the member even when off (an empty CA list)

    def read(self, data: Any, path: str) -> Any:
        block = get_in(data, path) or {}
        if not block.get("Enabled", self.member in block):
            return self.off
        value = block.get(self.member)
        return self.off if value is None else value

    def write(self, data: Json, path: str, value: Any) -> None:
        on = value is not None and value != self.off
        block: Json = {"Enabled": bool(on)}
        if on or self.always:
            block[self.member] = self.off if value is None else value
        set_in(data, path, block)


class Within:
    """A member of an `Enabled` block written by another row (an S3 prefix beside its bucket)."""

    def read(self, data: Any, path: str) -> Any:
        parent, _, member = path.rpartition(".")
        block = get_in(data, parent) or {}
        return block.get(member) if block.get("Enabled") else None

    def write(self, data: Json, path: str, value: Any) -> None:
        parent, _, _ = path.rpartition(".")
        if value is not None and (get_in(data, parent) or {}).get("Enabled"):
            set_in(data, path, value)


class Choice:
    """A boolean MSK writes as one of two words (public access: SERVICE_PROVIDED_EIPS)."""

    def __init__(self, on: str, off: str) -> None:
        self.on = on
        self.off = off

    def read(self, data: Any, path: str) -> Any:
        return get_in(data, path) == self.on

    def write(self, data: Json, path: str, value: Any) -> None:
        set_in(data, path, self.on if value else self.off)


class Unauthenticated:
    """MSK reports no ClientAuthentication block at all for "unauthenticated only"."""

    def read(self, data: Any, path: str) -> Any:
        block = get_in(data, "ClientAuthentication")
        value = get_in(data, path)
        return not block if value is None else bool(value)

    def write(self, data: Json, path: str, value: Any) -> None:
        set_in(data, path, bool(value))


Codec = Plain | Enabled | Within | Choice | Unauthenticated
#: CreateClusterV2 does not take it (public access is turned on once the cluster is ACTIVE).
NOT_AT_CREATE = ""


@dataclass(frozen=True)
class Field:
    path: str
    attr: str
    wire: str | None
    operation: str | None = None
    request: str | None = None
    codec: Codec = dataclasses.field(default_factory=Plain)
    create: str | None = None  # CreateClusterV2's path, where it is not `wire`
    #: Update requests carry it even when it did not change (MSK replaces whole blocks).
    whole: bool = False

    @property
    def request_path(self) -> str | None:
        return self.request or self.wire

    @property
    def create_path(self) -> str | None:
        return self.wire if self.create is None else (self.create or None)


_STORAGE = "TargetBrokerEBSVolumeInfo.0"
_EBS = "BrokerNodeGroupInfo.StorageInfo.EbsStorageInfo"
_LOGS = "LoggingInfo.BrokerLogs"
_AUTH = "ClientAuthentication"

FIELDS: tuple[Field, ...] = (
    Field(
        "kafkaVersion", "kafka_version", "CurrentBrokerSoftwareInfo.KafkaVersion",
        "UpdateClusterKafkaVersion", "TargetKafkaVersion", Plain(""), create="KafkaVersion",
    ),
    Field(
        "brokers.instanceType", "instance_type", "BrokerNodeGroupInfo.InstanceType",
        "UpdateBrokerType", "TargetInstanceType",
    ),
    Field(
        "brokers.count", "broker_count", "NumberOfBrokerNodes",
        "UpdateBrokerCount", "TargetNumberOfBrokerNodes",
    ),
    Field("brokers.clientSubnets", "client_subnets", "BrokerNodeGroupInfo.ClientSubnets",
          codec=Plain([])),
    Field("brokers.securityGroups", "security_groups", "BrokerNodeGroupInfo.SecurityGroups",
          codec=Plain([])),
    Field(
        "brokers.storage.volumeSizeGiB", "storage.volume_size_gib", f"{_EBS}.VolumeSize",
        "UpdateBrokerStorage", f"{_STORAGE}.VolumeSizeGB", Plain(0),
    ),
    Field(
        "brokers.storage.provisionedThroughputMiBps", "storage.provisioned_throughput_mibps",
        f"{_EBS}.ProvisionedThroughput", "UpdateBrokerStorage",
        f"{_STORAGE}.ProvisionedThroughput", Enabled("VolumeThroughput"),
    ),
    Field(
        "brokers.publicAccess", "public_access",
        "BrokerNodeGroupInfo.ConnectivityInfo.PublicAccess.Type", "UpdateConnectivity",
        "ConnectivityInfo.PublicAccess.Type", Choice("SERVICE_PROVIDED_EIPS", "DISABLED"),
        create=NOT_AT_CREATE,
    ),
    Field("encryption.atRest.kmsKeyId", "encryption.kms_key_id",
          "EncryptionInfo.EncryptionAtRest.DataVolumeKMSKeyId"),
    Field(
        "encryption.inTransit.clientBroker", "encryption.client_broker",
        "EncryptionInfo.EncryptionInTransit.ClientBroker", "UpdateSecurity", codec=Plain("TLS"),
    ),
    Field("encryption.inTransit.inCluster", "encryption.in_cluster",
          "EncryptionInfo.EncryptionInTransit.InCluster", codec=Plain(True)),
    Field(
        "clientAuthentication.unauthenticated", "client_auth.unauthenticated",
        f"{_AUTH}.Unauthenticated.Enabled", "UpdateSecurity", codec=Unauthenticated(),
        whole=True,
    ),
    Field(
        "clientAuthentication.tls.certificateAuthorityArns",
        "client_auth.tls_certificate_authority_arns", f"{_AUTH}.Tls", "UpdateSecurity",
        codec=Enabled("CertificateAuthorityArnList", off=[], always=True), whole=True,
    ),
    Field("clientAuthentication.sasl.scram", "client_auth.sasl_scram",
          f"{_AUTH}.Sasl.Scram.Enabled", "UpdateSecurity", codec=Plain(False), whole=True),
    Field("clientAuthentication.sasl.iam", "client_auth.sasl_iam",
          f"{_AUTH}.Sasl.Iam.Enabled", "UpdateSecurity", codec=Plain(False), whole=True),
    Field("monitoring.enhanced", "enhanced_monitoring", "EnhancedMonitoring",
          "UpdateMonitoring", codec=Plain("DEFAULT"), whole=True),
    Field(
        "monitoring.prometheus.jmxExporter", "jmx_exporter",
        "OpenMonitoring.Prometheus.JmxExporter.EnabledInBroker", "UpdateMonitoring",
        codec=Plain(False), whole=True,
    ),
    Field(
        "monitoring.prometheus.nodeExporter", "node_exporter",
        "OpenMonitoring.Prometheus.NodeExporter.EnabledInBroker", "UpdateMonitoring",
        codec=Plain(False), whole=True,
    ),
    Field("logging.cloudWatch.logGroup", "logging.cloudwatch_log_group",
          f"{_LOGS}.CloudWatchLogs", "UpdateMonitoring", codec=Enabled("LogGroup"), whole=True),
    Field("logging.s3.bucket", "logging.s3_bucket", f"{_LOGS}.S3", "UpdateMonitoring",
          codec=Enabled("Bucket"), whole=True),
    Field("logging.s3.prefix", "logging.s3_prefix", f"{_LOGS}.S3.Prefix", "UpdateMonitoring",
          codec=Within(), whole=True),
    Field("logging.firehose.deliveryStream", "logging.firehose_delivery_stream",
          f"{_LOGS}.Firehose", "UpdateMonitoring", codec=Enabled("DeliveryStream"), whole=True),
    # Kept by CloudWatch Logs, not MSK: PutRetentionPolicy on the log group.
    Field("logging.cloudWatch.retentionDays", "logging.cloudwatch_retention_days", None),
)  # fmt: skip
BY_PATH: Mapping[str, Field] = {f.path: f for f in FIELDS}
#: Fields no MSK operation changes: fixed when the cluster is created.
FIXED = tuple(f.path for f in FIELDS if f.wire and f.operation is None)
#: Fields that are maps of their own (one field per key: `tags.Environment`).
MAP_FIELDS = ("serverProperties", "tags")

# --- spec <-> field values ------------------------------------------------------------------


def _attr(spec: Any, attr: str) -> Any:
    for part in attr.split("."):
        spec = getattr(spec, part)
    return spec


def _flat(field: Field, value: Any) -> Any:
    if isinstance(value, tuple):
        items = list(value)
        return sorted(items) if field.path.endswith("certificateAuthorityArns") else items
    return value


def flatten(spec: MskClusterSpec) -> dict[str, Any]:
    """The spec as `field path -> value`, the names FieldDiffs use. None: not managed."""
    fields = {f.path: _flat(f, _attr(spec, f.attr)) for f in FIELDS}
    for key, value in sorted((spec.server_properties or {}).items()):
        fields[f"serverProperties.{key}"] = value
    for key, value in sorted((spec.tags or {}).items()):
        fields[f"tags.{key}"] = value
    return fields


def _map(fields: Mapping[str, Any], prefix: str) -> dict[str, str] | None:
    found = {
        k.removeprefix(prefix + "."): str(v)
        for k, v in fields.items()
        if k.startswith(prefix + ".") and v is not None
    }
    return found or None


_TUPLES = frozenset(
    {"client_subnets", "security_groups", "client_auth.tls_certificate_authority_arns"}
)
_GROUPS = {"storage": Storage, "encryption": Encryption, "client_auth": ClientAuth,
           "logging": Logging}  # fmt: skip


def from_fields(
    name: str, fields: Mapping[str, Any], configuration_name: str | None = None
) -> MskClusterSpec:
    """Inverse of `flatten`: a spec from field values (a create change's, or observed ones).

    Missing and None values take the spec's defaults, except where None means "not managed".
    """
    top: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {group: {} for group in _GROUPS}
    for field in FIELDS:
        value = fields.get(field.path)
        if value is None:
            continue
        if field.attr in _TUPLES:
            value = tuple(value)
        group, _, attr = field.attr.rpartition(".")
        (groups[group] if group else top)[attr] = value
    for group, cls in _GROUPS.items():
        top[group] = cls(**groups[group])
    return MskClusterSpec(
        name=name,
        server_properties=_map(fields, "serverProperties"),
        configuration_name=configuration_name,
        tags=_map(fields, "tags"),
        **top,
    )


# --- wire <-> field values ------------------------------------------------------------------


def read_wire(provisioned: Mapping[str, Any]) -> dict[str, Any]:
    """The field values in DescribeClusterV2's `Provisioned` (MSK's defaults where absent)."""
    return {f.path: f.codec.read(provisioned, f.wire) for f in FIELDS if f.wire}


def write_wire(provisioned: Json, fields: Mapping[str, Any]) -> None:
    """Write field values into a `Provisioned` (the local endpoint's stored cluster)."""
    for field in FIELDS:
        if field.wire and field.path in fields:
            field.codec.write(provisioned, field.wire, fields[field.path])


def describe_wire(fields: Mapping[str, Any]) -> Json:
    """The members of a `Provisioned` the table maps, whole, as DescribeClusterV2 gives them:
    every authentication method, log destination and exporter present, on or off, and MSK's
    defaults (those `read_wire` assumes) for the fields not given."""
    provisioned: Json = {}
    write_wire(provisioned, {**read_wire({}), **fields})
    return provisioned


def from_wire(name: str, provisioned: Mapping[str, Any], **extra: Any) -> MskClusterSpec:
    """The live cluster as a spec; `extra` holds what MSK keeps elsewhere (tags, properties)."""
    spec = from_fields(name, read_wire(provisioned))
    return dataclasses.replace(spec, **extra)


def read_create(provisioned: Mapping[str, Any]) -> dict[str, Any]:
    """The field values in CreateClusterV2's `Provisioned` (the local endpoint's side of
    `create_request`), MSK's defaults where absent; fields it does not take are left out."""
    return {f.path: f.codec.read(provisioned, path) for f in FIELDS if (path := f.create_path)}


def create_request(spec: MskClusterSpec) -> Json:
    """CreateClusterV2's `Provisioned` for a spec (public access always follows later)."""
    provisioned: Json = {}
    fields = flatten(spec)
    for field in FIELDS:
        path = field.create_path
        if path is not None:
            field.codec.write(provisioned, path, fields[field.path])
    return provisioned


def operation_fields(operation: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.operation == operation)


def update_request(operation: str, spec: MskClusterSpec, changed: Iterable[str]) -> Json:
    """One update's body (without ClusterArn / CurrentVersion): its changed fields, and the
    whole blocks MSK replaces at once."""
    names = set(changed)
    fields = flatten(spec)
    carried = (f.path for f in operation_fields(operation) if f.whole or f.path in names)
    return write_request(operation, {path: fields[path] for path in carried})


def write_request(operation: str, fields: Mapping[str, Any]) -> Json:
    """The body of `operation` carrying these field values (the ones it changes); the
    inverse of `read_request`."""
    body: Json = {}
    for field in operation_fields(operation):
        path = field.request_path
        if path and field.path in fields:
            field.codec.write(body, path, fields[field.path])
    if operation == "UpdateBrokerStorage":
        set_in(body, f"{_STORAGE}.KafkaBrokerNodeId", "All")
    return body


def read_request(operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The field values an update request carries (the local endpoint's side of
    `update_request`). A field MSK replaces with its whole block is there when the request
    has the block (what the block leaves out takes MSK's default); any other field only
    when the request gives it. Empty blocks count as left out."""
    found = {}
    for field in operation_fields(operation):
        path = field.request_path
        if path is None:
            continue
        given = get_in(body, path.split(".")[0] if field.whole else path)
        if given not in (None, {}, [], ""):
            found[field.path] = field.codec.read(body, path)
    return found
