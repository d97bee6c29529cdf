"""Kafka's admin API behind one facade: the only importer of confluent-kafka.

`KafkaAdmin` returns plain values and raises `core.errors` exceptions, one result per item
for batched writes (`{name: None or the broker's error}`), so the kinds never handle a
library type. Connections are bounded (`timeoutSeconds`), TLS certificates and host names
are verified unless the specs say otherwise, and librdkafka's log lines are routed to
`logging` and kept, so a connection failure can say what went wrong.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from itertools import islice
from typing import Any

from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ClusterMetadata,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from reconciler import __version__
from reconciler.clients import iam
from reconciler.clients.access import AclEntry, ScramCredential, ScramUpsert
from reconciler.clients.topics import (
    KAFKA_API,
    ConfigOp,
    ConfigValue,
    Keep,
    NewTopicRequest,
    PartitionState,
    Results,
    TopicMetadata,
)
from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.environment import Connection
from reconciler.core.errors import ConnectionFailure, ReconcilerError

LIBRDKAFKA_LOG = logging.getLogger("reconciler.librdkafka")
# librdkafka retries noisily while a broker is down; keep that off the terminal (the errors
# are summarised in the failure message instead) unless `reconciler -v` asks for it.
LIBRDKAFKA_LOG.setLevel(logging.WARNING)
LIBRDKAFKA_LOG.propagate = False
LOG = logging.getLogger(__name__)

#: Topics per DescribeConfigs request: bounds memory, costs no time (see describe_configs).
CHUNK = 1000
#: confluent-kafka hands `source` over as a bare int; a dict names it 10x faster than the enum.
_SOURCE_NAMES = {source.value: source.name for source in ConfigSource}
_BROKER_PREFIX = re.compile(r"^\S+://\S+: ")
_TIMING = re.compile(r" \(after \d+ms[^)]*\)$")


class _RecentErrors(logging.Handler):
    """Keeps librdkafka's last complaints so a connection failure can say what went wrong."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: deque[str] = deque(maxlen=3)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().split("]: ", 1)[-1]  # drop librdkafka's thread prefix
        message = _TIMING.sub("", _BROKER_PREFIX.sub("", message))  # each failure once
        if message not in self.messages:
            self.messages.append(message)


RECENT = _RecentErrors()
LIBRDKAFKA_LOG.addHandler(RECENT)


def error_text(exc: BaseException) -> str:
    """The broker's error as `NAME: text`, however confluent-kafka wrapped it."""
    if isinstance(exc, KafkaException) and exc.args:
        error = exc.args[0]
        return f"{error.name()}: {error.str()}" if hasattr(error, "name") else str(error)
    return str(exc)


def client_config(conn: Connection) -> dict[str, Any]:
    """librdkafka settings: bounded timeouts, verified TLS, quiet logs routed to `logging`."""
    timeout_ms = int(conn.timeout_seconds * 1000)
    config: dict[str, Any] = {
        "bootstrap.servers": conn.bootstrap_servers,
        "security.protocol": conn.security_protocol,
        "client.id": f"msk-reconciler/{__version__}",
        "socket.timeout.ms": max(timeout_ms, 10),
        "socket.connection.setup.timeout.ms": max(timeout_ms, 1000),
        "logger": LIBRDKAFKA_LOG,
    }
    if "SSL" in conn.security_protocol:
        config["enable.ssl.certificate.verification"] = True
        config["ssl.ca.location"] = conn.ca_file or "probe"
        config["ssl.endpoint.identification.algorithm"] = (
            "https" if conn.verify_hostname else "none"
        )
    if conn.sasl_mechanism == iam.MECHANISM:
        config["sasl.mechanism"] = "OAUTHBEARER"
        config["oauth_cb"] = iam.oauth_callback(conn.region)
    elif conn.sasl_mechanism:
        config["sasl.mechanism"] = conn.sasl_mechanism
        config["sasl.username"] = conn.sasl_username or ""
        config["sasl.password"] = conn.sasl_password or ""
    return config


