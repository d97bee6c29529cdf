"""The `kind: Environment` document as values: where the cluster is and how to reach it.

What an environment owns and allows is each kind's business (the Topic kind reads
`spec.topics` and `spec.policy`), so this holds only what every kind and the clients share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from reconciler.core.model import Location

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
#: How topics are reached: Kafka's admin API on the brokers, or MSK's control plane (IAM).
TopicApi = Literal["kafka", "msk"]


@dataclass(frozen=True)
class Connection:
    """How to reach the Kafka brokers; secrets are read from the environment, never the repo.

    As loaded, string fields may still hold `${VAR}` references; `specs.variables.resolve`
    expands them at connect time so offline commands (validate, show) need no variables set,
    and records each expansion in `masks`: an error that names the connection goes through
    `redact`, so it shows `${MSK_DEV_BOOTSTRAP_SERVERS}` (the spec's text), never a variable's
    value (which may be any variable of the runner's, when a spec is not the reviewed one).
    """

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "SSL"
    ca_file: str | None = None
    verify_hostname: bool = True
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    timeout_seconds: float = 15.0
    #: (value, `${NAME}`) of every variable expanded into the fields above.
    masks: tuple[tuple[str, str], ...] = ()
    api: TopicApi = "kafka"
    #: The region an MSK IAM token is signed for (spec.msk.region).
    region: str | None = None

    def redact(self, text: str) -> str:
        """TEXT with every expanded variable's value replaced by its `${NAME}` (longest
        first, so a value holding another is replaced whole)."""
        for value, reference in sorted(self.masks, key=lambda mask: -len(mask[0])):
            text = text.replace(value, reference)
        return text

    def __repr__(self) -> str:  # keep the password and variables out of tracebacks and logs
        masked = "***" if self.sasl_password else None
        return self.redact(
            f"Connection(bootstrap_servers={self.bootstrap_servers!r}, "
            f"security_protocol={self.security_protocol!r}, sasl_password={masked!r})"
        )


@dataclass(frozen=True)
class MskRef:
    """Which MSK cluster the environment lives on."""

    region: str | None = None
    cluster_name: str | None = None
    cluster_arn: str | None = None

    @property
    def cluster(self) -> str:
        """The name or ARN to look the cluster up by."""
        return self.cluster_arn or self.cluster_name or ""

    @property
    def arn_name(self) -> str | None:
        """The name inside `cluster_arn` (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)."""
        if not self.cluster_arn or ":cluster/" not in self.cluster_arn:
            return None
        return self.cluster_arn.split(":cluster/", 1)[1].split("/", 1)[0] or None

    @property
    def name(self) -> str | None:
        """The cluster's name, from clusterName or else from clusterArn."""
        return self.cluster_name or self.arn_name


@dataclass(frozen=True)
class Environment:
    """One `kind: Environment` document; `locations` point connection fields at their line."""

    name: str
    directory: str
    connection: Connection
    msk: MskRef | None = None
    locations: Mapping[str, Location] = field(default_factory=dict)
