"""What Amazon MSK allows, as data and small pure checks.

The planner checks these rules before anything is written (invariant 3 of
docs/architecture.md: impossible is said, not done) and the local MSK endpoint enforces the
same rules server-side, so a plan that passes here is one MSK would accept. Every rule names
its source in the MSK Developer Guide (https://docs.aws.amazon.com/msk/latest/developerguide/).
The constants below are error texts MSK really sends; every other refusal message of the
local endpoint is ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from reconciler.core.configs.broker import BROKER_CONFIGS

#: msk-update-storage.html / manually-expand-storage.html: "Storage scaling has a cool-down
#: period of at least six hours between events."
STORAGE_COOLDOWN = timedelta(hours=6)
#: UpdateBrokerStorage: "storage per broker after the update operation can't exceed 16384 GiB".
MAX_VOLUME_GIB = 16384
#: msk-provision-throughput-management.html: 250 MiB/s is the minimum (and the default).
MIN_THROUGHPUT_MIBPS = 250

#: Real MSK error texts (BadRequestException / ConflictException messages seen from the API).
STALE_VERSION = (
    "The version of the cluster isn\u2019t current. Check the current version and try again."
)
NAME_TAKEN = "A resource with this name already exists."
INVALID_CONFIGURATION_ARN = "Invalid Configuration ARN."
PARTITIONS_OVER_LIMIT = (
    "The number of partitions per broker is above the recommended limit. Add more brokers and "
    "rearrange the partitions per broker to be below the recommended limit, then retry the "
    "request"
)


#: The MSK calls that start a cluster operation (UPDATING, with steps to wait for).
CLUSTER_OPERATIONS = (
    "UpdateBrokerCount",
    "UpdateBrokerStorage",
    "UpdateBrokerType",
    "UpdateClusterConfiguration",
    "UpdateClusterKafkaVersion",
    "UpdateMonitoring",
    "UpdateSecurity",
    "UpdateConnectivity",
)


def bootstrap_refused(state: str) -> str:
    """GetBootstrapBrokers' refusal outside ACTIVE/UPDATING (seen as "...in FAILED state.")."""
    return f"You can't get bootstrap broker nodes for a cluster in {state} state."


# --- Kafka versions -------------------------------------------------------------------------

#: Where KAFKA_VERSIONS comes from, and when it was last checked against those pages. MSK
#: updates the end-of-support column as it announces dates, so check it again when a version
#: nears its end (and update the date below).
KAFKA_VERSIONS_SOURCE = (
    "MSK Developer Guide, supported-kafka-versions.html (release and end-of-support dates, "
    "3.8.x marked Recommended); 3.7.x's end of support and 4.1.x's release from "
    "endoflife.date/amazon-msk, which tracks that page"
)
KAFKA_VERSIONS_CHECKED = date(2026, 12, 1)
#: version-support.html: "A cluster using a Kafka version after its end of support date is
#: auto-upgraded to the recommended Kafka version ... at any time after the end of support
#: date. You will not receive any notification before the upgrade."
RECOMMENDED_VERSION = "3.8.x"
#: How far ahead the plan warns of an end of support (issue 13: "within 90 days").
END_OF_SUPPORT_NOTICE = timedelta(days=90)


@dataclass(frozen=True)
class KafkaVersion:
    """One Kafka version MSK offers (supported-kafka-versions.html) and its end of support."""

    version: str
    released: date | None = None
    end_of_support: date | None = None

    @property
    def kraft(self) -> bool:
        return self.version.endswith(".kraft")

    @property
    def mode(self) -> str:
        """Metadata mode: clusters upgrade only within their own (version-upgrades.html)."""
        suffix = self.version.rsplit(".", 1)[-1]
        return suffix if suffix in {"kraft", "tiered"} else ""

    def deprecated(self, today: date) -> bool:
        return self.end_of_support is not None and today >= self.end_of_support


def _v(version: str, released: str | None, end: str | None = None) -> KafkaVersion:
    return KafkaVersion(
        version,
        date.fromisoformat(released) if released else None,
        date.fromisoformat(end) if end else None,
    )


