"""Read the live state of a Kafka cluster: the only reader, and a batched one.

No per-topic round trips: one Metadata request for every topic, one DescribeCluster for racks,
DescribeConfigs for the relevant topics in pipelined batches of CHUNK, and one for a broker
(the values a topic falls back to when an override is removed: confluent-kafka keys synonyms
by name, which loses the broker-level entry, so we read the broker directly).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Collection, Mapping
from concurrent.futures import Future
from itertools import islice
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, ResourceType

from reconciler.connection import LIBRDKAFKA_LOG
from reconciler.errors import ConnectionFailure, ReconcilerError
from reconciler.model import (
    TOPIC_OVERRIDE,
    Broker,
    Connection,
    Environment,
    Observed,
    ObservedConfig,
    ObservedTopic,
    TopicSpec,
)
from reconciler.ownership import is_managed
from reconciler.topic_configs import TOPIC_CONFIGS, canonical_observed

#: Broker synonyms in coarser units than the topic config they feed (log.retention.hours...).
_SYNONYM_SCALE = {".hours": 3_600_000, ".minutes": 60_000}


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


LOG = logging.getLogger(__name__)
_BROKER_PREFIX = re.compile(r"^\S+://\S+: ")
_TIMING = re.compile(r" \(after \d+ms[^)]*\)$")
#: Broker defaults a plan checks new topics against (acks=all needs min ISR <= RF).
INHERITED_DEFAULTS = ("min.insync.replicas",)
#: Topics per DescribeConfigs request: bounds memory, costs no time (see _describe_configs).
CHUNK = 1000
RECENT = _RecentErrors()
LIBRDKAFKA_LOG.addHandler(RECENT)


def _unreachable(admin: AdminClient, conn: Connection, exc: Exception) -> ConnectionFailure:
    admin.poll(0)  # librdkafka hands its log lines over only when polled
    detail = "; ".join(RECENT.messages) or str(exc)
    hint = (
        "check that the brokers run and are reachable from here (local cluster: "
        "`reconciler local status`), that securityProtocol matches the listener "
        "(MSK: 9092 PLAINTEXT, 9094 TLS, 9096 SASL/SCRAM)"
    )
    if "PLAINTEXT broker listener" in detail:
        hint = (
            "this listener speaks plaintext: set kafka.securityProtocol: PLAINTEXT (the "
            "default is SSL), or use the brokers' TLS port (MSK: 9094)"
        )
    elif "certificate" in detail.lower() or "ssl" in detail.lower():
        hint = (
            "the TLS handshake failed: set kafka.caFile to the CA bundle that signed the "
            "brokers' certificates (verification stays on)"
        )
    return ConnectionFailure(
        f"cannot reach Kafka at {conn.bootstrap_servers} ({conn.security_protocol}) within "
        f"{conn.timeout_seconds:g}s: {detail}\n  what to do: {hint}"
    )


#: confluent-kafka hands `source` over as a bare int; a dict names it 10x faster than the enum.
_SOURCE_NAMES = {source.value: source.name for source in ConfigSource}


def broker_values(entries: Mapping[str, Any]) -> dict[str, str]:
    """A broker's effective configs, for the values topics inherit when they have no override."""
    return {name: e.value for name, e in entries.items() if e.value is not None}


def inherited_value(name: str, broker: Mapping[str, str] | None) -> str | None:
    """What `name` falls back to without a topic override: the first broker synonym that is
    set (log.retention.ms before .minutes before .hours), else Kafka's default. None when
    the broker's configs could not be read."""
    definition = TOPIC_CONFIGS.get(name)
    if definition is None or broker is None:
        return None
    for synonym in definition.broker_synonyms:
        value = broker.get(synonym)
        if value is None:
            continue
        for suffix, scale in _SYNONYM_SCALE.items():
            if synonym.endswith(suffix) and int(value) > 0:
                value = str(int(value) * scale)
        return canonical_observed(name, value)
    return definition.default


def topic_configs(
    entries: Mapping[str, Any], broker: Mapping[str, str] | None, declared: Collection[str] = ()
) -> dict[str, ObservedConfig]:
    """DescribeConfigs entries -> canonical observed configs (pure, unit-testable).

    Keeps what a plan can use: the topic's own overrides and the keys its spec declares.
    Inherited values of undeclared keys can never be drift, so converting and holding all
    ~36 configs of every topic would only cost time and memory at 10,000 topics.
    """
    configs = {}
    for name, entry in entries.items():
        source = _SOURCE_NAMES.get(entry.source, str(entry.source))
        override = source == TOPIC_OVERRIDE
        if not override and name not in declared:
            continue
        configs[name] = ObservedConfig(
            value=None if entry.is_sensitive else canonical_observed(name, entry.value),
            source=source,
            sensitive=bool(entry.is_sensitive),
            inherited=inherited_value(name, broker) if override else None,
        )
    return configs


def _broker_configs(
    admin: AdminClient, broker_id: int | None, timeout: float
) -> dict[str, str] | None:
    if broker_id is None:
        return None
    resource = ConfigResource(ResourceType.BROKER, str(broker_id))
    [future] = admin.describe_configs([resource], request_timeout=timeout).values()
    try:
        return broker_values(future.result())
    except KafkaException:  # e.g. not authorised to read broker configs: say less, not wrong
        LOG.info("cannot read broker %s configs; inherited values stay unknown", broker_id)
        return None


