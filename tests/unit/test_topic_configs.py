"""The Kafka 3.9 topic-config catalog: contents, validation, canonical forms and suggestions.

Expected names, defaults and broker renderings below were read from a real Kafka 3.9.1
broker (DescribeConfigs of a fresh topic, CreateTopics with validate_only for rejections).
"""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.core.configs.topic import (
    KAFKA_VERSION,
    MESSAGE_FORMAT_VERSIONS,
    SPECIAL_VALUES,
    TOPIC_CONFIGS,
    ConfigDef,
    ConfigValueError,
    UnknownConfigError,
    canonical_observed,
    check_combination,
    humanize,
    normalize,
    suggest,
)

LONG_MAX = str(2**63 - 1)
CODECS = "uncompressed, zstd, lz4, snappy, gzip, producer"
THROTTLED = "leader.replication.throttled.replicas"

#: DescribeConfigs of a new topic on a stock Kafka 3.9.1 broker: every name and its value.
BROKER_3_9_DEFAULTS = {
    "cleanup.policy": "delete",
    "compression.gzip.level": "-1",
    "compression.lz4.level": "9",
    "compression.type": "producer",
    "compression.zstd.level": "3",
    "delete.retention.ms": "86400000",
    "file.delete.delay.ms": "60000",
    "flush.messages": LONG_MAX,
    "flush.ms": LONG_MAX,
    "follower.replication.throttled.replicas": "",
    "index.interval.bytes": "4096",
    "leader.replication.throttled.replicas": "",
    "local.retention.bytes": "-2",
    "local.retention.ms": "-2",
    "max.compaction.lag.ms": LONG_MAX,
    "max.message.bytes": "1048588",
    "message.downconversion.enable": "true",
    "message.format.version": "3.0-IV1",
    "message.timestamp.after.max.ms": LONG_MAX,
    "message.timestamp.before.max.ms": LONG_MAX,
    "message.timestamp.difference.max.ms": LONG_MAX,
    "message.timestamp.type": "CreateTime",
    "min.cleanable.dirty.ratio": "0.5",
    "min.compaction.lag.ms": "0",
    "min.insync.replicas": "1",
    "preallocate": "false",
    "remote.log.copy.disable": "false",
    "remote.log.delete.on.disable": "false",
    "remote.storage.enable": "false",
    "retention.bytes": "-1",
    "retention.ms": "604800000",
    "segment.bytes": "1073741824",
    "segment.index.bytes": "10485760",
    "segment.jitter.ms": "0",
    "segment.ms": "604800000",
    "unclean.leader.election.enable": "false",
}

EXPECTED_TOPIC_CONFIG_NAMES_3_9 = [
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
]

MS_CONFIGS = {
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.ms",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "min.compaction.lag.ms",
    "retention.ms",
    "segment.jitter.ms",
    "segment.ms",
}
BYTES_CONFIGS = {
    "index.interval.bytes",
    "local.retention.bytes",
    "max.message.bytes",
    "retention.bytes",
    "segment.bytes",
    "segment.index.bytes",
}


# ------------------------------------------------------------------------- catalog


def test_catalog_has_exactly_the_topic_configs_of_kafka_3_9() -> None:
    assert KAFKA_VERSION == "3.9"
    assert sorted(TOPIC_CONFIGS) == EXPECTED_TOPIC_CONFIG_NAMES_3_9
    assert len(TOPIC_CONFIGS) == 36


def test_defaults_are_what_a_stock_3_9_broker_reports() -> None:
    assert {name: d.default for name, d in TOPIC_CONFIGS.items()} == BROKER_3_9_DEFAULTS


@pytest.mark.parametrize("name", EXPECTED_TOPIC_CONFIG_NAMES_3_9)
def test_each_default_is_valid_and_already_canonical(name: str) -> None:
    default = TOPIC_CONFIGS[name].default
    assert normalize(name, default) == default
    assert canonical_observed(name, default) == default


@pytest.mark.parametrize("name", EXPECTED_TOPIC_CONFIG_NAMES_3_9)
def test_entries_are_consistent(name: str) -> None:
    d = TOPIC_CONFIGS[name]
    assert d.name == name
    assert d.doc and "\n" not in d.doc and len(d.doc) <= 100
    assert d.since
    assert d.type in ("boolean", "int", "long", "double", "string", "list")
    if d.unit is not None:
        assert d.type in ("int", "long")
    if d.order_insensitive:
        assert d.type == "list"
    if d.minimum is not None and d.maximum is not None:
        assert d.minimum < d.maximum


