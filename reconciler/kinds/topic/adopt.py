"""Live topics as the documents `import` writes, exact under the Environment (pure).

Loaded with the Environment as it will be (its `topics.defaults`, then the document, then
the matching `topics.overrides`), each document gives the live topic: its partitions and
replication factor, and the configs the Environment does not already give it. That is its
own overrides, less what a default or an override sets to the same value, plus the live
value of every key a default would otherwise change (declaring what a topic already has
plans nothing). Inherited values stay inherited.

An override wins over any document, so a topic that an override would change cannot be
imported as it is; nor can one the Environment's policy refuses, nor one with an override
the brokers do not reveal. Such a topic is left out with what blocks it and the way out;
where the user named it (`--select NAME`, or an override written for exactly that name),
the import refuses instead.

Only topics the Environment may own are adopted (`topics.manage`, `topics.ignore`;
internal topics never), within the selection, and never one the user declares in a file of
their own. With shared defaults, a config value most adopted topics have becomes
`topics.defaults.config` (its partitions and replicationFactor stay), and every topic stays
exact the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from reconciler.core.configs.topic import ConfigValueError, normalize
from reconciler.core.ownership import is_internal
from reconciler.kinds.base import Selection
from reconciler.kinds.topic.checks import policy_problems
from reconciler.kinds.topic.documents import readable
from reconciler.kinds.topic.model import ObservedTopic, ObservedTopics, Topics, TopicSpec

_SHAPE = ("partitions", "replicationFactor")


@dataclass(frozen=True)
class Sections:
    """The Environment's `topics.defaults` and `topics.overrides`, as written."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @staticmethod
    def of(environment_spec: Mapping[str, Any]) -> Sections:
        topics = environment_spec.get("topics") or {}
        return Sections(topics.get("defaults") or {}, topics.get("overrides") or {})


@dataclass(frozen=True)
class Adoption:
    """The topics' documents (as `Topics`), the new `topics.defaults` (None: unchanged),
    and what was left out: `warnings`, and `refusals` for what was asked for by name."""

    topics: Topics
    defaults: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Override:
    """The override fields that apply to one topic, each with the pattern that set it."""

    shape: dict[str, tuple[int, str]]
    config: dict[str, tuple[str, str]]


def _canonical(config: Mapping[str, Any]) -> dict[str, str]:
    """Written config values in Kafka's form; a value Kafka refuses is left to the loader,
    which reports it at its line."""
    values = {}
    for key, value in config.items():
        try:
            values[key] = normalize(key, value)
        except ConfigValueError:
            continue
    return values


def _override(name: str, sections: Sections) -> _Override:
    """The overrides matching `name`, folded in order as the loader folds them."""
    shape: dict[str, tuple[int, str]] = {}
    config: dict[str, tuple[str, str]] = {}
    for pattern, fields in sections.overrides.items():
        if not fnmatchcase(name, pattern):
            continue
        for key in _SHAPE:
            if key in fields:
                shape[key] = (int(fields[key]), pattern)
        for key, value in _canonical(fields.get("config") or {}).items():
            config[key] = (value, pattern)
    return _Override(shape, config)


def _shape(topic: ObservedTopic) -> dict[str, int]:
    return {"partitions": topic.partitions, "replicationFactor": topic.replication_factor}


def _shown(key: str, value: str | None) -> str:
    return "no value" if value is None else str(readable(key, value))


def _conflicts(topic: ObservedTopic, override: _Override) -> list[tuple[str, str]]:
    """(pattern, reason) for every field an override would change."""
    found = []
    live = _shape(topic)
    for key, (number, pattern) in override.shape.items():
        if number != live[key]:
            found.append((pattern, f"sets {key} {number}, but the topic has {live[key]}"))
    for key, (value, pattern) in override.config.items():
        current = topic.configs.get(key)
        if current is not None and current.sensitive:
            continue  # never compared: a plan cannot see it either
        have = current.value if current else None
        if have != value:
            found.append(
                (
                    pattern,
                    f"sets {key} {_shown(key, value)}, but the topic has {_shown(key, have)}",
                )
            )
    return found


def _document_config(
    topic: ObservedTopic, defaults: Mapping[str, str], override: _Override
) -> dict[str, str]:
    """What the document declares so that defaults + document + override is the live topic."""
    config = {
        key: c.value
        for key, c in topic.configs.items()
        if c.may_be_own(key) and not c.sensitive and c.value is not None
    }
    for key, value in defaults.items():
        current = topic.configs.get(key)
        if key in override.config or current is None or current.value is None:
            continue  # the override gives it; or the brokers show none (the check says so)
        if current.value == value:
            config.pop(key, None)  # the default gives the same value
        else:
            config[key] = current.value  # declared, so the default does not change it
    for key in override.config:
        config.pop(key, None)  # the override gives it (equal, or the topic is blocked)
    return dict(sorted(config.items()))