def _describe_configs(
    admin: AdminClient,
    wanted: Mapping[str, Collection[str]],
    broker_id: int | None,
    timeout: float,
) -> tuple[dict[str, dict[str, ObservedConfig]], dict[str, str] | None]:
    """DescribeConfigs for the topics, CHUNK topics per request, two requests in flight.

    One request for 10,000 topics materialises ~360,000 ConfigEntry objects (~430 MB) at
    once; chunks that are converted and dropped as they arrive keep memory flat at the same
    speed. Requests grow by one per CHUNK topics, never per topic.
    """
    names = list(wanted)
    chunks = (names[i : i + CHUNK] for i in range(0, len(names), CHUNK))

    def send(chunk: list[str]) -> dict[Any, Future[Any]]:
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in chunk]
        return dict(admin.describe_configs(resources, request_timeout=timeout))

    in_flight = deque(send(chunk) for chunk in islice(chunks, 2))
    broker = _broker_configs(admin, broker_id, timeout)
    result: dict[str, dict[str, ObservedConfig]] = {}
    while in_flight:
        futures = in_flight.popleft()
        following = next(chunks, None)
        if following is not None:
            in_flight.append(send(following))
        for resource, future in futures.items():
            try:
                entries = future.result()
            except KafkaException as exc:
                error = exc.args[0]
                if error.name() == "UNKNOWN_TOPIC_OR_PART":  # deleted since the metadata call
                    continue
                raise ReconcilerError(
                    f"DescribeConfigs failed for topic {resource.name!r}: {error.str()}"
                ) from exc
            result[resource.name] = topic_configs(entries, broker, wanted[resource.name])
    return result, broker


def _read_lagging(
    admin: AdminClient,
    wanted: Mapping[str, Collection[str]],
    configs: dict[str, dict[str, ObservedConfig]],
    timeout: float,
) -> None:
    """Topics listed by Metadata whose configs came back UNKNOWN_TOPIC_OR_PART: either deleted
    in between (gone from Metadata too) or answered by a broker that has not learned of them
    yet (a topic created moments ago). Ask again until each is one or the other."""
    deadline = time.monotonic() + timeout
    missing = [name for name in wanted if name not in configs]
    while missing:
        listed = admin.list_topics(timeout=timeout).topics
        missing = [name for name in missing if name in listed]  # the rest were deleted
        if not missing:
            return
        if time.monotonic() > deadline:
            raise ReconcilerError(
                f"the brokers list {len(missing)} topic(s) (e.g. {missing[0]!r}) but cannot "
                f"describe them after {timeout:g}s; the cluster may be changing. Try again"
            )
        time.sleep(0.2)
        more, _ = _describe_configs(admin, {n: wanted[n] for n in missing}, None, timeout)
        configs.update(more)
        missing = [name for name in missing if name not in configs]


def observe(
    admin: AdminClient,
    conn: Connection,
    environment: Environment,
    declared: Mapping[str, TopicSpec],
    *,
    only: Collection[str] | None = None,
    config_broker: int | None = None,
    every_config: bool = False,
) -> Observed:
    """Topics, partitions, replica placement and configs of every topic this plan depends on.

    `only` narrows it to some topics (apply's verification reads back just what it changed).
    `every_config` keeps all configs (a snapshot must serve specs that declare more later).
    `config_broker` is the broker whose own configs give inherited values (default: the
    lowest id); a client meant to ask one broker passes that broker, so it never opens a
    second connection that librdkafka could then route topic requests through.
    """
    timeout = conn.timeout_seconds
    RECENT.messages.clear()
    try:
        metadata = admin.list_topics(timeout=timeout)
        cluster = admin.describe_cluster(request_timeout=timeout).result()
    except KafkaException as exc:
        raise _unreachable(admin, conn, exc) from exc
    listed = (
        metadata.topics
        if only is None
        else {n: metadata.topics[n] for n in only if n in metadata.topics}
    )
    wanted = {
        name: TOPIC_CONFIGS if every_config else (declared[name].config if name in declared else ())
        for name in listed
        if is_managed(environment, name, name in declared)
    }
    if config_broker is None:
        config_broker = min((n.id for n in cluster.nodes), default=None)
    configs, broker = _describe_configs(admin, wanted, config_broker, timeout)
    _read_lagging(admin, wanted, configs, timeout)
    topics: dict[str, ObservedTopic] = {}
    for name, topic in listed.items():
        if name in wanted and name not in configs:
            continue  # deleted since the Metadata call: it no longer exists
        replicas = {pid: tuple(p.replicas) for pid, p in topic.partitions.items()}
        topics[name] = ObservedTopic(
            name=name,
            partitions=len(replicas),
            replication_factor=min((len(r) for r in replicas.values()), default=0),
            replicas=replicas,
            configs=configs.get(name, {}),
        )
    brokers = tuple(
        sorted(
            (Broker(n.id, n.host, n.port, n.rack) for n in cluster.nodes),
            key=lambda b: b.node_id,
        )
    )
    inherited = {key: inherited_value(key, broker) for key in INHERITED_DEFAULTS}
    defaults = {key: value for key, value in inherited.items() if value is not None}
    return Observed(cluster.cluster_id, brokers, topics, defaults)