#: Every version MSK lists, oldest first, with its MSK release and end-of-support dates.
KAFKA_VERSIONS: tuple[KafkaVersion, ...] = (
    _v("1.1.1", None, "2024-06-05"),
    _v("2.1.0", None, "2024-06-05"),
    _v("2.2.1", "2019-07-31", "2024-06-08"),
    _v("2.3.1", "2019-12-19", "2024-06-08"),
    _v("2.4.1", "2020-04-02", "2024-06-08"),
    _v("2.4.1.1", "2020-09-09", "2024-06-08"),
    _v("2.5.1", "2020-09-30", "2024-06-08"),
    _v("2.6.0", "2020-10-21", "2024-09-11"),
    _v("2.6.1", "2021-01-19", "2024-09-11"),
    _v("2.6.2", "2021-04-29", "2024-09-11"),
    _v("2.6.3", "2021-12-21", "2024-09-11"),
    _v("2.7.0", "2020-12-29", "2024-09-11"),
    _v("2.7.1", "2021-05-25", "2024-09-11"),
    _v("2.7.2", "2021-12-21", "2024-09-11"),
    _v("2.8.0", "2021-05-19", "2024-09-11"),
    _v("2.8.1", "2022-10-28", "2024-09-11"),
    _v("2.8.2.tiered", "2022-10-28", "2025-01-14"),
    _v("3.1.1", "2022-06-22", "2024-09-11"),
    _v("3.2.0", "2022-06-22", "2024-09-11"),
    _v("3.3.1", "2022-10-26", "2024-09-11"),
    _v("3.3.2", "2023-03-02", "2024-09-11"),
    _v("3.4.0", "2023-05-04", "2025-08-04"),
    _v("3.5.1", "2023-09-26", "2025-10-23"),
    _v("3.6.0", "2023-11-16", "2026-06-01"),
    _v("3.7.x", "2024-05-29", "2026-09-01"),
    _v("3.7.x.kraft", "2024-05-29", "2026-09-01"),
    _v("3.8.x", "2025-02-20"),
    _v("3.8.x.kraft", "2025-02-20"),
    _v("3.9.x", "2025-04-21"),
    _v("3.9.x.kraft", "2025-04-21"),
    _v("4.0.x.kraft", "2025-05-16"),
    _v("4.1.x.kraft", "2025-10-15"),
)
VERSIONS_BY_NAME: Mapping[str, KafkaVersion] = {v.version: v for v in KAFKA_VERSIONS}


@dataclass(frozen=True)
class Support:
    """Where a version stands in MSK's support policy on a given day."""

    version: str
    #: "supported", "ending" (within END_OF_SUPPORT_NOTICE), "ended", or "unknown" (not in
    #: the table: a version newer than its last check, or a typo MSK will refuse).
    status: str
    end_of_support: date | None = None
    days_left: int | None = None


def support(version: str, today: date) -> Support:
    """The support status of `version` on `today`, from KAFKA_VERSIONS."""
    known = VERSIONS_BY_NAME.get(version)
    if known is None:
        return Support(version, "unknown")
    end = known.end_of_support
    if end is None:
        return Support(version, "supported")
    left = (end - today).days
    if left <= 0:
        return Support(version, "ended", end, left)
    if left <= END_OF_SUPPORT_NOTICE.days:
        return Support(version, "ending", end, left)
    return Support(version, "supported", end, left)


def still_supported(versions: Sequence[str], today: date) -> tuple[str, ...]:
    """The versions (upgrade targets) that are not past their end of support on `today`."""
    return tuple(v for v in versions if support(v, today).status in {"supported", "unknown"})


def version_key(version: str) -> tuple[int, ...]:
    """Orderable form of an MSK version: "3.7.x" sorts after every 3.7 patch release."""
    parts: list[int] = []
    for piece in version.removesuffix(".kraft").removesuffix(".tiered").split("-")[0].split("."):
        parts.append(10**6 if piece == "x" else int(piece) if piece.isdigit() else 0)
    return tuple(parts)


def compatible_targets(source: str) -> tuple[str, ...]:
    """Upgrade targets MSK offers from `source` (version-upgrades.html).

    Only newer versions in the same metadata mode: "You can't upgrade an existing MSK cluster
    from a ZooKeeper-based Apache Kafka version to a newer version that uses or requires
    KRaft mode" and "You can't downgrade".
    """
    known = VERSIONS_BY_NAME.get(source)
    if known is None:
        return ()
    return tuple(
        v.version
        for v in KAFKA_VERSIONS
        if v.mode == known.mode and version_key(v.version) > version_key(source)
    )


def at_least(version: str, minimum: str) -> bool:
    return version_key(version) >= version_key(minimum)


# --- Broker sizes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerSize:
    """A Standard broker size and the limits MSK documents for it.

    max_partitions: "maximum number of partitions that support update operations"
    (bestpractices.html). max_throughput: provisioned storage throughput ceiling in MiB/s
    (msk-provision-throughput-management.html); None where it cannot be provisioned.
    """

    name: str
    family: str
    rank: int
    max_partitions: int
    max_throughput: int | None = None