def test_catalog_is_read_only_and_entries_are_frozen() -> None:
    with pytest.raises(TypeError):
        TOPIC_CONFIGS["x"] = TOPIC_CONFIGS["retention.ms"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOPIC_CONFIGS["retention.ms"].default = "1"  # type: ignore[misc]
    assert isinstance(hash(TOPIC_CONFIGS["retention.ms"]), int)


def test_units_are_set_for_every_duration_and_size() -> None:
    assert {n for n, d in TOPIC_CONFIGS.items() if d.unit == "ms"} == MS_CONFIGS
    assert {n for n, d in TOPIC_CONFIGS.items() if d.unit == "bytes"} == BYTES_CONFIGS


def test_types_match_kafka() -> None:
    by_type: dict[str, set[str]] = {}
    for name, d in TOPIC_CONFIGS.items():
        by_type.setdefault(d.type, set()).add(name)
    assert by_type["int"] == {
        "compression.gzip.level",
        "compression.lz4.level",
        "compression.zstd.level",
        "index.interval.bytes",
        "max.message.bytes",
        "min.insync.replicas",
        "segment.bytes",
        "segment.index.bytes",
    }
    assert by_type["double"] == {"min.cleanable.dirty.ratio"}
    assert by_type["list"] == {
        "cleanup.policy",
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
    }
    assert by_type["string"] == {
        "compression.type",
        "message.format.version",
        "message.timestamp.type",
    }
    assert by_type["boolean"] == {
        "message.downconversion.enable",
        "preallocate",
        "remote.log.copy.disable",
        "remote.log.delete.on.disable",
        "remote.storage.enable",
        "unclean.leader.election.enable",
    }


def test_ranges_mirror_kafka_validators() -> None:
    bounds = {n: (d.minimum, d.maximum) for n, d in TOPIC_CONFIGS.items()}
    assert bounds["retention.ms"] == (-1, None)
    assert bounds["retention.bytes"] == (None, None)
    assert bounds["local.retention.ms"] == (-2, None)
    assert bounds["local.retention.bytes"] == (-2, None)
    assert bounds["segment.bytes"] == (14, None)
    assert bounds["segment.ms"] == (1, None)
    assert bounds["segment.index.bytes"] == (4, None)
    assert bounds["max.compaction.lag.ms"] == (1, None)
    assert bounds["flush.messages"] == (1, None)
    assert bounds["min.insync.replicas"] == (1, None)
    assert bounds["min.cleanable.dirty.ratio"] == (0, 1)
    assert bounds["compression.gzip.level"] == (-1, 9)
    assert bounds["compression.lz4.level"] == (1, 17)
    assert bounds["compression.zstd.level"] == (-131072, 22)


def test_valid_values_and_order_insensitivity() -> None:
    assert TOPIC_CONFIGS["cleanup.policy"].valid_values == ("compact", "delete")
    assert TOPIC_CONFIGS["compression.type"].valid_values == (
        "uncompressed",
        "zstd",
        "lz4",
        "snappy",
        "gzip",
        "producer",
    )
    assert TOPIC_CONFIGS["message.timestamp.type"].valid_values == ("CreateTime", "LogAppendTime")
    assert {n for n, d in TOPIC_CONFIGS.items() if d.order_insensitive} == {
        "cleanup.policy",
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
    }


def test_deprecated_configs_are_known_and_flagged() -> None:
    assert {n for n, d in TOPIC_CONFIGS.items() if d.deprecated} == {
        "message.format.version",
        "message.timestamp.difference.max.ms",
    }
    assert normalize("message.format.version", "2.8") == "2.8-IV1"
    assert normalize("message.timestamp.difference.max.ms", "1h") == "3600000"


def test_broker_synonyms_in_precedence_order() -> None:
    synonyms = {n: d.broker_synonyms for n, d in TOPIC_CONFIGS.items()}
    assert synonyms["retention.ms"] == (
        "log.retention.ms",
        "log.retention.minutes",
        "log.retention.hours",
    )
    assert synonyms["segment.ms"] == ("log.roll.ms", "log.roll.hours")
    assert synonyms["segment.jitter.ms"] == ("log.roll.jitter.ms", "log.roll.jitter.hours")
    assert synonyms["flush.ms"] == ("log.flush.interval.ms", "log.flush.scheduler.interval.ms")
    assert synonyms["max.message.bytes"] == ("message.max.bytes",)
    assert synonyms["min.cleanable.dirty.ratio"] == ("log.cleaner.min.cleanable.ratio",)
    assert synonyms["file.delete.delay.ms"] == ("log.segment.delete.delay.ms",)
    assert synonyms["segment.index.bytes"] == ("log.index.size.max.bytes",)
    assert synonyms["local.retention.ms"] == ("log.local.retention.ms",)
    assert synonyms["min.insync.replicas"] == ("min.insync.replicas",)
    assert {n for n, s in synonyms.items() if not s} == {
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
        "remote.log.copy.disable",
        "remote.log.delete.on.disable",
        "remote.storage.enable",
    }


def test_since_versions() -> None:
    since = {n: d.since for n, d in TOPIC_CONFIGS.items()}
    assert since["compression.gzip.level"] == "3.8"
    assert since["remote.log.copy.disable"] == "3.9"
    assert since["remote.log.delete.on.disable"] == "3.9"
    assert since["message.timestamp.before.max.ms"] == "3.6"
    assert since["max.compaction.lag.ms"] == "2.3"
    assert since["message.downconversion.enable"] == "2.0"
    assert since["min.compaction.lag.ms"] == "0.10.1"
    assert since["compression.type"] == "0.9.0"
    assert since["retention.ms"] == "0.8.1"


def test_special_values_are_canonical_values_of_known_configs() -> None:
    for name, meanings in SPECIAL_VALUES.items():
        assert name in TOPIC_CONFIGS
        for value, meaning in meanings.items():
            assert meaning
            assert normalize(name, value) == value
    assert SPECIAL_VALUES["retention.ms"]["-1"] == "unlimited"
    assert SPECIAL_VALUES["local.retention.bytes"]["-2"] == "same as retention.bytes"
    assert SPECIAL_VALUES["max.compaction.lag.ms"][LONG_MAX] == "no limit"


def test_message_format_versions_cover_kafka_3_9() -> None:
    assert "0.8.0" in MESSAGE_FORMAT_VERSIONS
    assert "2.8" in MESSAGE_FORMAT_VERSIONS
    assert "3.9-IV0" in MESSAGE_FORMAT_VERSIONS
    assert "4.0-IV1" in MESSAGE_FORMAT_VERSIONS  # unstable, but Kafka 3.9 accepts it
    assert "4.0" not in MESSAGE_FORMAT_VERSIONS  # only production releases get a bare name


# ----------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # integers from YAML ints and strings, Java's parse rules (sign, leading zeros)
        ("min.insync.replicas", 2, "2"),
        ("min.insync.replicas", "2", "2"),
        ("min.insync.replicas", " 2 ", "2"),
        ("min.insync.replicas", "+2", "2"),
        ("min.insync.replicas", "002", "2"),
        ("segment.ms", LONG_MAX, LONG_MAX),
        ("compression.zstd.level", -131072, "-131072"),
        # units where the config has one
        ("retention.ms", "7d", "604800000"),
        ("retention.ms", "1.5h", "5400000"),
        ("retention.ms", "604800000", "604800000"),
        ("segment.bytes", "1GiB", "1073741824"),
        ("retention.bytes", "10GiB", "10737418240"),
        ("max.message.bytes", "1MB", "1000000"),
        ("segment.jitter.ms", "0s", "0"),
        # sentinels
        ("retention.ms", -1, "-1"),
        ("retention.ms", "-1", "-1"),
        ("local.retention.ms", -2, "-2"),
        ("local.retention.ms", -1, "-1"),
        ("local.retention.bytes", "-2", "-2"),
        ("retention.bytes", -1, "-1"),
        ("retention.bytes", -5, "-1"),  # Kafka treats every negative as unlimited
        ("retention.bytes", "-2", "-1"),
        ("compression.gzip.level", -1, "-1"),
        # booleans
        ("preallocate", True, "true"),
        ("preallocate", False, "false"),
        ("preallocate", "TRUE", "true"),
        ("preallocate", " False ", "false"),
        # doubles, rendered like Java's Double.toString as DescribeConfigs does
        ("min.cleanable.dirty.ratio", 0.5, "0.5"),
        ("min.cleanable.dirty.ratio", "0.50", "0.5"),
        ("min.cleanable.dirty.ratio", ".5", "0.5"),
        ("min.cleanable.dirty.ratio", "5e-1", "0.5"),
        ("min.cleanable.dirty.ratio", 1, "1.0"),
        ("min.cleanable.dirty.ratio", 0, "0.0"),
        ("min.cleanable.dirty.ratio", "-0", "0.0"),
        ("min.cleanable.dirty.ratio", "0.0001", "1.0E-4"),
        ("min.cleanable.dirty.ratio", 0.30000000000000004, "0.30000000000000004"),
        # strings and enums
        ("compression.type", " zstd ", "zstd"),
        ("message.timestamp.type", "LogAppendTime", "LogAppendTime"),
        ("message.format.version", "2.8", "2.8-IV1"),
        ("message.format.version", 2.8, "2.8-IV1"),
        ("message.format.version", "2.8.1", "2.8-IV1"),
        ("message.format.version", "0.10.0", "0.10.0-IV1"),
        ("message.format.version", "0.10.0.1", "0.10.0-IV1"),
        ("message.format.version", "3.0-IV1", "3.0-IV1"),
        ("message.format.version", " 3.9 ", "3.9-IV0"),
        ("message.format.version", "4.0-IV0", "4.0-IV0"),
        # lists: order and duplicates carry no meaning
        ("cleanup.policy", "delete", "delete"),
        ("cleanup.policy", "delete,compact", "compact,delete"),
        ("cleanup.policy", " delete , compact ", "compact,delete"),
        ("cleanup.policy", ["delete", "compact"], "compact,delete"),
        ("cleanup.policy", ("compact", "compact"), "compact"),
        ("cleanup.policy", [], ""),
        ("cleanup.policy", "", ""),
        ("leader.replication.throttled.replicas", "*", "*"),
        ("leader.replication.throttled.replicas", [" * "], "*"),
        ("leader.replication.throttled.replicas", "", ""),
        ("leader.replication.throttled.replicas", ["10:1", "2:1", "2:0"], "2:0,2:1,10:1"),
        ("follower.replication.throttled.replicas", "1:1, 0:1,1:1", "0:1,1:1"),
        ("follower.replication.throttled.replicas", ["01:1"], "1:1"),
    ],
)
def test_normalize(name: str, value: object, expected: str) -> None:
    assert normalize(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("retention.ms", "-2", r"^retention\.ms: -2 is out of range; allowed: .*-1 = unlimited"),
        ("retention.ms", "-2d", r"cannot read '-2d' as a duration"),
        ("retention.ms", "1w1d", r"cannot read '1w1d'"),
        ("segment.ms", "+0", r"'\+0' \(= 0\) is out of range"),
        ("retention.ms", -2, r"-2 is out of range; allowed: an integer from 0 to .*-1 = unl.*'7d'"),
        ("local.retention.ms", -3, r"-2 = same as retention\.ms, -1 = unlimited"),
        ("segment.bytes", 13, r"13 is out of range; allowed: an integer from 14 to 2147483647"),
        ("segment.bytes", "2GiB", r"'2GiB' \(= 2147483648\) does not fit a Kafka INT"),
        ("segment.ms", 0, r"allowed: an integer from 1 to"),
        ("segment.ms", 2**63, r"does not fit a Kafka LONG"),
        ("retention.ms", "1.5", r"cannot read '1\.5' as a duration"),
        ("retention.ms", 1.5, r"1\.5 \(float\) is not valid; allowed: .*milliseconds"),
        ("retention.ms", "0.5ms", r"not a whole number of milliseconds"),
        ("retention.ms", "7M", r"unknown duration unit 'M'.*allowed units: ms, s, m, h, d, w"),
        ("retention.ms", "-1d", r"cannot read '-1d'"),
        ("retention.ms", True, r"True \(bool\) is not valid"),
        ("retention.bytes", "1.5B", r"not a whole number of bytes"),
        ("flush.messages", "7d", r"'7d' \(str\) is not valid; allowed: an integer from 1 to"),
        ("min.insync.replicas", 0, r"allowed: an integer from 1 to 2147483647$"),
        ("min.insync.replicas", "two", r"'two' \(str\) is not valid"),
        ("max.message.bytes", -1, r"an integer from 0 to 2147483647"),
        ("compression.gzip.level", 0, r"an integer from 1 to 9, or -1 = zlib default"),
        ("compression.gzip.level", 10, r"an integer from 1 to 9"),
        ("compression.lz4.level", 18, r"an integer from 1 to 17"),
        ("compression.zstd.level", -131073, r"an integer from -131072 to 22"),
        ("preallocate", "yes", r"'yes' \(str\) is not valid; allowed: true or false"),
        ("preallocate", 1, r"1 \(int\) is not valid; allowed: true or false"),
        ("min.cleanable.dirty.ratio", 1.5, r"1\.5 is out of range; allowed: a number from 0 to 1"),
        ("min.cleanable.dirty.ratio", -0.1, r"out of range"),
        ("min.cleanable.dirty.ratio", "NaN", r"'NaN' \(str\) is not valid"),
        ("min.cleanable.dirty.ratio", float("nan"), r"is not valid"),
        ("min.cleanable.dirty.ratio", float("inf"), r"is not valid"),
        ("min.cleanable.dirty.ratio", 10**400, r"is not valid"),
        ("min.cleanable.dirty.ratio", "0.5d", r"is not valid"),  # Java-only syntax
        ("min.cleanable.dirty.ratio", True, r"True \(bool\) is not valid"),
        ("compression.type", "none", r"did you mean 'uncompressed'\?.*allowed: one of: " + CODECS),
        ("compression.type", "GZIP", r"did you mean 'gzip'\? values are case-sensitive"),
        ("compression.type", "lzma", r"'lzma' \(str\) is not valid; allowed: one of: " + CODECS),
        ("compression.type", 1, r"1 \(int\) is not valid"),
        ("message.timestamp.type", "createtime", r"mean 'CreateTime'\?.*CreateTime, LogAppendTime"),
        ("message.format.version", "foo", r"'foo' \(str\) is not valid; allowed: a quoted Kafka"),
        ("message.format.version", "0.10", r"is not valid"),
        ("message.format.version", "4.0", r"is not valid"),
        ("message.format.version", "3.9.", r"is not valid"),  # Java's split drops the empty tail
        ("message.format.version", 0.10, r"YAML read it as a number; quote the version"),
        ("message.format.version", True, r"True \(bool\) is not valid"),
        ("cleanup.policy", "Compact", r"'Compact' is not allowed \(did you mean 'compact'\? "),
        ("cleanup.policy", "delete,,compact", r"has an empty item"),
        ("cleanup.policy", ["delete", " "], r"has an empty item"),
        ("cleanup.policy", "compacted", r"item 'compacted' is not allowed; allowed: a list"),
        ("cleanup.policy", {"delete": True}, r"is not valid"),
        ("cleanup.policy", 1, r"is not valid"),
        (THROTTLED, [62], r"list item 62 is a int, not a string \(quote it in YAML"),
        (THROTTLED, "1:1,*", r"'\*' or a list of 'partition:broker' pairs"),
        (THROTTLED, "a:b", r"is not valid"),
        (THROTTLED, "1:1,,2:2", r"has an empty item"),
        (THROTTLED, "2147483648:1", r"is not valid"),
        ("follower.replication.throttled.replicas", "1-1", r"is not valid"),
    ],
)  # fmt: skip
def test_normalize_rejects_what_kafka_rejects_and_says_what_is_allowed(
    name: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigValueError, match=message) as info:
        normalize(name, value)
    assert info.value.name == name
    assert str(info.value).startswith(f"{name}: ")


