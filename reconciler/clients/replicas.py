"""Replica placement calls behind one facade (kafka-python; `clients.quotas` is the other).

confluent-kafka (librdkafka) has no AlterPartitionReassignments, ListPartitionReassignments,
DescribeLogDirs or ElectLeaders; kafka-python 3.x has all four, speaks the same security
protocols, and can send a request to a chosen broker, which per-broker configs need (a
broker refuses to alter another broker's config: "Unexpected broker id") and so does a
read-back's Metadata through every broker (librdkafka sends Metadata to a broker of its
choosing, whatever the client's bootstrap server). `ReplicaAdmin`
returns plain values and raises `core.errors` exceptions, one result per item for batched
writes, like `clients.kafka.KafkaAdmin`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import TopicPartition
from kafka import errors as kafka_errors
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.protocol.metadata import MetadataRequest

from reconciler import __version__
from reconciler.clients import iam
from reconciler.core.environment import Connection
from reconciler.core.errors import ConnectionFailure, ReconcilerError

#: kafka-python logs every retry while a broker is away; the facade reports failures itself.
logging.getLogger("kafka").setLevel(logging.CRITICAL)

#: (topic, partition): how the facade names a partition, never a library type.
Partition = tuple[str, int]
#: The dynamic broker configs of a replication throttle (bytes per second).
RATE_KEYS = ("leader.replication.throttled.rate", "follower.replication.throttled.rate")
_DYNAMIC_BROKER = "DYNAMIC_BROKER_CONFIG"
_ELECTION_NOT_NEEDED = 84
#: Metadata's topic errors that mean "not (yet) listed": unknown, or created a moment ago.
_NOT_LISTED = (3, 5)  # UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE
_PREFERRED = 0
#: Errors of a request sent to a broker that is gone; the call is routed again.
_UNREACHABLE = (kafka_errors.NodeNotReadyError, kafka_errors.KafkaConnectionError)
_ROUTING_ATTEMPTS = 3


@dataclass(frozen=True)
class InFlight:
    """A reassignment the controller is carrying out: its target and what it still changes.

    Kafka lists `replicas` as the target followed by the replicas being removed, so the
    target is `replicas` without `removing`, and the partition's replicas before the move
    are `replicas` without `adding`.
    """

    replicas: tuple[int, ...]
    adding: tuple[int, ...]
    removing: tuple[int, ...]

    @property
    def target(self) -> tuple[int, ...]:
        return tuple(b for b in self.replicas if b not in self.removing)

    @property
    def original(self) -> tuple[int, ...]:
        return tuple(b for b in self.replicas if b not in self.adding)


@dataclass(frozen=True)
class PartitionState:
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


def connection_config(conn: Connection) -> dict[str, Any]:
    """kafka-python settings for the connection (also `clients.quotas`)."""
    timeout_ms = int(conn.timeout_seconds * 1000)
    config: dict[str, Any] = {
        "bootstrap_servers": conn.bootstrap_servers.split(","),
        "client_id": f"msk-reconciler/{__version__}",
        "security_protocol": conn.security_protocol,
        "request_timeout_ms": max(timeout_ms, 1000),
        "bootstrap_timeout_ms": max(timeout_ms, 1000),
        "reconnect_backoff_max_ms": 1000,
    }
    if "SSL" in conn.security_protocol:
        config["ssl_check_hostname"] = conn.verify_hostname
        if conn.ca_file:
            config["ssl_cafile"] = conn.ca_file
    if conn.sasl_mechanism == iam.MECHANISM:
        config["sasl_mechanism"] = "OAUTHBEARER"
        config["sasl_oauth_token_provider"] = iam.TokenProvider(conn.region)
    elif conn.sasl_mechanism:
        config["sasl_mechanism"] = conn.sasl_mechanism
        config["sasl_plain_username"] = conn.sasl_username or ""
        config["sasl_plain_password"] = conn.sasl_password or ""
    return config


def error_name(error: Any) -> str:
    """`NAME: message` of a kafka-python error class or instance."""
    if isinstance(error, type):
        return error.__name__.removesuffix("Error")
    return f"{type(error).__name__.removesuffix('Error')}: {error}"


def admin_client(conn: Connection, purpose: str) -> KafkaAdminClient:
    """kafka-python's admin client on the connection, or what to do when it cannot connect."""
    try:
        return KafkaAdminClient(**connection_config(conn))
    except kafka_errors.KafkaError as exc:
        raise ConnectionFailure(
            conn.redact(
                f"cannot reach Kafka at {conn.bootstrap_servers} ({conn.security_protocol}) "
                f"for {purpose} within {conn.timeout_seconds:g}s: {error_name(exc)}\n"
                "  what to do: check that the brokers run and are reachable from here"
            )
        ) from exc