#: The m5 and m7g sizes: their rank in the family and their partition limit, which the two
#: families share.
_SIZES = {
    "large": (1, 1500),
    "xlarge": (2, 1500),
    "2xlarge": (3, 3000),
    "4xlarge": (4, 6000),
    "8xlarge": (5, 6000),
    "12xlarge": (6, 6000),
    "16xlarge": (7, 6000),
    "24xlarge": (8, 6000),
}
#: The sizes each family offers and their throughput ceiling (None: not provisionable).
_FAMILIES: Mapping[str, Mapping[str, int | None]] = {
    "m5": dict.fromkeys(("large", "xlarge", "2xlarge"))
    | {"4xlarge": 593, "8xlarge": 850, "12xlarge": 1000, "16xlarge": 1000, "24xlarge": 1000},
    "m7g": dict.fromkeys(("large", "xlarge"))
    | {"2xlarge": 312, "4xlarge": 625, "8xlarge": 1000, "12xlarge": 1000, "16xlarge": 1000},
}
BROKER_SIZES: Mapping[str, BrokerSize] = {
    s.name: s
    for s in (
        BrokerSize("kafka.t3.small", "t3", 0, 300),
        *(
            BrokerSize(f"kafka.{family}.{size}", family, *_SIZES[size], throughput)
            for family, sizes in _FAMILIES.items()
            for size, throughput in sizes.items()
        ),
    )
}


def broker_type_problem(before: str, after: str) -> str | None:
    """Why MSK refuses UpdateBrokerType(before -> after), or None (msk-update-broker-type.html).

    "You can update your cluster broker size from M5 or T3 to M7g, T3 to M5, or from M7g to
    M5. You can't migrate from a larger broker size to a smaller broker size. For example,
    M7g.large to T3.small."
    """
    if after not in BROKER_SIZES:
        return f"{after} is not an MSK Standard broker size"
    if before == after:
        return None
    if BROKER_SIZES[after].family == "t3":
        return f"MSK cannot move brokers from {before} down to {after}"
    return None


def is_downsize(before: str, after: str) -> bool:
    old, new = BROKER_SIZES.get(before), BROKER_SIZES.get(after)
    return old is not None and new is not None and new.rank < old.rank


def throughput_problem(instance_type: str, mibps: int | None, volume_gib: int) -> str | None:
    """Provisioned storage throughput limits (msk-provision-throughput*.html)."""
    if mibps is None:
        return None
    size = BROKER_SIZES.get(instance_type)
    if size is None or size.max_throughput is None:
        return (
            "provisioned storage throughput needs kafka.m5.4xlarge or larger (or "
            f"kafka.m7g.2xlarge or larger); {instance_type} cannot have it"
        )
    if volume_gib < 10:
        return "provisioned storage throughput needs a volume of 10 GiB or more"
    if mibps < MIN_THROUGHPUT_MIBPS or mibps > size.max_throughput:
        return (
            f"{instance_type} allows {MIN_THROUGHPUT_MIBPS} to {size.max_throughput} MiB/s of "
            f"provisioned storage throughput, not {mibps}"
        )
    return None


def partitions_problem(instance_type: str, partitions_per_broker: int | None) -> str | None:
    """MSK refuses some updates when a broker holds more partitions than its size supports."""
    size = BROKER_SIZES.get(instance_type)
    if partitions_per_broker is None or size is None:
        return None
    if partitions_per_broker > size.max_partitions:
        return (
            f"a broker holds {partitions_per_broker} partition replicas; MSK supports this "
            f"update on {instance_type} only up to {size.max_partitions}"
        )
    return None


# --- Broker count ---------------------------------------------------------------------------


def broker_count_problems(
    before: int, after: int, az_count: int, instance_type: str, kafka_version: str
) -> list[str]:
    """Why MSK refuses UpdateBrokerCount(before -> after).

    Brokers are spread evenly over the client subnets' AZs, so the count is a multiple of the
    AZ count (msk-update-broker-count.html: "the number of brokers ... per Availability
    Zone"). Removal (msk-remove-broker.html): M5/M7g brokers only, Kafka 2.8.1 or later, one
    broker per Availability Zone in a single operation.
    """
    problems: list[str] = []
    if after % az_count:
        problems.append(
            f"{after} brokers cannot be spread evenly over {az_count} Availability Zones: "
            f"MSK needs a multiple of {az_count}"
        )
    if after < before:
        family = BROKER_SIZES[instance_type].family if instance_type in BROKER_SIZES else "?"
        if family not in {"m5", "m7g"}:
            problems.append(
                f"MSK removes brokers only from M5 and M7g clusters, not {instance_type}"
            )
        if not at_least(kafka_version, "2.8.1"):
            problems.append(
                f"MSK removes brokers only on Kafka 2.8.1 or later, not {kafka_version}"
            )
        if before - after != az_count:
            problems.append(
                f"MSK removes one broker per Availability Zone per operation ({az_count} at a "
                f"time here), not {before - after}"
            )
    return problems