def test_absurdly_long_numbers_are_errors_not_crashes() -> None:
    huge = "9" * 5000  # more digits than Python's int() accepts from text
    for value in (huge, huge + "ms", "1." + "0" * 5000 + "d"):
        with pytest.raises(ConfigValueError, match=r"^segment\.ms: "):
            normalize("segment.ms", value)
    with pytest.raises(ConfigValueError, match="is not valid"):
        normalize("min.cleanable.dirty.ratio", huge)
    assert canonical_observed("retention.ms", huge) == huge


def test_normalize_requires_a_value() -> None:
    with pytest.raises(ConfigValueError, match=r"retention\.ms: a value is required; allowed"):
        normalize("retention.ms", None)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("retention.msec", "retention.ms"),
        ("log.retention.hours", "retention.ms"),
        ("message.max.bytes", "max.message.bytes"),
        ("cleanup_policy", "cleanup.policy"),
    ],
)
def test_unknown_names_are_rejected_with_a_suggestion(name: str, suggestion: str) -> None:
    with pytest.raises(UnknownConfigError) as info:
        normalize(name, "1")
    assert info.value.suggestion == suggestion
    assert info.value.name == name
    assert str(info.value) == (
        f"{name}: unknown topic config for Kafka 3.9; did you mean {suggestion!r}?"
    )
    assert isinstance(info.value, ConfigValueError)
    assert isinstance(info.value, ValueError)