class ReplicaAdmin:
    """Reassignments, log-dir sizes, leader elections and replication throttles."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._old_describe_cluster = False
        self.admin = admin_client(conn, "replica placement")

    def close(self) -> None:
        self.admin.close()

    def _routed(
        self, call: Any, *args: Any, attempts: int = _ROUTING_ATTEMPTS, **kwargs: Any
    ) -> Any:
        """`call`, sent again (up to `attempts` times in all) when the broker it went to is
        gone. kafka-python keeps the node Metadata named controller (in KRaft, any broker)
        for every later controller request, also once that broker is gone: forgetting it
        makes the next one ask Metadata again, which answers from a broker still up; other
        requests go to another node by themselves."""
        for attempt in range(attempts):
            try:
                return call(*args, **kwargs)
            except _UNREACHABLE:
                if attempt + 1 == attempts:
                    raise
                self.admin._controller_id = None
        raise AssertionError("unreachable")

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._routed(call, *args, **kwargs)
        except kafka_errors.KafkaError as exc:
            raise self._failed(what, exc) from exc

    @staticmethod
    def _failed(what: str, exc: kafka_errors.KafkaError) -> ReconcilerError:
        return ReconcilerError(
            f"{what} failed: {error_name(exc)}. What to do: check that the brokers are up "
            "(every broker of the move must be), then run the command again"
        )

    # -- reading -----------------------------------------------------------------------------

    def reassignments(self) -> dict[Partition, InFlight]:
        """Every reassignment in progress in the cluster (ListPartitionReassignments)."""
        listed = self._call("ListPartitionReassignments", self.admin.list_partition_reassignments)
        return {
            (tp.topic, tp.partition): InFlight(
                tuple(v["replicas"]), tuple(v["adding_replicas"]), tuple(v["removing_replicas"])
            )
            for tp, v in listed.items()
        }

    def sizes(self, topics: Collection[str], brokers: Iterable[int]) -> dict[Partition, int]:
        """Each partition's size in bytes on its largest replica (DescribeLogDirs, one
        request per broker); partitions no broker reports are left out."""
        if not topics:
            return {}
        response = self._call(
            "DescribeLogDirs",
            self.admin.describe_log_dirs,
            topic_partitions=sorted(topics),
            brokers=sorted(brokers),
        )
        sizes: dict[Partition, int] = {}
        for broker in response:
            for log_dir in broker["log_dirs"]:
                for topic in log_dir.get("topics", ()):
                    for part in topic["partitions"]:
                        key = (topic["name"], part["partition_index"])
                        sizes[key] = max(sizes.get(key, 0), int(part["partition_size"]))
        return sizes

    def replica_sizes(
        self, replicas: Iterable[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], int]:
        """Bytes each (topic, partition, broker) replica holds now: progress of a move."""
        wanted = set(replicas)
        if not wanted:
            return {}
        brokers = sorted({b for _, _, b in wanted})
        topics = sorted({t for t, _, _ in wanted})
        response = self._call(
            "DescribeLogDirs",
            self.admin.describe_log_dirs,
            topic_partitions=topics,
            brokers=brokers,
        )
        found: dict[tuple[str, int, int], int] = {}
        for broker in response:
            for log_dir in broker["log_dirs"]:
                for topic in log_dir.get("topics", ()):
                    for part in topic["partitions"]:
                        key = (topic["name"], part["partition_index"], broker["broker"])
                        if key in wanted:
                            found[key] = found.get(key, 0) + int(part["partition_size"])
        return found

    def partitions(self, topics: Collection[str]) -> dict[Partition, PartitionState]:
        """Leader, replicas and in-sync replicas of the topics' partitions (Metadata)."""
        if not topics:
            return {}
        described = self._call("Metadata", self.admin.describe_topics, sorted(topics))
        return {
            (topic["name"], part["partition_index"]): PartitionState(
                part["leader_id"], tuple(part["replica_nodes"]), tuple(part["isr_nodes"])
            )
            for topic in described
            for part in topic.get("partitions", ())
        }

    def listed_by(
        self, brokers: Collection[int], topics: Collection[str] | None
    ) -> dict[int, dict[str, dict[int, tuple[int, ...]]]]:
        """Each topic's partitions and replicas as each broker lists them: Metadata of these
        topics (None: every topic), sent to every broker at once (each answers from its own
        copy of the metadata); a topic a broker does not list (yet) is left out of its answer."""
        if not brokers:
            return {}
        topic = MetadataRequest.MetadataRequestTopic
        wanted = None if topics is None else sorted(topics)
        manager = self.admin._manager

        def request() -> Any:
            named = None if wanted is None else [topic(name=name) for name in wanted]
            return MetadataRequest(topics=named, allow_auto_topic_creation=False)

        async def ask() -> list[tuple[int, Any]]:
            sent = [(broker, manager.send(request(), node_id=broker)) for broker in brokers]
            return [(broker, await answer) for broker, answer in sent]

        # Sent to these brokers alone: routing it again to another broker would not do.
        answers = self._call("Metadata", manager.run, ask, attempts=1)
        listed: dict[int, dict[str, dict[int, tuple[int, ...]]]] = {}
        for broker, response in answers:
            mine = listed[broker] = {}
            for found in response.topics:
                if found.error_code in _NOT_LISTED:
                    continue
                if found.error_code:
                    name = kafka_errors.for_code(found.error_code).__name__
                    raise ReconcilerError(
                        f"Metadata failed for topic {found.name!r} on broker {broker}: {name}"
                    )
                mine[found.name] = {
                    p.partition_index: tuple(p.replica_nodes) for p in found.partitions
                }
        return listed

    def live_brokers(self) -> set[int]:
        """The brokers in the cluster and not fenced (one that died is fenced once its
        session expires; Metadata lists neither)."""
        if not self._old_describe_cluster:
            try:
                cluster = self._call("DescribeCluster", self.admin.describe_cluster)
                return {int(b["broker_id"]) for b in cluster["brokers"] if not b.get("is_fenced")}
            except KeyError:
                # kafka-python 3.0.12 reads DescribeCluster v1's endpoint_type from every
                # answer; Kafka before 3.7 answers v0, without it. Metadata, as kafka-python
                # itself falls back to for brokers without DescribeCluster.
                self._old_describe_cluster = True
        metadata = self._call(
            "Metadata", self.admin._manager.run, self.admin._get_cluster_metadata, []
        )
        return {int(b["node_id"]) for b in metadata["brokers"]}

    def broker_throttles(self, brokers: Iterable[int]) -> dict[int, dict[str, str]]:
        """The replication throttle rates set on each broker (its own dynamic configs). Only
        those two keys are asked for: a broker's ~300 configs, decoded in Python by
        kafka-python, cost more than the rest of a plan's reads."""
        resources = [
            ConfigResource(ConfigResourceType.BROKER, str(b), dict.fromkeys(RATE_KEYS))
            for b in sorted(brokers)
        ]
        if not resources:
            return {}
        described = self._call(
            "DescribeConfigs", self.admin.describe_configs, resources, config_filter="modified"
        )
        throttles: dict[int, dict[str, str]] = {}
        for name, entries in described.get("broker", {}).items():
            rates = {
                key: str(entry["value"])
                for key, entry in entries.items()
                if key in RATE_KEYS and entry.get("config_source") == _DYNAMIC_BROKER
            }
            if rates:
                throttles[int(name)] = rates
        return throttles

    # -- writing -----------------------------------------------------------------------------

    def reassign(
        self, targets: Mapping[Partition, tuple[int, ...] | None]
    ) -> dict[Partition, str | None]:
        """Start (or, with None, cancel) reassignments; one result per partition. A cancel of
        a move that already finished counts as done."""
        if not targets:
            return {}
        request = {
            TopicPartition(t, p): (list(r) if r is not None else None)
            for (t, p), r in targets.items()
        }
        results = self._call(
            "AlterPartitionReassignments", self.admin.alter_partition_reassignments, request
        )
        out: dict[Partition, str | None] = {}
        for (topic, partition), replicas in targets.items():
            error = results.get(TopicPartition(topic, partition))
            if error is kafka_errors.NoReassignmentInProgressError and replicas is None:
                error = None
            out[(topic, partition)] = None if error is None else error_name(error)
        return out

    def elect_preferred(self, partitions: Collection[Partition]) -> dict[Partition, str | None]:
        """A preferred-leader election; a partition already led by its preferred replica is
        a success."""
        if not partitions:
            return {}
        by_topic: dict[str, list[int]] = {}
        for topic, partition in sorted(partitions):
            by_topic.setdefault(topic, []).append(partition)
        response = self._call(
            "ElectLeaders", self.admin.elect_leaders, _PREFERRED, by_topic, raise_errors=False
        )
        out: dict[Partition, str | None] = dict.fromkeys(partitions)
        for result in response.replica_election_results:
            for part in result.partition_result:
                if part.error_code not in (0, _ELECTION_NOT_NEEDED):
                    name = kafka_errors.for_code(part.error_code).__name__
                    out[(result.topic, part.partition_id)] = f"{name}: {part.error_message}"
        return out

    def set_configs(
        self,
        brokers: Mapping[int, Mapping[str, str | None]],
        topics: Mapping[str, Mapping[str, str | None]],
        *,
        validate_only: bool = False,
    ) -> dict[str, str | None]:
        """Incremental config changes (None: delete) on brokers, each sent to that broker,
        and on topics; one result per resource (`broker 1`, `topic name`)."""
        # One request per broker (a broker that is down fails alone), one for all topics.
        requests = [
            [ConfigResource(ConfigResourceType.BROKER, str(b), _ops(ops))]
            for b, ops in sorted(brokers.items())
            if ops
        ]
        topic_resources = [
            ConfigResource(ConfigResourceType.TOPIC, t, _ops(ops))
            for t, ops in sorted(topics.items())
            if ops
        ]
        if topic_resources:
            requests.append(topic_resources)
        out: dict[str, str | None] = {}
        for request in requests:
            try:
                answered = self._alter(request, validate_only)
            except kafka_errors.KafkaError as exc:
                out.update((_name(r), error_name(exc)) for r in request)
                continue
            for kind, by_name in answered.items():
                for name, result in by_name.items():
                    out[f"{kind} {name}"] = None if result == "OK" else str(result)
        return out

    def _alter(self, request: list[ConfigResource], validate_only: bool) -> Any:
        """IncrementalAlterConfigs. A broker's request can reach only that broker; the
        topics' may go to any, so it is sent again when the broker it went to is gone
        (kafka-python then picks another)."""
        broker = request[0].resource_type == ConfigResourceType.BROKER
        return self._routed(
            self.admin.alter_configs,
            request,
            attempts=1 if broker else _ROUTING_ATTEMPTS,
            validate_only=validate_only,
            raise_on_unknown=False,
            incremental=True,
        )


def _ops(ops: Mapping[str, str | None]) -> dict[str, Any]:
    return {k: ("SET", v) if v is not None else ("DELETE", None) for k, v in ops.items()}


def _name(resource: ConfigResource) -> str:
    kind = "broker" if resource.resource_type == ConfigResourceType.BROKER else "topic"
    return f"{kind} {resource.name}"
