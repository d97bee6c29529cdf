"""Catalog of Apache Kafka 3.9 topic-level configs, their validation and canonical form.

This module and its data, ``topic_configs.toml`` (one table per config), are the single
source of truth for topic configs. They serve two purposes:

* **Validation** of spec files: unknown keys are rejected with a "did you mean" hint and
  values are checked against the same rules as Kafka's own validators (``LogConfig`` in
  Kafka 3.9), so mistakes surface at plan time rather than as an apply-time error.
* **Normalisation**: :func:`normalize` (desired value from YAML) and
  :func:`canonical_observed` (value read back with DescribeConfigs) map every spelling
  that Kafka treats as the same value onto one string, so the diff never shows phantom
  changes such as ``3`` vs ``"3"``, ``0.50`` vs ``0.5`` or ``delete,compact`` vs
  ``compact,delete``.

Facts were taken from Kafka 3.9's ``TopicConfig``, ``LogConfig``, ``ServerLogConfigs`` and
``ServerTopicConfigSynonyms`` and checked against a real 3.9.1 broker. Broker behaviour
that shaped the design:

* DescribeConfigs reports a topic's value *re-rendered* from the parsed value (``"+100"``
  as ``100``, ``"1"`` for a double as ``1.0``, ``"0.0001"`` as ``1.0E-4``, ``" a , b "``
  as ``a,b``, ``"TRUE"`` as ``true``), but stores and replays the *raw* string that was
  sent. Raw strings with whitespace have real consequences: a ``message.format.version``
  of ``" 2.8 "`` is accepted by CreateTopics yet stops the broker from starting again
  ("Version  2.8  is not a valid version"), and ``leader.replication.throttled.replicas``
  of ``"0:1 , 1:1"`` or ``"0:1,,1:1"`` is accepted but fails when the broker applies it
  (metadata publishing fault). :func:`normalize` therefore always emits compact, trimmed
  strings and rejects empty list items.
* Synonym values in DescribeConfigs are raw (``log.cleaner.min.cleanable.ratio=0.50``),
  hence :func:`canonical_observed` also accepts un-normalised text.
* ``retention.bytes`` has no validator in Kafka: every negative number means "unlimited"
  (only ``-1`` is documented), so all negatives share the canonical form ``-1``.
  ``local.retention.*`` accept ``-2`` ("same as ``retention.*``") and ``-1`` (unlimited),
  which are different values.
* ``min.cleanable.dirty.ratio=NaN`` passes Kafka's range check; this module rejects it.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from reconciler.core import units

__all__ = [
    "KAFKA_VERSION",
    "MESSAGE_FORMAT_VERSIONS",
    "SPECIAL_VALUES",
    "TOPIC_CONFIGS",
    "ConfigDef",
    "ConfigType",
    "ConfigValueError",
    "Unit",
    "UnknownConfigError",
    "canonical_observed",
    "canonical_value",
    "check_combination",
    "humanize",
    "normalize",
    "normalize_value",
    "suggest",
]

KAFKA_VERSION = "3.9"

ConfigType: TypeAlias = Literal[
    "boolean", "int", "long", "short", "double", "string", "list", "class", "password"
]
Unit: TypeAlias = Literal["ms", "bytes"] | None

_INT_BOUNDS: Mapping[str, tuple[int, int]] = {
    "short": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
_LONG_MAX = 2**63 - 1


@dataclass(frozen=True)
class ConfigDef:
    """One config as Kafka 3.9 defines it (topic configs here, broker properties in
    `configs.broker`: both are normalised and compared by the same code).

    ``minimum``/``maximum`` are the bounds of Kafka's own validator (so ``retention.ms``
    has minimum ``-1``); values with a special meaning are listed in
    :data:`SPECIAL_VALUES`.
    """

    name: str
    type: ConfigType
    default: str | None
    minimum: int | float | None
    maximum: int | float | None
    valid_values: tuple[str, ...] | None
    unit: Unit
    broker_synonyms: tuple[str, ...]
    since: str
    deprecated: bool
    order_insensitive: bool
    doc: str
    #: For a broker property: the topic config it is the default of.
    topic_synonym: str | None = None


class ConfigValueError(ValueError):
    """A config name or value that Kafka would reject; the message says what is allowed.

    ``name`` is the offending config key when known, so callers can point at the spec line.
    """

    def __init__(self, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


class UnknownConfigError(ConfigValueError):
    """A key that is not a Kafka 3.9 topic config; ``suggestion`` is the likely intent."""

    def __init__(self, name: str) -> None:
        self.suggestion = suggest(name)
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        super().__init__(f"{name}: unknown topic config for Kafka {KAFKA_VERSION}{hint}", name=name)


def _error(name: str, message: str) -> ConfigValueError:
    return ConfigValueError(f"{name}: {message}", name=name)


def define(
    name: str,
    type_: ConfigType,
    default: str | None,
    *,
    since: str = "",
    doc: str = "",
    minimum: int | float | None = None,
    maximum: int | float | None = None,
    valid_values: tuple[str, ...] | None = None,
    unit: Unit = None,
    synonyms: tuple[str, ...] = (),
    deprecated: bool = False,
    order_insensitive: bool = False,
    topic_synonym: str | None = None,
) -> ConfigDef:
    """One catalog row (topic configs here, broker properties in `configs.broker`)."""
    return ConfigDef(
        name=name,
        type=type_,
        default=default,
        minimum=minimum,
        maximum=maximum,
        valid_values=valid_values,
        unit=unit,
        broker_synonyms=synonyms,
        since=since,
        deprecated=deprecated,
        order_insensitive=order_insensitive,
        doc=doc,
        topic_synonym=topic_synonym,
    )


_LONG_MAX_S = str(_LONG_MAX)

_CATALOG = Path(__file__).with_name("topic_configs.toml")


def _catalog() -> tuple[ConfigDef, ...]:
    """The catalog's rows (`topic_configs.toml`: data, one table per config) as ConfigDefs."""
    rows: dict[str, dict[str, Any]] = tomllib.loads(_CATALOG.read_text(encoding="utf-8"))
    defs = []
    for name, row in rows.items():
        options: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in row.items()
        }
        defs.append(define(name, options.pop("type"), options.pop("default"), **options))
    return tuple(defs)