def test_unknown_name_without_a_close_match() -> None:
    with pytest.raises(UnknownConfigError, match=r"^zzz: unknown topic config for Kafka 3\.9$"):
        normalize("zzz", 1)


def test_config_value_error_can_be_raised_by_callers() -> None:
    error = ConfigValueError("something is wrong")
    assert str(error) == "something is wrong"
    assert error.name is None


# -------------------------------------------------------------------------- suggest


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("retention.msec", "retention.ms"),
        ("retension.ms", "retention.ms"),
        ("Retention.MS", "retention.ms"),
        ("retention_ms", "retention.ms"),
        ("retention-bytes", "retention.bytes"),
        ("cleanup.polcy", "cleanup.policy"),
        ("min.insync.replica", "min.insync.replicas"),
        ("unclean.leader.election", "unclean.leader.election.enable"),
        ("compresion.type", "compression.type"),
        ("log.retention.hours", "retention.ms"),
        ("log.retention.minutes", "retention.ms"),
        ("retention.hours", "retention.ms"),
        ("log.roll.hours", "segment.ms"),
        ("log.segment.bytes", "segment.bytes"),
        ("message.max.bytes", "max.message.bytes"),
        ("log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio"),
        ("min.cleanable.ratio", "min.cleanable.dirty.ratio"),
        ("log.segment.delete.delay.ms", "file.delete.delay.ms"),
    ],
)
def test_suggest(typo: str, expected: str) -> None:
    assert suggest(typo) == expected


