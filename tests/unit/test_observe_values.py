"""The pure half of observe: DescribeConfigs entries -> canonical observed configs."""

from __future__ import annotations

from reconciler.clients.topics import KEEP_ALL, ConfigValue, Keep
from reconciler.kinds.topic.observe import inherited_value, topic_configs

#: confluent-kafka's ConfigSource numbers, as the clients layer names them.
SOURCES = {1: "DYNAMIC_TOPIC_CONFIG", 4: "STATIC_BROKER_CONFIG", 5: "DEFAULT_CONFIG"}


def Entry(name: str, value: str | None, source: int, is_sensitive: bool = False) -> ConfigValue:
    """A DescribeConfigs entry as the clients layer hands it over (secrets already dropped)."""
    return ConfigValue(None if is_sensitive else value, SOURCES[source], is_sensitive)


def test_inherited_value_prefers_the_most_specific_broker_synonym() -> None:
    assert inherited_value("retention.ms", {"log.retention.hours": "168"}) == "604800000"
    broker = {"log.retention.hours": "168", "log.retention.ms": "3600000"}
    assert inherited_value("retention.ms", broker) == "3600000"
    assert inherited_value("segment.ms", {"log.roll.hours": "24"}) == "86400000"
    assert inherited_value("retention.ms", {"log.retention.hours": "-1"}) == "-1"
    assert inherited_value("compression.type", {}) == "producer"  # Kafka's default
    assert inherited_value("retention.ms", None) is None  # broker configs unreadable


def test_entries_become_canonical_with_sources_and_masked_secrets() -> None:
    entries = {
        "cleanup.policy": Entry("cleanup.policy", "delete,compact", 1),
        "retention.ms": Entry("retention.ms", "604800000", 5),
        "min.cleanable.dirty.ratio": Entry("min.cleanable.dirty.ratio", "0.5", 4),
        "secret.thing": Entry("secret.thing", "hunter2", 1, is_sensitive=True),
    }
    declared = ("retention.ms", "min.cleanable.dirty.ratio")
    configs = topic_configs(entries, {"log.cleanup.policy": "delete"}, declared)
    assert configs["cleanup.policy"].value == "compact,delete"
    assert configs["cleanup.policy"].is_override and configs["cleanup.policy"].inherited == "delete"
    assert configs["retention.ms"].source == "DEFAULT_CONFIG"
    assert configs["min.cleanable.dirty.ratio"].source == "STATIC_BROKER_CONFIG"
    assert configs["secret.thing"].value is None and configs["secret.thing"].sensitive


def test_only_overrides_and_declared_keys_are_kept() -> None:
    entries = {
        "retention.ms": Entry("retention.ms", "604800000", 5),
        "segment.ms": Entry("segment.ms", "3600000", 1),
    }
    assert set(topic_configs(entries, {}, ())) == {"segment.ms"}
    assert set(topic_configs(entries, {}, ("retention.ms",))) == {"segment.ms", "retention.ms"}


def test_connection_failures_name_each_cause_once() -> None:
    import logging

    from reconciler.clients.kafka import RECENT

    RECENT.messages.clear()
    for port, ms in ((1, 3), (2, 0)):
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            "",
            0,
            f"FAIL [rdkafka#producer-1] [thrd:ssl://h:{port}/bootstrap]: ssl://h:{port}/bootstrap: "
            f"SSL handshake failed: connecting to a PLAINTEXT broker listener? "
            f"(after {ms}ms in state SSL_HANDSHAKE)",
            None,
            None,
        )
        RECENT.emit(record)
    assert list(RECENT.messages) == [
        "SSL handshake failed: connecting to a PLAINTEXT broker listener?"
    ]


def test_the_rule_a_client_filters_by_keeps_overrides_and_declared_keys() -> None:
    declared = {"t": ("retention.ms",)}
    keep = Keep(frozenset({"DYNAMIC_TOPIC_CONFIG"}), lambda topic: declared.get(topic, ()))
    assert keep.keeps("t", "segment.ms", "DYNAMIC_TOPIC_CONFIG")
    assert keep.keeps("t", "retention.ms", "DEFAULT_CONFIG")
    assert not keep.keeps("t", "segment.ms", "DEFAULT_CONFIG")
    assert not keep.keeps("u", "retention.ms", "DEFAULT_CONFIG")
    assert not Keep().keeps("t", "segment.ms", "DYNAMIC_TOPIC_CONFIG")
    assert KEEP_ALL.keeps("t", "segment.ms", "DEFAULT_CONFIG")
