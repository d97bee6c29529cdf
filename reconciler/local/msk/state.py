"""The local MSK endpoint's records (clusters, configurations, operations) and their
persistence, so a detached endpoint keeps its clusters across restarts.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.wire import ApiError, Json, bad_request

if TYPE_CHECKING:
    from reconciler.clients.kafka import KafkaAdmin
    from reconciler.local.msk.topics import TopicView

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

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


def new_version() -> str:
    """A cluster version like MSK's (e.g. K21V3IB1VIZYYH): not a counter, so it is not guessable."""
    alphabet = string.ascii_uppercase + string.digits
    return "K" + "".join(secrets.choice(alphabet) for _ in range(13))


@dataclass
class Cluster:
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
class Revision:
    revision: int
    created: float
    properties: str
    description: str | None = None


@dataclass
class Configuration:
    arn: str
    name: str
    created: float
    revisions: list[Revision]
    kafka_versions: list[str] = field(default_factory=list)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Operation:
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
    #: What the operation writes into the cluster when it completes: table field values.
    fields: Json = field(default_factory=dict)

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
class Failure:
    cluster: str
    operation_type: str | None
    code: str
    message: str


class BackendState:
    """The endpoint's records and clock, persisted to `state_file` after every change;
    the operations live in the classes that build on it (see backend.py)."""

    def __init__(
        self,
        *,
        kafka_bootstrap: str,
        kafka_tls_bootstrap: str | None = None,
        operation_seconds: float = 2.0,
        storage_cooldown_seconds: float = rules.STORAGE_COOLDOWN.total_seconds(),
        state_file: Path | None = None,
        topic_refresh_seconds: float = 5.0,
        secrets_endpoint: str | None = None,
    ) -> None:
        self.kafka_bootstrap = kafka_bootstrap
        #: Secrets Manager (moto) holding SCRAM users' secrets; None: AWS_ENDPOINT_URL_*.
        self.secrets_endpoint = secrets_endpoint
        #: Cluster ARN -> its associated SCRAM secrets (ARN -> the user the value names).
        self.scram_secrets: dict[str, dict[str, str]] = {}
        #: How old the topic API's answers may be (MSK: about a minute).
        self.topic_refresh_seconds = topic_refresh_seconds
        self.kafka_admin: KafkaAdmin | None = None
        self.topic_view: TopicView | None = None
        self.kafka_tls_bootstrap = kafka_tls_bootstrap
        self.operation_seconds = operation_seconds
        self.storage_cooldown_seconds = storage_cooldown_seconds
        self.state_file = state_file
        self.lock = threading.RLock()
        self.clusters: dict[str, Cluster] = {}
        self.configurations: dict[str, Configuration] = {}
        self.operations: dict[str, Operation] = {}
        self.failures: list[Failure] = []
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
            "scram_secrets": self.scram_secrets,
        }
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(self.state_file)

    def _restore(self, data: Json) -> None:
        self.clock_offset = float(data.get("clock_offset", 0.0))
        self.scram_secrets = {k: dict(v) for k, v in (data.get("scram_secrets") or {}).items()}
        for raw in data.get("clusters", []):
            cluster = Cluster(**raw)
            self.clusters[cluster.arn] = cluster
        for raw in data.get("configurations", []):
            revisions = [Revision(**r) for r in raw.pop("revisions")]
            configuration = Configuration(revisions=revisions, **raw)
            self.configurations[configuration.arn] = configuration
        for raw in data.get("operations", []):
            operation = Operation(**raw)
            self.operations[operation.arn] = operation

    # -- clock -------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def _today(self) -> date:
        return datetime.fromtimestamp(self.now(), UTC).date()

    # -- lookups -----------------------------------------------------------------------------

    def _cluster(self, arn: str) -> Cluster:
        cluster = self.clusters.get(arn)
        if cluster is None:
            raise ApiError("NotFoundException", f"The cluster {arn} does not exist.", "clusterArn")
        return cluster

    def _configuration(self, arn: str, *, missing: str = "NotFoundException") -> Configuration:
        configuration = self.configurations.get(arn)
        if configuration is None:
            if missing == "BadRequestException":
                raise bad_request(rules.INVALID_CONFIGURATION_ARN, "arn")
            raise ApiError("NotFoundException", f"The configuration {arn} does not exist.", "arn")
        return configuration

    def _revision(self, configuration: Configuration, revision: int) -> Revision:
        for candidate in configuration.revisions:
            if candidate.revision == revision:
                return candidate
        raise bad_request(
            f"Revision {revision} of configuration {configuration.arn} does not exist.",
            "revision",
        )

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


def revision_view(revision: Revision) -> Json:
    return {
        "CreationTime": revision.created,
        "Description": revision.description,
        "Revision": revision.revision,
    }


def paginate(items: list[Any], params: Json, key: str) -> Json:
    """MaxResults/NextToken pagination over a list (the token is the next index)."""
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 100)
    page: Json = {key: items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return page