@pytest.mark.parametrize("name", ["retention.ms", "cleanup.policy"])
def test_suggest_nothing_for_a_known_name(name: str) -> None:
    assert suggest(name) is None


@pytest.mark.parametrize("name", ["zzz", "", "partitions.count.total.maximum.value"])
def test_suggest_nothing_when_nothing_is_close(name: str) -> None:
    assert suggest(name) is None


# --------------------------------------------------------------- canonical_observed


@pytest.mark.parametrize(
    ("name", "observed", "expected"),
    [
        # DescribeConfigs renderings seen on a 3.9.1 broker are already canonical
        ("min.cleanable.dirty.ratio", "0.5", "0.5"),
        ("min.cleanable.dirty.ratio", "1.0", "1.0"),
        ("min.cleanable.dirty.ratio", "0.0", "0.0"),
        ("min.cleanable.dirty.ratio", "1.0E-4", "1.0E-4"),
        ("min.cleanable.dirty.ratio", "0.30000000000000004", "0.30000000000000004"),
        ("cleanup.policy", "compact,delete", "compact,delete"),
        ("retention.ms", "604800000", "604800000"),
        # ...and raw strings (synonym values) are brought to the same form
        ("min.cleanable.dirty.ratio", "0.50", "0.5"),
        ("min.cleanable.dirty.ratio", "1", "1.0"),
        ("min.cleanable.dirty.ratio", "-0.0", "0.0"),
        ("min.cleanable.dirty.ratio", "0.5d", "0.5"),
        ("min.cleanable.dirty.ratio", "0.5F", "0.5"),
        ("min.cleanable.dirty.ratio", "0x1p-1", "0.5"),
        ("min.cleanable.dirty.ratio", "-0x1p-1", "-0.5"),
        ("min.cleanable.dirty.ratio", "1e7", "1.0E7"),
        ("min.cleanable.dirty.ratio", "1234567.5", "1234567.5"),
        ("min.cleanable.dirty.ratio", "123.456", "123.456"),
        ("min.cleanable.dirty.ratio", "-2.5e-5", "-2.5E-5"),
        ("min.cleanable.dirty.ratio", "1e400", "Infinity"),
        ("min.cleanable.dirty.ratio", "NaN", "NaN"),  # the broker accepts and stores NaN
        ("min.cleanable.dirty.ratio", "-Infinity", "-Infinity"),
        ("min.cleanable.dirty.ratio", "half", "half"),
        ("min.cleanable.dirty.ratio", "0xzz", "0xzz"),
        ("cleanup.policy", " delete , compact ", "compact,delete"),
        ("cleanup.policy", "delete,compact,delete", "compact,delete"),
        ("cleanup.policy", "", ""),
        ("retention.ms", " 1000 ", "1000"),
        ("retention.ms", "+1000", "1000"),
        ("retention.ms", "\u0661\u0662", "12"),  # Java's parseLong accepts any Unicode digit
        ("retention.bytes", "-5", "-1"),
        ("retention.bytes", "-1", "-1"),
        ("segment.bytes", "2147483648", "2147483648"),  # not an INT: left alone
        ("retention.ms", "7d", "7d"),  # never produced by Kafka: left alone
        ("preallocate", "TRUE", "true"),
        ("preallocate", "yes", "yes"),
        ("compression.type", " gzip ", "gzip"),
        ("message.format.version", "2.8", "2.8-IV1"),
        ("message.format.version", "3.9.garbage", "3.9-IV0"),
        ("message.format.version", "bogus", "bogus"),
        ("leader.replication.throttled.replicas", "1:1,0:1", "0:1,1:1"),
        ("leader.replication.throttled.replicas", "*", "*"),
        ("leader.replication.throttled.replicas", "", ""),
    ],
)
def test_canonical_observed(name: str, observed: str, expected: str) -> None:
    assert canonical_observed(name, observed) == expected


