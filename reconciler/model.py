"""Typed values that flow through the pipeline: desired specs, observed state, changes, plans.

Everything here is immutable and free of I/O, so every stage between load and render is a
pure function of these values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from reconciler.msk.spec import MskClusterSpec

#: Kafka's names for where a config value comes from (DescribeConfigs `source`).
TOPIC_OVERRIDE = "DYNAMIC_TOPIC_CONFIG"


@dataclass(frozen=True)
class Location:
    """Where a value was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Connection:
    """How to reach the Kafka brokers; secrets are read from the environment, never the repo.

    As loaded, string fields may still hold `${VAR}` references; `connection.resolve` expands
    them at connect time so offline commands (validate, show) need no variables set.
    """

    bootstrap_servers: str
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "SSL"
    ca_file: str | None = None
    verify_hostname: bool = True
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    timeout_seconds: float = 15.0

    def __repr__(self) -> str:  # keep the password out of tracebacks and logs
        masked = "***" if self.sasl_password else None
        return (
            f"Connection(bootstrap_servers={self.bootstrap_servers!r}, "
            f"security_protocol={self.security_protocol!r}, sasl_password={masked!r})"
        )


@dataclass(frozen=True)
class MskRef:
    """Which MSK cluster the environment lives on (used by the control-plane stages)."""

    region: str | None = None
    cluster_name: str | None = None
    cluster_arn: str | None = None


@dataclass(frozen=True)
class Policy:
    """What the reviewed specs allow the reconciler to do."""

    allow_delete: bool = False
    min_replication_factor: int = 1
    max_partitions: int | None = None


@dataclass(frozen=True)
class Environment:
    """One `kind: Environment` document after `${VAR}` expansion."""

    name: str
    directory: str
    connection: Connection
    managed_topics: tuple[str, ...] = ()
    ignored_topics: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    msk: MskRef | None = None
    locations: Mapping[str, Location] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicSpec:
    """A desired topic; config values are already in Kafka's canonical string form."""

    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)
    location: Location | None = None


@dataclass(frozen=True)
class Desired:
    """Everything an environment directory asks for, and the digest of it."""

    environment: Environment
    topics: Mapping[str, TopicSpec]
    files: tuple[str, ...] = ()
    digest: str = ""
    cluster: MskClusterSpec | None = None


@dataclass(frozen=True)
class ObservedConfig:
    """One topic config as the broker reports it.

    `inherited` is the value the topic would have without its own override (the next synonym
    below DYNAMIC_TOPIC_CONFIG), which is what removing an override changes the value to.
    """

    value: str | None
    source: str
    sensitive: bool = False
    inherited: str | None = None

    @property
    def is_override(self) -> bool:
        return self.source == TOPIC_OVERRIDE


@dataclass(frozen=True)
class ObservedTopic:
    """A live topic: its shape, replica placement and every config with its source."""

    name: str
    partitions: int
    replication_factor: int
    replicas: Mapping[int, tuple[int, ...]]
    configs: Mapping[str, ObservedConfig]


@dataclass(frozen=True)
class Broker:
    node_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True)
class Observed:
    """Live state of a Kafka cluster, as read by `observe` in a constant number of round trips."""

    cluster_id: str | None
    brokers: tuple[Broker, ...]
    topics: Mapping[str, ObservedTopic]
    #: What a new topic inherits from the brokers for configs it does not declare.
    defaults: Mapping[str, str] = field(default_factory=dict)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"


class Risk(StrEnum):
    """Ordered from harmless to refused; `max()` over a change's parts gives its risk."""

    SAFE = "safe"
    DISRUPTIVE = "disruptive"
    DESTRUCTIVE = "destructive"
    IMPOSSIBLE = "impossible"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


@dataclass(frozen=True)
class FieldDiff:
    """One field of one resource: before -> after. `None` means absent."""

    field: str
    before: Any
    after: Any
    risk: Risk = Risk.SAFE
    reason: str | None = None


@dataclass(frozen=True)
class Change:
    """One resource change in a plan, with the field-level diff and why it is risky."""

    kind: str
    name: str
    action: Action
    risk: Risk
    diff: tuple[FieldDiff, ...]
    reasons: tuple[str, ...] = ()
    #: The API call that makes this change, where one resource needs several (MSK updates).
    operation: str | None = None

    @property
    def blocked(self) -> bool:
        return self.risk is Risk.IMPOSSIBLE


@dataclass(frozen=True)
class Orphan:
    """A managed topic that exists on the cluster but in no spec."""

    kind: str
    name: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """The reviewed unit of work: what changes, how risky, and the state it was made from."""

    environment: str
    specs_digest: str
    observed_digest: str
    changes: tuple[Change, ...]
    orphans: tuple[Orphan, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Change, ...]:
        """Changes that cannot be made; any of them makes plan and apply exit 1."""
        return tuple(c for c in self.changes if c.blocked)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.orphans)