_DEFS = _catalog()

#: Every topic config of Kafka 3.9, keyed by name (read-only).
TOPIC_CONFIGS: Mapping[str, ConfigDef] = MappingProxyType({d.name: d for d in _DEFS})

_NO_LIMIT = "no limit"
#: Values with a meaning beyond their number, in canonical form, for errors and plan output.
SPECIAL_VALUES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "retention.ms": {"-1": "unlimited"},
        "retention.bytes": {"-1": "unlimited"},
        "local.retention.ms": {"-2": "same as retention.ms", "-1": "unlimited"},
        "local.retention.bytes": {"-2": "same as retention.bytes", "-1": "unlimited"},
        "compression.gzip.level": {"-1": "zlib default, level 6"},
        "flush.messages": {_LONG_MAX_S: "never, left to the OS"},
        "flush.ms": {_LONG_MAX_S: "never, left to the OS"},
        "max.compaction.lag.ms": {_LONG_MAX_S: _NO_LIMIT},
        "message.timestamp.after.max.ms": {_LONG_MAX_S: _NO_LIMIT},
        "message.timestamp.before.max.ms": {_LONG_MAX_S: _NO_LIMIT},
        "message.timestamp.difference.max.ms": {_LONG_MAX_S: _NO_LIMIT},
        "cleanup.policy": {"": "none: segments are neither deleted nor compacted"},
        "leader.replication.throttled.replicas": {"": "none", "*": "all replicas"},
        "follower.replication.throttled.replicas": {"": "none", "*": "all replicas"},
    }
)