def test_canonical_observed_keeps_values_kafka_treats_differently_distinguishable() -> None:
    # Accepted by CreateTopics but the broker fails to apply them (empty item): keep them
    # visibly different from any valid desired value so the plan repairs them.
    broken = canonical_observed("follower.replication.throttled.replicas", "0:1,,1:1")
    assert broken == "0:1,,1:1"
    assert broken != normalize("follower.replication.throttled.replicas", ["0:1", "1:1"])
    assert canonical_observed("cleanup.policy", "delete,Compact") == "delete,Compact"
    assert canonical_observed("leader.replication.throttled.replicas", "1:1,*") == "1:1,*"


def test_canonical_observed_never_crashes_and_passes_unknown_names_through() -> None:
    assert canonical_observed("retention.ms", None) is None
    assert canonical_observed("some.future.config", " raw value ") == " raw value "
    assert canonical_observed("some.future.config", None) is None
    for name in TOPIC_CONFIGS:
        for weird in ("", " ", ",", "-", "+", "0x", "e", "NaN", "1e", "\u0000", "9" * 400):
            assert isinstance(canonical_observed(name, weird), str)


@pytest.mark.parametrize(
    ("name", "desired", "observed"),
    [
        ("min.insync.replicas", 3, "3"),
        ("min.insync.replicas", "3", "3"),
        ("unclean.leader.election.enable", True, "true"),
        ("unclean.leader.election.enable", "True", "true"),
        ("min.cleanable.dirty.ratio", 0.5, "0.5"),
        ("min.cleanable.dirty.ratio", "0.50", "0.5"),
        ("min.cleanable.dirty.ratio", 1, "1.0"),
        ("min.cleanable.dirty.ratio", "0.0001", "1.0E-4"),
        ("cleanup.policy", "delete,compact", "compact,delete"),
        ("cleanup.policy", ["compact", "delete"], "delete,compact"),
        ("cleanup.policy", " compact ", "compact"),
        ("retention.ms", "7d", "604800000"),
        ("retention.ms", " 604800000 ", "604800000"),
        ("retention.bytes", -1, "-5"),
        ("segment.bytes", "1GiB", "1073741824"),
        ("compression.type", "lz4 ", "lz4"),
        ("message.format.version", "2.8", "2.8-IV1"),
        ("message.format.version", 2.8, "2.8"),
        ("leader.replication.throttled.replicas", ["1:1", "0:1"], "0:1,1:1"),
    ],
)
def test_same_value_for_kafka_means_no_diff(name: str, desired: object, observed: str) -> None:
    assert normalize(name, desired) == canonical_observed(name, observed)