# None matches any name, principal and host (confluent-kafka's stubs say str only).
_EVERY_ACL = AclBindingFilter(
    ResourceType.ANY, None, ResourcePatternType.ANY, None, None,  # type: ignore[arg-type]
    AclOperation.ANY, AclPermissionType.ANY,
)  # fmt: skip
#: Kafka's resource types by their protocol name (librdkafka calls CLUSTER "BROKER").
_RESOURCES = {("CLUSTER" if t is ResourceType.BROKER else t.name): t for t in ResourceType}
_RESOURCE_NAMES = {t: name for name, t in _RESOURCES.items()}
#: The SCRAM mechanisms by Kafka's name (SCRAM-SHA-512) and back.
_MECHANISMS = {
    m.name.replace("_", "-"): m for m in ScramMechanism if m is not ScramMechanism.UNKNOWN
}


def _binding(entry: AclEntry) -> AclBinding:
    """The exact binding: every field named, so a delete filter matches this one alone."""
    return AclBinding(
        _RESOURCES[entry.resource_type],
        entry.resource_name,
        ResourcePatternType[entry.pattern_type],
        entry.principal,
        entry.host,
        AclOperation[entry.operation],
        AclPermissionType[entry.permission],
    )


def _entry(binding: AclBinding) -> AclEntry:
    return AclEntry(
        principal=binding.principal,
        resource_type=_RESOURCE_NAMES[ResourceType(binding.restype)],
        resource_name=binding.name,
        pattern_type=ResourcePatternType(binding.resource_pattern_type).name,
        operation=AclOperation(binding.operation).name,
        permission=AclPermissionType(binding.permission_type).name,
        host=binding.host,
    )


def admin_client(conn: Connection) -> AdminClient:
    try:
        return AdminClient(client_config(conn))
    except KafkaException as exc:  # e.g. a caFile librdkafka cannot read
        raise ReconcilerError(conn.redact(f"Kafka client: {error_text(exc)}")) from exc


def _collect(futures: Mapping[str, Future[Any]]) -> Results:
    results: Results = {}
    for name, future in futures.items():
        try:
            future.result()
            results[name] = None
        except Exception as exc:  # each future carries its own broker error
            results[name] = error_text(exc)
    return results


def answered_by(metadata: ClusterMetadata, node_id: int, address: str) -> bool:
    """Whether broker `node_id` at `address` (host:port) answered this Metadata: by its id,
    or as the bootstrap server, which librdkafka names `host:port/bootstrap` (id -1) until
    it has matched it to a broker id. For callers that must know (the tests' and the
    benchmark's waits for every broker); librdkafka sends Metadata to a broker of its
    choosing, whatever the bootstrap server."""
    if metadata.orig_broker_id == node_id:
        return True
    name = metadata.orig_broker_name or ""
    return metadata.orig_broker_id == -1 and name.rpartition("/")[0] == address