# message.format.version: every MetadataVersion of Kafka 3.9 as (release, sub-version).
_METADATA_VERSIONS: tuple[tuple[str, str], ...] = (
    ("0.8.0", ""), ("0.8.1", ""), ("0.8.2", ""), ("0.9.0", ""),
    ("0.10.0", "IV0"), ("0.10.0", "IV1"), ("0.10.1", "IV0"), ("0.10.1", "IV1"),
    ("0.10.1", "IV2"), ("0.10.2", "IV0"), ("0.11.0", "IV0"), ("0.11.0", "IV1"),
    ("0.11.0", "IV2"), ("1.0", "IV0"), ("1.1", "IV0"), ("2.0", "IV0"), ("2.0", "IV1"),
    ("2.1", "IV0"), ("2.1", "IV1"), ("2.1", "IV2"), ("2.2", "IV0"), ("2.2", "IV1"),
    ("2.3", "IV0"), ("2.3", "IV1"), ("2.4", "IV0"), ("2.4", "IV1"), ("2.5", "IV0"),
    ("2.6", "IV0"), ("2.7", "IV0"), ("2.7", "IV1"), ("2.7", "IV2"), ("2.8", "IV0"),
    ("2.8", "IV1"), ("3.0", "IV0"), ("3.0", "IV1"), ("3.1", "IV0"), ("3.2", "IV0"),
    ("3.3", "IV0"), ("3.3", "IV1"), ("3.3", "IV2"), ("3.3", "IV3"), ("3.4", "IV0"),
    ("3.5", "IV0"), ("3.5", "IV1"), ("3.5", "IV2"), ("3.6", "IV0"), ("3.6", "IV1"),
    ("3.6", "IV2"), ("3.7", "IV0"), ("3.7", "IV1"), ("3.7", "IV2"), ("3.7", "IV3"),
    ("3.7", "IV4"), ("3.8", "IV0"), ("3.9", "IV0"), ("4.0", "IV0"), ("4.0", "IV1"),
)  # fmt: skip
_LATEST_PRODUCTION_VERSION = ("3.9", "IV0")


def _build_version_table() -> dict[str, str]:
    """Mirror ``MetadataVersion.IBP_VERSIONS``: full names plus bare production releases."""
    table: dict[str, str] = {}
    latest: dict[str, str] = {}
    production = True
    for release, sub in _METADATA_VERSIONS:
        full = f"{release}-{sub}" if sub else release
        table[full] = full
        if production:
            latest[release] = full
        if (release, sub) == _LATEST_PRODUCTION_VERSION:
            production = False
    table.update(latest)
    return table


_VERSION_TABLE = _build_version_table()
#: Accepted message.format.version names (Kafka also accepts them with extra dotted parts).
MESSAGE_FORMAT_VERSIONS: tuple[str, ...] = tuple(_VERSION_TABLE)

_MAX_DIGITS = 100
_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_JAVA_INT = re.compile(r"[+-]?\d+")  # Java's Long.parseLong also takes non-ASCII digits
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_JAVA_DOUBLE_SUFFIX = re.compile(r"[fFdD]")
_LIST_SPLIT = re.compile(r"\s*,\s*")  # ConfigDef's COMMA_WITH_WHITESPACE
_REPLICA = re.compile(r"([0-9]+):([0-9]+)")
_THROTTLED = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")
_NEGATIVE_IS_UNLIMITED = ("retention.bytes",)
_ENUM_ALIASES = {"none": "uncompressed"}  # producer-side name people carry over


# --------------------------------------------------------------------------- lookup


def suggest(name: str) -> str | None:
    """Return the topic config most likely meant by an unknown ``name``, or None.

    Besides plain typos (``retention.msec``) it maps broker config names
    (``log.retention.hours``, ``message.max.bytes``) and other spellings (``Retention_MS``)
    to the topic config they correspond to. A name that is already a topic config gets None.
    """
    if name in TOPIC_CONFIGS:
        return None
    key = re.sub(r"[_\-\s]+", ".", name.strip()).lower()
    candidates = _suggestion_candidates()
    if key in candidates:
        return candidates[key]
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return candidates[close[0]] if close else None


def _suggestion_candidates() -> dict[str, str]:
    candidates: dict[str, str] = {}
    for definition in _DEFS:
        for synonym in definition.broker_synonyms:
            candidates.setdefault(synonym, definition.name)
            for prefix in ("log.cleaner.", "log."):
                if synonym.startswith(prefix):
                    candidates.setdefault(synonym.removeprefix(prefix), definition.name)
                    break
    candidates.update({name: name for name in TOPIC_CONFIGS})
    return candidates


def _lookup(name: str) -> ConfigDef:
    definition = TOPIC_CONFIGS.get(name)
    if definition is None:
        raise UnknownConfigError(name)
    return definition