@pytest.mark.parametrize(
    ("name", "desired", "observed"),
    [
        ("local.retention.ms", -1, "-2"),  # unlimited vs "same as retention.ms"
        ("local.retention.bytes", -2, "-1"),
        ("retention.ms", -1, "0"),
        ("retention.bytes", 0, "-1"),
        ("cleanup.policy", "compact", "compact,delete"),
        ("cleanup.policy", [], "delete"),
        ("min.cleanable.dirty.ratio", 0.5, "0.5000001"),
        ("compression.gzip.level", -1, "6"),  # same bytes on disk, but a different setting
        ("message.format.version", "2.8", "2.8-IV0"),
        ("leader.replication.throttled.replicas", "*", "0:1"),
        ("leader.replication.throttled.replicas", ["0:1", "1:1"], "0:1,,1:1"),
        ("preallocate", True, "false"),
    ],
)
def test_different_values_for_kafka_still_differ(name: str, desired: object, observed: str) -> None:
    assert normalize(name, desired) != canonical_observed(name, observed)


def test_every_normalized_value_is_a_fixed_point_of_canonical_observed() -> None:
    samples: dict[str, list[object]] = {
        "boolean": [True, "FALSE"],
        "int": ["+5", 7, "1KiB"],
        "long": ["7d", -1, "10GiB", "0010"],
        "double": [0.25, "1", "1e-5"],
        "string": [],
        "list": [],
    }
    for name, definition in TOPIC_CONFIGS.items():
        for value in [*samples[definition.type], definition.default]:
            try:
                canonical = normalize(name, value)
            except ConfigValueError:
                continue
            assert canonical_observed(name, canonical) == canonical, (name, value)
            assert normalize(name, canonical) == canonical, (name, value)


# ----------------------------------------------------------------- combinations