class KafkaAdmin:
    """The admin calls the kinds make, each bounded by the connection's timeout."""

    abilities = KAFKA_API

    def __init__(self, admin: AdminClient, conn: Connection, pinned: int | None = None) -> None:
        self.admin = admin
        self.conn = conn
        self.timeout = conn.timeout_seconds
        #: The broker a per-broker client's DescribeConfigs must reach (see `on_broker`).
        self.pinned = pinned

    @classmethod
    def connect(cls, conn: Connection) -> KafkaAdmin:
        return cls(admin_client(conn), conn)

    def on_broker(self, broker: Broker) -> KafkaAdmin:
        """A client whose reads that broker answers, from its own metadata.

        librdkafka sends a DescribeConfigs of topics to a broker of its choosing (the same one
        for every client of a cluster), whatever the client's bootstrap server; a request
        that also names a broker's own configs goes to that broker. So each of this client's
        requests carries its broker's resource, over this client's own librdkafka handle
        (another handle would only cost its connections, threads and teardown). Metadata
        requests cannot be pinned so (`clients.replicas` can).
        """
        single = replace(self.conn, bootstrap_servers=f"{broker.host}:{broker.port}")
        return KafkaAdmin(self.admin, single, pinned=broker.node_id)

    # -- reading -------------------------------------------------------------------------

    def _unreachable(self, exc: Exception) -> ConnectionFailure:
        self.admin.poll(0)  # librdkafka hands its log lines over only when polled
        detail = "; ".join(RECENT.messages) or str(exc)
        hint = (
            "check that the brokers run and are reachable from here (local cluster: "
            "`reconciler local status`), that securityProtocol matches the listener "
            "(MSK: 9092 PLAINTEXT, 9094 TLS, 9096 SASL/SCRAM)"
        )
        if "SASL authentication error" in detail or "Authentication failed" in detail:
            hint = (
                "the brokers refused the SASL login: check kafka.sasl.username and the password "
                "variable (on MSK, the user's secret in Secrets Manager associated with the "
                "cluster) and the mechanism (MSK's SCRAM listener takes SCRAM-SHA-512)"
            )
        elif "PLAINTEXT broker listener" in detail:
            hint = (
                "this listener speaks plaintext: set kafka.securityProtocol: PLAINTEXT (the "
                "default is SSL), or use the brokers' TLS port (MSK: 9094)"
            )
        elif "certificate" in detail.lower() or "ssl" in detail.lower():
            hint = (
                "the TLS handshake failed: set kafka.caFile to the CA bundle that signed the "
                "brokers' certificates (verification stays on)"
            )
        conn = self.conn
        return ConnectionFailure(
            conn.redact(  # ${VAR} values never printed: the spec's text is
                f"cannot reach Kafka at {conn.bootstrap_servers} ({conn.security_protocol}) "
                f"within {conn.timeout_seconds:g}s: {detail}\n  what to do: {hint}"
            )
        )

    def topic_metadata(self, only: Collection[str] | None = None) -> TopicMetadata:
        """Every topic's partitions and replicas: one Metadata request. Given `only` (some
        topics), one Metadata request for just those (DescribeTopics): a read-back of what
        apply changed costs what the changed topics cost, not the whole cluster. Whichever
        broker librdkafka picks answers (`ReplicaAdmin.listed_by` asks a chosen one)."""
        RECENT.messages.clear()
        if only:
            return self._described(only)
        try:
            topics = self.admin.list_topics(timeout=self.timeout).topics
        except KafkaException as exc:
            raise self._unreachable(exc) from exc
        wanted = None if only is None else set(only)
        return {
            name: {pid: tuple(p.replicas) for pid, p in topic.partitions.items()}
            for name, topic in topics.items()
            if wanted is None or name in wanted
        }

    def _described(self, names: Collection[str]) -> TopicMetadata:
        """DescribeTopics of `names`; a topic the broker does not know is left out."""
        wanted = TopicCollection(list(dict.fromkeys(names)))
        try:
            futures = self.admin.describe_topics(wanted, request_timeout=self.timeout)
        except KafkaException as exc:
            raise self._unreachable(exc) from exc
        found: TopicMetadata = {}
        for name, future in futures.items():
            try:
                described = future.result()
            except KafkaException as exc:
                error = exc.args[0]
                if error.name() == "UNKNOWN_TOPIC_OR_PART":
                    continue
                if error.name().startswith("_"):  # librdkafka's own: transport, timeout
                    raise self._unreachable(exc) from exc
                raise ReconcilerError(f"DescribeTopics failed for {name!r}: {error.str()}") from exc
            found[name] = {p.id: tuple(r.id for r in p.replicas) for p in described.partitions}
        return found

    def partition_states(self) -> dict[str, dict[int, PartitionState]]:
        """Every topic's partitions with their leader and in-sync replicas (one Metadata
        request): what MSK's DescribeTopicPartitions reports."""
        RECENT.messages.clear()
        try:
            topics = self.admin.list_topics(timeout=self.timeout).topics
        except KafkaException as exc:
            raise self._unreachable(exc) from exc
        return {
            name: {
                pid: PartitionState(p.leader, tuple(p.replicas), tuple(p.isrs))
                for pid, p in topic.partitions.items()
            }
            for name, topic in topics.items()
        }

    def cluster(self, topics: Mapping[str, Mapping[int, Sequence[int]]]) -> ClusterView:
        """The cluster id and brokers with their racks (DescribeCluster), and how many of
        `topics`' replicas each broker holds."""
        try:
            described = self.admin.describe_cluster(request_timeout=self.timeout).result()
        except KafkaException as exc:
            raise self._unreachable(exc) from exc
        brokers = tuple(
            sorted(
                (Broker(n.id, n.host, n.port, n.rack) for n in described.nodes),
                key=lambda b: b.node_id,
            )
        )
        load: dict[int, int] = {}
        for partitions in topics.values():
            for replicas in partitions.values():
                for broker in replicas:
                    load[broker] = load.get(broker, 0) + 1
        return ClusterView(described.cluster_id, brokers, load)

    def broker_configs(self, broker_id: int) -> dict[str, str] | None:
        """A broker's effective configs; None when they may not be read (say less, not wrong)."""
        resource = ConfigResource(ResourceType.BROKER, str(broker_id))
        [future] = self.admin.describe_configs([resource], request_timeout=self.timeout).values()
        try:
            entries = future.result()
        except KafkaException:
            LOG.info("cannot read broker %s configs; inherited values stay unknown", broker_id)
            return None
        return {name: e.value for name, e in entries.items() if e.value is not None}

    def access(self, broker_id: int) -> dict[str, str | None]:
        """Whether this client may read what the reconciler reads: a broker's configs
        (DescribeConfigs) and the ACLs (DescribeAcls); None or the broker's error, per call."""
        results: dict[str, str | None] = {}
        resource = ConfigResource(ResourceType.BROKER, str(broker_id))
        [future] = self.admin.describe_configs([resource], request_timeout=self.timeout).values()
        results["describe configs"] = _collect({"": future})[""]
        acls = self.admin.describe_acls(_EVERY_ACL, request_timeout=self.timeout)
        results["describe ACLs"] = _collect({"": acls})[""]
        return results

    def topic_configs(
        self, names: Collection[str], keep: Keep
    ) -> Iterator[tuple[str, dict[str, ConfigValue] | None]]:
        """DescribeConfigs for the topics, CHUNK topics per request, two requests in flight.

        The first two are sent at once, before the answers are iterated (a plan sends them
        while it loads its specs, and `keep` is asked only while iterating). Yields each
        topic's kept entries, or None for a topic the broker does not know (deleted since
        the metadata call, or not yet learned of). One request for 10,000 topics
        materialises ~360,000 entries (~430 MB) at once; chunks that are filtered and
        dropped as they arrive keep memory flat at the same speed.
        """
        ordered = list(names)
        chunks = (ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK))
        in_flight = deque(self._describe_topics(chunk) for chunk in islice(chunks, 2))
        return self._kept_configs(in_flight, chunks, keep)

    def _describe_topics(self, chunk: list[str]) -> dict[Any, Future[Any]]:
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in chunk]
        if self.pinned is not None:
            resources.append(ConfigResource(ResourceType.BROKER, str(self.pinned)))
        return dict(self.admin.describe_configs(resources, request_timeout=self.timeout))

    def _kept_configs(
        self,
        in_flight: deque[dict[Any, Future[Any]]],
        chunks: Iterator[list[str]],
        keep: Keep,
    ) -> Iterator[tuple[str, dict[str, ConfigValue] | None]]:
        sources = {value for value, name in _SOURCE_NAMES.items() if name in keep.sources}
        everything = keep.everything
        while in_flight:
            futures = in_flight.popleft()
            following = next(chunks, None)
            if following is not None:
                in_flight.append(self._describe_topics(following))
            for resource, future in futures.items():
                if resource.restype != ResourceType.TOPIC:
                    continue  # the broker resource that pinned the request
                try:
                    entries = future.result()
                except KafkaException as exc:
                    error = exc.args[0]
                    if error.name() == "UNKNOWN_TOPIC_OR_PART":
                        yield resource.name, None
                        continue
                    raise ReconcilerError(
                        f"DescribeConfigs failed for topic {resource.name!r}: {error.str()}"
                    ) from exc
                declared = keep.declared(resource.name)
                kept = {}
                for key, entry in entries.items():
                    if everything or entry.source in sources or key in declared:
                        source = _SOURCE_NAMES.get(entry.source, str(entry.source))
                        secret = bool(entry.is_sensitive)
                        kept[key] = ConfigValue(None if secret else entry.value, source, secret)
                yield resource.name, kept

    # -- writing -------------------------------------------------------------------------

    def create_topics(self, topics: Sequence[NewTopicRequest], *, validate_only: bool) -> Results:
        if not topics:
            return {}
        requests = [
            NewTopic(
                t.name,
                num_partitions=t.partitions,
                replication_factor=t.replication_factor,
                config=dict(t.config),
            )
            for t in topics
        ]
        futures = self.admin.create_topics(
            requests,
            operation_timeout=self.timeout,
            request_timeout=self.timeout,
            validate_only=validate_only,
        )
        return _collect(futures)

    def alter_topic_configs(
        self, changes: Mapping[str, Sequence[ConfigOp]], *, validate_only: bool
    ) -> Results:
        if not changes:
            return {}
        resources = [
            ConfigResource(
                ResourceType.TOPIC,
                name,
                incremental_configs=[
                    ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE)
                    if value is None
                    else ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
                    for key, value in ops
                ],
            )
            for name, ops in changes.items()
        ]
        futures = self.admin.incremental_alter_configs(
            resources, request_timeout=self.timeout, validate_only=validate_only
        )
        return _collect({resource.name: future for resource, future in futures.items()})

    def create_partitions(self, counts: Mapping[str, int], *, validate_only: bool) -> Results:
        if not counts:
            return {}
        futures = self.admin.create_partitions(
            [NewPartitions(name, count) for name, count in counts.items()],
            operation_timeout=self.timeout,
            request_timeout=self.timeout,
            validate_only=validate_only,
        )
        return _collect(futures)

    def delete_topics(self, names: Sequence[str]) -> Results:
        if not names:
            return {}
        futures = self.admin.delete_topics(
            list(names), operation_timeout=self.timeout, request_timeout=self.timeout
        )
        return _collect(futures)

    # -- access: ACLs and SCRAM credentials ---------------------------------------------

    def acls(self) -> list[AclEntry]:
        """Every ACL binding of the cluster: one DescribeAcls with a match-any filter."""
        RECENT.messages.clear()
        future = self.admin.describe_acls(_EVERY_ACL, request_timeout=self.timeout)
        try:
            found = future.result()
        except KafkaException as exc:
            text = error_text(exc)
            if "SECURITY_DISABLED" in text or "No Authorizer" in text:
                raise ReconcilerError(
                    "the brokers have no authorizer, so they keep no ACLs (DescribeAcls: "
                    f"{text}). What to do: enable one (MSK: SASL/SCRAM or IAM client "
                    "authentication; Kafka: authorizer.class.name), or declare no Acl "
                    "documents and no access.manage globs for this environment"
                ) from exc
            raise self._unreachable(exc) from exc
        return sorted(_entry(b) for b in found)

    def create_acls(self, entries: Sequence[AclEntry]) -> dict[AclEntry, str | None]:
        """CreateAcls, one result per binding."""
        if not entries:
            return {}
        bindings = {_binding(e): e for e in entries}
        futures = self.admin.create_acls(list(bindings), request_timeout=self.timeout)
        results = _collect({str(i): f for i, f in enumerate(futures.values())})
        return {bindings[b]: results[str(i)] for i, b in enumerate(futures)}

    def delete_acls(self, entries: Sequence[AclEntry]) -> dict[AclEntry, str | None]:
        """DeleteAcls with one exact filter per binding (every field named, no ANY, no
        MATCH pattern), so nothing but the named bindings can be removed."""
        if not entries:
            return {}
        filters = {
            AclBindingFilter(
                _RESOURCES[e.resource_type], e.resource_name,
                ResourcePatternType[e.pattern_type], e.principal, e.host,
                AclOperation[e.operation], AclPermissionType[e.permission],
            ): e
            for e in entries
        }  # fmt: skip
        futures = self.admin.delete_acls(list(filters), request_timeout=self.timeout)
        results = _collect({str(i): f for i, f in enumerate(futures.values())})
        return {filters[f]: results[str(i)] for i, f in enumerate(futures)}

    def scram_credentials(self) -> list[ScramCredential]:
        """Every user's SCRAM credentials (DescribeUserScramCredentials for all users)."""
        RECENT.messages.clear()
        future = self.admin.describe_user_scram_credentials(request_timeout=self.timeout)
        try:
            described = future.result()  # type: ignore[union-attr]
        except KafkaException as exc:
            raise self._unreachable(exc) from exc
        return sorted(
            ScramCredential(user, info.mechanism.name.replace("_", "-"), info.iterations)
            for user, description in described.items()
            for info in description.scram_credential_infos
        )

    def alter_scram(
        self, upserts: Sequence[ScramUpsert], deletions: Sequence[tuple[str, str]]
    ) -> dict[str, str | None]:
        """AlterUserScramCredentials: set these credentials and delete these (user,
        mechanism) ones; one result per user."""
        alterations: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(
                u.user, ScramCredentialInfo(_MECHANISMS[u.mechanism], u.iterations),
                u.password.encode(),
            )
            for u in upserts
        ]  # fmt: skip
        alterations += [
            UserScramCredentialDeletion(user, _MECHANISMS[mechanism])
            for user, mechanism in deletions
        ]
        if not alterations:
            return {}
        futures = self.admin.alter_user_scram_credentials(alterations, request_timeout=self.timeout)
        return _collect(futures)