# ------------------------------------------------------------------------ normalize


def normalize(name: str, value: object) -> str:
    """Turn a desired value from a spec into Kafka's canonical string for ``name``.

    Accepts what YAML produces: ``int``, ``float``, ``bool``, ``str`` and, for list configs,
    a list of ``str``. Durations and sizes may use units (``"7d"``, ``"10GiB"``) when the
    config has a ``unit``. Raises :class:`UnknownConfigError` for unknown names and
    :class:`ConfigValueError` for values Kafka would reject (type, range, valid strings);
    it is deliberately stricter where Kafka accepts values that break it (see module doc).
    """
    return normalize_value(_lookup(name), value)


def normalize_value(definition: ConfigDef, value: object) -> str:
    """`normalize` for any config definition (a topic config or a broker property)."""
    if value is None:
        raise _error(definition.name, f"a value is required; allowed: {_allowed(definition)}")
    return _NORMALIZERS[definition.type](definition, value)


def _normalize_boolean(definition: ConfigDef, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise _invalid(definition, value)


def _normalize_integer(definition: ConfigDef, value: object) -> str:
    number: int
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _invalid(definition, value)
    if isinstance(value, int):
        number = value
    elif _ASCII_INT.fullmatch(value.strip()):
        if len(value.strip()) > _MAX_DIGITS:  # int() refuses >4300 digits; no Kafka value fits
            raise _invalid(definition, value)
        number = int(value.strip())
    elif definition.unit is not None:
        try:
            if definition.unit == "ms":
                number = units.parse_duration_ms(value)
            else:
                number = units.parse_size_bytes(value)
        except units.UnitError as exc:
            raise _error(definition.name, f"{exc}; allowed: {_allowed(definition)}") from exc
    else:
        raise _invalid(definition, value)
    _check_integer(definition, number, value)
    if definition.name in _NEGATIVE_IS_UNLIMITED and number < 0:
        number = -1
    return str(number)


def _check_integer(definition: ConfigDef, number: int, raw: object) -> None:
    low, high = _INT_BOUNDS[definition.type]
    shown = str(number)
    if isinstance(raw, str) and raw.strip() != shown:
        shown = f"{raw!r} (= {number})"
    if not low <= number <= high:
        raise _error(
            definition.name,
            f"{shown} does not fit a Kafka {definition.type.upper()} "
            f"({low}..{high}); allowed: {_allowed(definition)}",
        )
    below = definition.minimum is not None and number < definition.minimum
    above = definition.maximum is not None and number > definition.maximum
    extra = _EXTRA_INTEGER_CHECKS.get(definition.name)
    if below or above or (extra is not None and not extra(number)):
        raise _error(definition.name, f"{shown} is out of range; allowed: {_allowed(definition)}")


_EXTRA_INTEGER_CHECKS: Mapping[str, Callable[[int], bool]] = {
    # GZIP's validator is "1..9 or -1", not a plain range: 0 is rejected.
    "compression.gzip.level": lambda level: level != 0,
}


def _normalize_double(definition: ConfigDef, value: object) -> str:
    number: float
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(definition, value)
    try:
        if isinstance(value, str):
            if not _DECIMAL.fullmatch(value.strip()):
                raise _invalid(definition, value)
            number = float(value.strip())
        else:
            number = float(value)
    except OverflowError:
        raise _invalid(definition, value) from None
    if math.isnan(number) or math.isinf(number):
        raise _invalid(definition, value)
    below = definition.minimum is not None and number < definition.minimum
    above = definition.maximum is not None and number > definition.maximum
    if below or above:
        raise _error(definition.name, f"{value!r} is out of range; allowed: {_allowed(definition)}")
    return _java_double(number)


def _normalize_string(definition: ConfigDef, value: object) -> str:
    if definition.name == "message.format.version":
        return _normalize_message_format_version(definition, value)
    if not isinstance(value, str):
        raise _invalid(definition, value)
    text = value.strip()
    if definition.valid_values is not None and text not in definition.valid_values:
        raise _invalid(definition, value, hint=_enum_hint(text, definition.valid_values))
    return text


def _normalize_message_format_version(definition: ConfigDef, value: object) -> str:
    """Resolve to the full version name, so "2.8", "2.8.1" and "2.8-IV1" compare equal."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        # YAML reads an unquoted 2.8 as a float whose repr is what the user typed; where it
        # is not (0.10 -> 0.1) the text resolves to no version and is rejected below.
        resolved = _resolve_message_format_version(repr(value))
        hint = " (YAML read it as a number; quote the version)"
    elif isinstance(value, str):
        resolved = _resolve_message_format_version(value.strip())
        hint = ""
    else:
        raise _invalid(definition, value)
    if resolved is None:
        raise _invalid(definition, value, hint=hint)
    return resolved


def _normalize_list(definition: ConfigDef, value: object) -> str:
    items: list[str]
    if isinstance(value, str):
        text = value.strip()
        items = _LIST_SPLIT.split(text) if text else []
    elif isinstance(value, list | tuple):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise _error(
                    definition.name,
                    f"list item {item!r} is a {type(item).__name__}, not a string (quote it "
                    f"in YAML: an unquoted 1:2 is read as the number 62); "
                    f"allowed: {_allowed(definition)}",
                )
            items.append(item.strip())
    else:
        raise _invalid(definition, value)
    if "" in items:
        raise _error(
            definition.name, f"{value!r} has an empty item; allowed: {_allowed(definition)}"
        )
    if definition.name in _THROTTLED:
        return _normalize_throttled(definition, items, value)
    if definition.valid_values is not None:
        for item in items:
            if item not in definition.valid_values:
                hint = _enum_hint(item, definition.valid_values)
                raise _error(
                    definition.name,
                    f"item {item!r} is not allowed{hint}; allowed: {_allowed(definition)}",
                )
    return _join(definition, items)


def _normalize_throttled(definition: ConfigDef, items: list[str], raw: object) -> str:
    if items == ["*"]:
        return "*"
    low, high = _INT_BOUNDS["int"]
    for item in items:
        match = _REPLICA.fullmatch(item)
        if match is None or not all(low <= int(g) <= high for g in match.groups()):
            raise _error(definition.name, f"{raw!r} is not valid; allowed: {_allowed(definition)}")
    return _join(definition, items)


def _normalize_other(definition: ConfigDef, value: object) -> str:
    # No 3.9 topic config has these types; kept so the mapping covers ConfigType.
    if not isinstance(value, str):
        raise _invalid(definition, value)
    return value.strip()


_NORMALIZERS: Mapping[str, Callable[[ConfigDef, object], str]] = {
    "boolean": _normalize_boolean,
    "int": _normalize_integer,
    "long": _normalize_integer,
    "short": _normalize_integer,
    "double": _normalize_double,
    "string": _normalize_string,
    "list": _normalize_list,
    "class": _normalize_other,
    "password": _normalize_other,
}


# ------------------------------------------------------------------------- observed


def canonical_observed(name: str, value: str | None) -> str | None:
    """Canonical form of a value read from DescribeConfigs (or a raw synonym value).

    Never raises: unknown names (a newer broker's config) and values this module would
    reject are returned unchanged or merely trimmed, so they still compare unequal to any
    valid desired value and show up in the diff instead of crashing the plan.
    """
    if value is None:
        return None
    definition = TOPIC_CONFIGS.get(name)
    return value if definition is None else canonical_value(definition, value)


def canonical_value(definition: ConfigDef, value: str) -> str:
    """`canonical_observed` for any config definition; never raises."""
    text = str(value).strip()
    try:
        return _OBSERVERS[definition.type](definition, text)
    except ValueError:  # e.g. int() refusing thousands of digits
        return text


def _observe_boolean(definition: ConfigDef, text: str) -> str:
    lowered = text.lower()
    return lowered if lowered in ("true", "false") else text


def _observe_integer(definition: ConfigDef, text: str) -> str:
    if not _JAVA_INT.fullmatch(text):
        return text
    number = int(text)
    low, high = _INT_BOUNDS[definition.type]
    if not low <= number <= high:
        return text
    if definition.name in _NEGATIVE_IS_UNLIMITED and number < 0:
        number = -1
    return str(number)


def _observe_double(definition: ConfigDef, text: str) -> str:
    number = _parse_java_double(text)
    return text if number is None else _java_double(number)


def _observe_string(definition: ConfigDef, text: str) -> str:
    if definition.name == "message.format.version":
        return _resolve_message_format_version(text) or text
    return text


def _observe_list(definition: ConfigDef, text: str) -> str:
    items = _LIST_SPLIT.split(text) if text else []
    if definition.name in _THROTTLED:
        valid = items == ["*"] or all(_REPLICA.fullmatch(item) for item in items)
    else:
        allowed = definition.valid_values
        valid = allowed is None or all(item in allowed for item in items)
    if not valid:
        return ",".join(items)  # keep order and empty items: Kafka treats these differently
    return _join(definition, items)


def _observe_other(definition: ConfigDef, text: str) -> str:
    return text


_OBSERVERS: Mapping[str, Callable[[ConfigDef, str], str]] = {
    "boolean": _observe_boolean,
    "int": _observe_integer,
    "long": _observe_integer,
    "short": _observe_integer,
    "double": _observe_double,
    "string": _observe_string,
    "list": _observe_list,
    "class": _observe_other,
    "password": _observe_other,
}


# ----------------------------------------------------------------- combinations


def check_combination(configs: Mapping[str, str]) -> None:
    """Check rules that span several configs, as Kafka's ``LogConfig`` does on create/alter.

    ``configs`` holds canonical values (from :func:`normalize`); missing keys take the stock
    3.9 default, so a cluster with different broker defaults can still reject a combination
    this accepts. Whether tiered storage is enabled on the brokers cannot be checked here.
    """

    def get(key: str) -> str:
        value = configs.get(key, TOPIC_CONFIGS[key].default)
        return "" if value is None else value

    def as_int(key: str) -> int:
        return int(get(key))

    if as_int("min.compaction.lag.ms") > as_int("max.compaction.lag.ms"):
        raise _error(
            "min.compaction.lag.ms",
            f"{get('min.compaction.lag.ms')} is greater than max.compaction.lag.ms "
            f"({get('max.compaction.lag.ms')}); Kafka rejects this combination",
        )
    if get("remote.storage.enable") != "true":
        return
    if "compact" in get("cleanup.policy").split(","):
        raise _error(
            "remote.storage.enable", "tiered storage is not supported for compacted topics"
        )
    for local_key, total_key in (
        ("local.retention.bytes", "retention.bytes"),
        ("local.retention.ms", "retention.ms"),
    ):
        local, total = as_int(local_key), as_int(total_key)
        if get("remote.log.copy.disable") == "true" and local not in (-2, total):
            raise _error(
                local_key,
                f"must be -2 or equal to {total_key} ({total}) while remote.log.copy.disable "
                f"is true",
            )
        if total != -1 and local != -2:
            if local == -1:
                raise _error(local_key, f"must not be -1 (unlimited) while {total_key} is {total}")
            if local > total:
                raise _error(local_key, f"{local} must not be more than {total_key} ({total})")


# --------------------------------------------------------------------- rendering


def humanize(name: str, value: str | None) -> str | None:
    """Friendly rendering of a canonical value for plan output (``604800000 -> "7d"``).

    Special values get their meaning (``-1 (unlimited)``); durations and sizes use the
    shortest exact unit; anything else, including unknown names, is returned unchanged.
    """
    if value is None:
        return None
    meaning = SPECIAL_VALUES.get(name, {}).get(value)
    if meaning is not None:
        return f"{value or '(empty)'} ({meaning})"
    definition = TOPIC_CONFIGS.get(name)
    if definition is None or definition.unit is None or not _ASCII_INT.fullmatch(value):
        return value
    number = int(value)
    if number < 0:
        return value
    if definition.unit == "ms":
        return units.format_duration_ms(number)
    return units.format_bytes(number)


# ------------------------------------------------------------------------ helpers


def _join(definition: ConfigDef, items: list[str]) -> str:
    if not definition.order_insensitive:
        return ",".join(items)
    if definition.name in _THROTTLED:
        pairs = {tuple(int(part) for part in item.split(":")) for item in items}
        return ",".join(f"{partition}:{broker}" for partition, broker in sorted(pairs))
    return ",".join(sorted(set(items)))


def _resolve_message_format_version(text: str) -> str | None:
    """Mirror ``MetadataVersion.fromVersionString``, including Java's ``String.split``."""
    segments = text.split(".")
    while segments and segments[-1] == "":
        segments.pop()  # Java drops trailing empty strings
    wanted = 3 if text.startswith("0.") else 2
    key = text if wanted >= len(segments) else ".".join(segments[:wanted])
    return _VERSION_TABLE.get(key)


def _parse_java_double(text: str) -> float | None:
    """Parse like Java's ``Double.parseDouble`` (suffixes, hex, NaN); None if it would fail."""
    body = text[:-1] if text and _JAVA_DOUBLE_SUFFIX.fullmatch(text[-1]) else text
    sign, unsigned = ("-", body[1:]) if body[:1] == "-" else ("", body.removeprefix("+"))
    if unsigned in ("NaN", "Infinity"):
        return float(sign + unsigned.lower().replace("infinity", "inf"))
    try:
        if unsigned[:2].lower() == "0x":
            return float.fromhex(sign + unsigned)
        if _DECIMAL.fullmatch(body):
            return float(body)
    except (ValueError, OverflowError):
        return None
    return None


def _java_double(number: float) -> str:
    """Render like Java's ``Double.toString`` so canonical values match DescribeConfigs."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0.0"  # also for -0.0, which Kafka compares equal to 0.0
    sign = "-" if number < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(number))).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # decimal point position relative to the digits
    digits = digits.rstrip("0") or "0"
    if 1e-3 <= abs(number) < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        whole = digits[:point].ljust(point, "0")
        return f"{sign}{whole}.{digits[point:] or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _enum_hint(text: str, allowed: tuple[str, ...]) -> str:
    alias = _ENUM_ALIASES.get(text.lower())
    if alias in allowed:
        return f" (did you mean {alias!r}?)"
    for option in allowed:
        if option.lower() == text.lower():
            return f" (did you mean {option!r}? values are case-sensitive)"
    return ""


def _invalid(definition: ConfigDef, value: object, hint: str = "") -> ConfigValueError:
    return _error(
        definition.name,
        f"{value!r} ({type(value).__name__}) is not valid{hint}; allowed: {_allowed(definition)}",
    )


def _allowed(definition: ConfigDef) -> str:
    """Describe the accepted values of ``definition`` for error messages."""
    name, kind = definition.name, definition.type
    specials = SPECIAL_VALUES.get(name, {})
    if kind == "boolean":
        return "true or false"
    if kind == "double":
        return f"a number from {definition.minimum} to {definition.maximum}, e.g. 0.5"
    if name == "message.format.version":
        return "a quoted Kafka version from '0.8.0' to '3.9', e.g. '2.8' or '3.0-IV1'"
    if name in _THROTTLED:
        return "'*' or a list of 'partition:broker' pairs such as ['0:1', '1:2']"
    if kind == "list":
        options = ", ".join(definition.valid_values or ())
        return f"a list (or comma-separated string) of: {options}; may be empty"
    if kind in ("string", "class", "password"):
        return "one of: " + ", ".join(definition.valid_values or ("any string",))
    low, high = _INT_BOUNDS[kind]
    minimum = low if definition.minimum is None else int(definition.minimum)
    maximum = high if definition.maximum is None else int(definition.maximum)
    extra = [f"{key} = {meaning}" for key, meaning in specials.items() if int(key) < 0]
    if name == "compression.gzip.level":
        text = "an integer from 1 to 9"
    elif name in _NEGATIVE_IS_UNLIMITED:
        text = f"an integer from 0 to {maximum}, or any negative number = unlimited (as -1)"
        extra = []
    else:
        first = max(minimum, 0) if extra else minimum
        text = f"an integer from {first} to {maximum}"
    if extra:
        text += ", or " + ", ".join(extra)
    if definition.unit == "ms":
        text += ", in milliseconds or with a unit (ms, s, m, h, d, w), e.g. '7d'"
    elif definition.unit == "bytes":
        text += ", in bytes or with a unit (B, KiB, MiB, GiB, TiB, KB, MB, GB), e.g. '1GiB'"
    return text