def test_check_combination_accepts_stock_and_consistent_configs() -> None:
    check_combination({})
    check_combination({"min.compaction.lag.ms": "1000", "max.compaction.lag.ms": "1000"})
    check_combination(
        {
            "remote.storage.enable": "true",
            "retention.ms": "604800000",
            "local.retention.ms": "86400000",
            "retention.bytes": "-1",
            "local.retention.bytes": "-1",
        }
    )
    check_combination({"remote.storage.enable": "false", "cleanup.policy": "compact"})
    check_combination(
        {"remote.storage.enable": "true", "remote.log.copy.disable": "true", "retention.ms": "5"}
    )


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        (
            {"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"},
            r"min\.compaction\.lag\.ms: 10 is greater than max\.compaction\.lag\.ms \(5\)",
        ),
        (
            {"remote.storage.enable": "true", "cleanup.policy": "compact,delete"},
            r"not supported for compacted topics",
        ),
        (
            {"remote.storage.enable": "true", "retention.ms": "1000", "local.retention.ms": "-1"},
            r"local\.retention\.ms: must not be -1 \(unlimited\) while retention\.ms is 1000",
        ),
        (
            {"remote.storage.enable": "true", "retention.ms": "1000", "local.retention.ms": "2000"},
            r"local\.retention\.ms: 2000 must not be more than retention\.ms \(1000\)",
        ),
        (
            {
                "remote.storage.enable": "true",
                "retention.bytes": "1000",
                "local.retention.bytes": "2000",
            },
            r"local\.retention\.bytes: 2000 must not be more than retention\.bytes",
        ),
        (
            {
                "remote.storage.enable": "true",
                "remote.log.copy.disable": "true",
                "retention.ms": "1000",
                "local.retention.ms": "500",
            },
            r"must be -2 or equal to retention\.ms \(1000\) while remote\.log\.copy\.disable",
        ),
    ],
)
def test_check_combination_rejects_what_kafka_rejects(
    configs: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigValueError, match=message):
        check_combination(configs)


# ----------------------------------------------------------------------- humanize


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("retention.ms", "604800000", "7d"),
        ("retention.ms", "-1", "-1 (unlimited)"),
        ("local.retention.ms", "-2", "-2 (same as retention.ms)"),
        ("retention.bytes", "10737418240", "10GiB"),
        ("max.message.bytes", "1048588", "1048588B"),
        ("max.compaction.lag.ms", LONG_MAX, f"{LONG_MAX} (no limit)"),
        ("cleanup.policy", "", "(empty) (none: segments are neither deleted nor compacted)"),
        ("cleanup.policy", "compact", "compact"),
        ("leader.replication.throttled.replicas", "*", "* (all replicas)"),
        ("min.insync.replicas", "2", "2"),
        ("retention.ms", "garbage", "garbage"),
        ("segment.jitter.ms", "-7", "-7"),
        ("unknown.config", "123", "123"),
    ],
)
def test_humanize(name: str, value: str, expected: str) -> None:
    assert humanize(name, value) == expected


def test_humanize_none() -> None:
    assert humanize("retention.ms", None) is None


def test_topic_config_def_is_constructible_for_tests() -> None:
    definition = ConfigDef(
        name="x",
        type="long",
        default="1",
        minimum=0,
        maximum=None,
        valid_values=None,
        unit="ms",
        broker_synonyms=(),
        since="3.9",
        deprecated=False,
        order_insensitive=False,
        doc="A test entry.",
    )
    assert dataclasses.replace(definition, default="2").default == "2"


def test_types_and_list_kinds_unused_by_3_9_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A future catalog entry should only need data: every ConfigType has a code path."""
    from reconciler.core.configs import topic as topic_configs

    base = TOPIC_CONFIGS["retention.ms"]
    extra = {
        "x.class": dataclasses.replace(base, name="x.class", type="class", unit=None),
        "x.password": dataclasses.replace(base, name="x.password", type="password", unit=None),
        "x.short": dataclasses.replace(base, name="x.short", type="short", unit=None, minimum=0),
        "x.ordered": dataclasses.replace(base, name="x.ordered", type="list", unit=None),
    }
    monkeypatch.setattr(topic_configs, "TOPIC_CONFIGS", {**TOPIC_CONFIGS, **extra})

    assert normalize("x.class", " org.example.Policy ") == "org.example.Policy"
    assert canonical_observed("x.class", " org.example.Policy ") == "org.example.Policy"
    assert normalize("x.password", " s3cret ") == "s3cret"
    with pytest.raises(ConfigValueError, match=r"x\.password: 1 \(int\) is not valid"):
        normalize("x.password", 1)
    assert normalize("x.short", "7") == "7"
    with pytest.raises(ConfigValueError, match=r"does not fit a Kafka SHORT \(-32768\.\.32767\)"):
        normalize("x.short", 40000)
    assert normalize("x.ordered", ["b", "a", "b"]) == "b,a,b"
    assert canonical_observed("x.ordered", "b , a") == "b,a"
