"""Kafka's broker properties that Amazon MSK lets a custom configuration set.

The same `ConfigDef` shape as the topic catalog, so server properties are normalised and
compared by the same code as topic configs (`7d`, `604800000` and `"604800000"` are one
value). Facts are Kafka 3.9's ConfigDef (KafkaConfig.configDef() of the 3.9.0 jar; 3.5 is the
same for these keys); `removed_in` marks the keys Kafka 4.0 no longer defines. The keys are
MSK's list (msk-configuration-properties.html, "Apache Kafka configuration properties that
you can set"). `topic` names the topic config a property is the default of
(ServerTopicConfigSynonyms).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from reconciler.core.configs.topic import (
    TOPIC_CONFIGS,
    ConfigDef,
    ConfigType,
    ConfigValueError,
    Unit,
    canonical_value,
    define,
    normalize_value,
)

_LONG_MAX = str(2**63 - 1)


def _b(
    name: str,
    type_: ConfigType,
    default: str | None,
    *,
    minimum: int | float | None = None,
    maximum: int | float | None = None,
    unit: Unit = None,
    topic: str | None = None,
    removed_in: str | None = None,
) -> ConfigDef:
    """A broker property; one that is a topic config's default takes its valid values."""
    synonym = TOPIC_CONFIGS[topic] if topic else None
    return define(
        name,
        type_,
        default,
        minimum=minimum,
        maximum=maximum,
        valid_values=synonym.valid_values if synonym else None,
        unit=unit,
        deprecated=removed_in is not None,
        order_insensitive=synonym.order_insensitive if synonym else False,
        topic_synonym=topic,
    )


_DEFS: tuple[ConfigDef, ...] = (
    _b("allow.everyone.if.no.acl.found", "boolean", "false"),
    _b("auto.create.topics.enable", "boolean", "true"),
    _b(
        "compression.type",
        "string",
        "producer",
        topic="compression.type",
    ),
    _b("connections.max.idle.ms", "long", "600000", unit="ms"),
    _b("default.replication.factor", "int", "1"),
    _b("delete.topic.enable", "boolean", "true"),
    _b("group.initial.rebalance.delay.ms", "int", "3000", unit="ms"),
    _b("group.max.session.timeout.ms", "int", "1800000", unit="ms"),
    _b("group.min.session.timeout.ms", "int", "6000", unit="ms"),
    _b("leader.imbalance.per.broker.percentage", "int", "10", removed_in="4.0"),
    _b(
        "log.cleaner.delete.retention.ms",
        "long",
        "86400000",
        minimum=0,
        unit="ms",
        topic="delete.retention.ms",
    ),
    _b(
        "log.cleaner.min.cleanable.ratio",
        "double",
        "0.5",
        minimum=0.0,
        maximum=1.0,
        topic="min.cleanable.dirty.ratio",
    ),
    _b(
        "log.cleanup.policy",
        "list",
        "delete",
        topic="cleanup.policy",
    ),
    _b("log.flush.interval.messages", "long", _LONG_MAX, minimum=1, topic="flush.messages"),
    _b("log.flush.interval.ms", "long", None, unit="ms", topic="flush.ms"),
    _b(
        "log.message.timestamp.difference.max.ms",
        "long",
        _LONG_MAX,
        minimum=0,
        unit="ms",
        topic="message.timestamp.difference.max.ms",
        removed_in="4.0",
    ),
    _b(
        "log.message.timestamp.type",
        "string",
        "CreateTime",
        topic="message.timestamp.type",
    ),
    _b("log.retention.bytes", "long", "-1", unit="bytes", topic="retention.bytes"),
    _b("log.retention.hours", "int", "168", topic="retention.ms"),
    _b("log.retention.minutes", "int", None, topic="retention.ms"),
    _b("log.retention.ms", "long", None, minimum=-1, unit="ms", topic="retention.ms"),
    _b("log.roll.ms", "long", None, minimum=1, unit="ms", topic="segment.ms"),
    _b("log.segment.bytes", "int", "1073741824", minimum=14, unit="bytes", topic="segment.bytes"),
    _b("max.incremental.fetch.session.cache.slots", "int", "1000", minimum=0),
    _b("message.max.bytes", "int", "1048588", minimum=0, unit="bytes", topic="max.message.bytes"),
    _b("min.insync.replicas", "int", "1", minimum=1, topic="min.insync.replicas"),
    _b("num.io.threads", "int", "8", minimum=1),
    _b("num.network.threads", "int", "3", minimum=1),
    _b("num.partitions", "int", "1", minimum=1),
    _b("num.recovery.threads.per.data.dir", "int", "1", minimum=1),
    _b("num.replica.fetchers", "int", "1"),
    _b("offsets.retention.minutes", "int", "10080", minimum=1),
    _b("offsets.topic.replication.factor", "short", "3", minimum=1),
    _b("replica.fetch.max.bytes", "int", "1048576", minimum=0, unit="bytes"),
    _b("replica.fetch.response.max.bytes", "int", "10485760", minimum=0, unit="bytes"),
    _b("replica.lag.time.max.ms", "long", "30000", unit="ms"),
    _b("replica.selector.class", "string", None),
    _b("replica.socket.receive.buffer.bytes", "int", "65536", unit="bytes"),
    _b("socket.receive.buffer.bytes", "int", "102400", unit="bytes"),
    _b("socket.request.max.bytes", "int", "104857600", minimum=1, unit="bytes"),
    _b("socket.send.buffer.bytes", "int", "102400", unit="bytes"),
    _b("transaction.max.timeout.ms", "int", "900000", minimum=1, unit="ms"),
    _b("transaction.state.log.min.isr", "int", "2", minimum=1),
    _b("transaction.state.log.replication.factor", "short", "3", minimum=1),
    _b("transactional.id.expiration.ms", "int", "604800000", minimum=1, unit="ms"),
    _b(
        "unclean.leader.election.enable", "boolean", "false", topic="unclean.leader.election.enable"
    ),
    _b("zookeeper.connection.timeout.ms", "int", None, unit="ms", removed_in="4.0"),
    _b("zookeeper.session.timeout.ms", "int", "18000", unit="ms", removed_in="4.0"),
)

#: Every broker property MSK accepts in a custom configuration, keyed by name (read-only).
BROKER_CONFIGS: Mapping[str, ConfigDef] = MappingProxyType({d.name: d for d in _DEFS})


def normalize_property(key: str, value: object) -> str:
    """A server property's canonical text; raises ConfigValueError as topic configs do."""
    definition = BROKER_CONFIGS.get(key)
    if definition is None:
        raise ConfigValueError(f"{key}: not a property MSK accepts", name=key)
    return normalize_value(definition, value)


def canonical_property(key: str, value: str) -> str:
    """A property read back from MSK (a configuration revision), in canonical form."""
    definition = BROKER_CONFIGS.get(key)
    return value.strip() if definition is None else canonical_value(definition, value)
