"""The MskCluster kind's values: what the Environment asks of the cluster beyond its spec, and
the live cluster with what beside it the plan reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from reconciler.kinds.msk_cluster.cost import BUNDLED, PriceTable
from reconciler.kinds.msk_cluster.spec import MskClusterSpec

#: Operation states that mean "still running" (DescribeClusterOperation's OperationState).
IN_FLIGHT = frozenset({"PENDING", "UPDATE_IN_PROGRESS", "REBOOT_IN_PROGRESS"})
#: How much operation history to read: enough for the storage cooldown and a plan's context.
HISTORY = 50


@dataclass(frozen=True)
class MskDesired:
    """The MskCluster kind's desired state: the cluster's spec, and from the Environment the
    region (for prices), the version policy and the prices to use."""

    spec: MskClusterSpec
    region: str | None = None
    #: `spec.policy.endOfSupport`: what a Kafka version past MSK's end of support does.
    end_of_support: Literal["warn", "error"] = "warn"
    prices: PriceTable = BUNDLED
    #: `spec.cost.priceFile` as written (the prices it holds are in `prices`).
    price_file: str | None = None


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