# --- Security -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Security:
    """What `security_problems` and `public_access_problems` judge: encryption in transit
    and the client authentication methods that are on."""

    client_broker: str
    in_cluster: bool
    unauthenticated: bool
    tls: bool
    scram: bool
    iam: bool

    @property
    def authenticated(self) -> bool:
        """Whether mTLS, SASL/SCRAM or SASL/IAM is on."""
        return self.tls or self.scram or self.iam


def security_problems(security: Security) -> list[str]:
    """Combinations msk-update-security.html allows.

    | Unauthenticated | TLS, PLAINTEXT, TLS_PLAINTEXT | in-cluster on or off |
    | mTLS            | TLS, TLS_PLAINTEXT            | in-cluster must be on |
    | SASL/SCRAM      | TLS                           | in-cluster must be on |
    | SASL/IAM        | TLS                           | in-cluster must be on |
    """
    s = security
    problems: list[str] = []
    if not (s.unauthenticated or s.authenticated):
        problems.append("at least one client authentication method must be on")
    if s.tls and s.client_broker == "PLAINTEXT":
        problems.append("mTLS authentication needs clientBroker TLS or TLS_PLAINTEXT")
    for on, name in ((s.scram, "SASL/SCRAM"), (s.iam, "SASL/IAM")):
        if on and s.client_broker != "TLS":
            problems.append(f"{name} authentication needs clientBroker TLS")
    if s.authenticated and not s.in_cluster:
        problems.append("mTLS, SASL/SCRAM and SASL/IAM need in-cluster encryption on")
    return problems


def public_access_problems(
    security: Security, *, kafka_version: str, server_properties: Mapping[str, str] | None
) -> list[str]:
    """The conditions of public-access.html for turning public access on."""
    s = security
    problems: list[str] = []
    if not at_least(kafka_version, "2.6.0"):
        problems.append("public access needs Kafka 2.6.0 or later")
    if s.unauthenticated:
        problems.append("public access needs unauthenticated access off")
    if not s.authenticated:
        problems.append("public access needs SASL/IAM, SASL/SCRAM or mTLS on")
    if not s.in_cluster:
        problems.append("public access needs in-cluster encryption on")
    if s.client_broker != "TLS":
        problems.append("public access needs clientBroker TLS (no plaintext traffic)")
    acl_default = (server_properties or {}).get("allow.everyone.if.no.acl.found", "true")
    if (s.scram or s.tls) and acl_default != "false":
        problems.append(
            "with SASL/SCRAM or mTLS, public access needs Kafka ACLs and "
            "allow.everyone.if.no.acl.found=false in serverProperties"
        )
    return problems


# --- Custom configuration -------------------------------------------------------------------

#: msk-configuration-properties.html, "Apache Kafka configuration properties that you can set":
#: the keys of the broker catalog, which also knows each one's type and range.
CUSTOM_CONFIGURATION_KEYS: frozenset[str] = frozenset(BROKER_CONFIGS)

#: msk-configuration-operations-create.html: "^[0-9A-Za-z][0-9A-Za-z-]{0,}$".
CONFIGURATION_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,}$")


def parse_server_properties(text: str) -> dict[str, str]:
    """Java-properties text as MSK stores it ("key = value" lines, # comments) -> mapping."""
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, _, value = line.partition(":")
        result[key.strip()] = value.strip()
    return result


def render_server_properties(properties: Mapping[str, str]) -> str:
    """The server.properties text sent to Create/UpdateConfiguration, keys sorted."""
    return "".join(f"{key}={properties[key]}\n" for key in sorted(properties))


# --- CloudWatch Logs ------------------------------------------------------------------------

#: PutRetentionPolicy's allowed retentionInDays (CloudWatch Logs API reference).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def log_retention_problem(days: int) -> str | None:
    if days in LOG_RETENTION_DAYS:
        return None
    return f"CloudWatch Logs keeps events for one of {', '.join(map(str, LOG_RETENTION_DAYS))} days"


def az_count(client_subnets: Sequence[str]) -> int:
    """MSK places one client subnet per Availability Zone, so subnets count the AZs."""
    return len(client_subnets)