_WAY_OUT = {
    "spec.replicationFactor": (
        "raise it first (kafka-reassign-partitions.sh) and import again, or declare it "
        "yourself in a file of your own with the policy's replicationFactor (the plan then "
        "raises it by reassignment), or add it to topics.ignore"
    ),
    "spec.partitions": (
        "partitions never shrink: raise policy.maxPartitions, or add it to topics.ignore"
    ),
    "spec.config.min.insync.replicas": (
        "producers with acks=all cannot write to it today: lower its min.insync.replicas or "
        "raise its replication factor and import again, or add it to topics.ignore"
    ),
}


def _blockers(
    topic: ObservedTopic, spec: TopicSpec, override: _Override, topics: Topics
) -> list[tuple[str, bool]]:
    """(reason with its way out, named explicitly by an override) for one topic."""
    found: list[tuple[str, bool]] = []
    secret = sorted(k for k, c in topic.configs.items() if c.may_be_own(k) and c.sensitive)
    if secret:
        found.append(
            (
                f"the brokers do not reveal its override of {', '.join(secret)}, and a spec "
                "without it would remove it: declare the topic yourself in a file of your "
                "own, or add it to topics.ignore",
                False,
            )
        )
    for pattern, reason in _conflicts(topic, override):
        found.append(
            (
                f"topics.overrides.{pattern} {reason}; an override wins over any spec, so the "
                "first plan would change it: change or remove the override (or make the "
                "change first), then import again",
                pattern == topic.name,
            )
        )
    for where, message, _ in policy_problems(spec, topics.policy):
        found.append((f"{where.removeprefix('spec.')} {message}: {_WAY_OUT[where]}", False))
    return found


def _majority(values: list[str | None]) -> str | None:
    """The value more than half share, if one does."""
    if not values:
        return None
    value, count = Counter(values).most_common(1)[0]
    return value if count * 2 > len(values) else None


def _factored(candidates: list[ObservedTopic]) -> dict[str, str]:
    """The config values most candidates have, for keys some candidate overrides (others
    are the brokers' values already, everybody's)."""
    keys = sorted(
        {k for t in candidates for k, c in t.configs.items() if c.may_be_own(k) and not c.sensitive}
    )
    shared = {}
    for key in keys:
        values = [c.value if (c := t.configs.get(key)) else None for t in candidates]
        value = _majority(values)
        if value is not None:
            shared[key] = value
    return shared


def _new_defaults(sections: Sections, factored: Mapping[str, str]) -> dict[str, Any] | None:
    """`topics.defaults` with `config` replaced by the factored values; None: unchanged."""
    if not factored:
        return None
    defaults = {k: v for k, v in sections.defaults.items() if k != "config"}
    defaults["config"] = {k: readable(k, v) for k, v in factored.items()}
    return None if defaults == dict(sections.defaults) else defaults


def _named_problem(name: str, observed: ObservedTopics, declared: Topics) -> str | None:
    """Why a topic `--select` names cannot be adopted at all, or None."""
    if name not in observed.listed.names:
        return "no such topic in the cluster"
    if is_internal(name):
        return "an internal topic (its name starts with '_'): never imported"
    if not declared.allows(name):
        return (
            "not owned by this environment (topics.manage / topics.ignore): add a pattern to "
            "topics.manage, or take it out of topics.ignore, to import it"
        )
    return None


def adopt(
    observed: ObservedTopics, declared: Topics, sections: Sections, selection: Selection
) -> Adoption:
    """The documents of the live topics `declared`'s ownership allows and `selection`
    covers, leaving alone the topics `declared` holds (the user's own documents)."""
    warnings: list[str] = []
    refusals: list[str] = []
    for name in selection.named:
        problem = _named_problem(name, observed, declared)
        if problem is not None and selection.covers(name) and name not in declared.topics:
            refusals.append(f"{name}: {problem}")
    kept = sorted(n for n in declared.topics if selection.covers(n) and n in observed.topics)
    if kept:
        warnings.append(
            f"{len(kept)} topic(s) ({', '.join(kept[:5])}{', ...' if len(kept) > 5 else ''}) "
            "are declared in files import did not write: left as written"
        )
    candidates = [
        topic
        for name, topic in sorted(observed.topics.items())
        if declared.allows(name) and selection.covers(name) and name not in declared.topics
    ]
    factored = _factored(candidates) if selection.factor_defaults else {}
    new_defaults = _new_defaults(sections, factored)
    defaults = _canonical(
        (new_defaults if new_defaults is not None else sections.defaults).get("config") or {}
    )
    specs: dict[str, TopicSpec] = {}
    for topic in candidates:
        override = _override(topic.name, sections)
        config = _document_config(topic, defaults, override)
        loaded = {**defaults, **config, **{k: v for k, (v, _) in override.config.items()}}
        merged = TopicSpec(topic.name, topic.partitions, topic.replication_factor, loaded)
        blockers = _blockers(topic, merged, override, declared)
        explicit = topic.name in selection.named
        for reason, named in blockers:
            if explicit or named:
                refusals.append(f"{topic.name}: {reason}")
            else:
                warnings.append(f"{topic.name}: not imported: {reason}")
        if not blockers:
            specs[topic.name] = TopicSpec(
                topic.name, topic.partitions, topic.replication_factor, config
            )
    topics = Topics(specs, declared.manage, declared.ignore, declared.policy, declared.placement)
    return Adoption(topics, new_defaults, tuple(warnings), tuple(refusals))
