"""Topic documents -> desired topics, with the Environment's defaults, overrides and ownership.

Order: the Environment's `topics.defaults`, then each topic's own fields, then the matching
`topics.overrides`; every config value is normalised against Kafka's catalog, then the
cross-document checks run. Every problem keeps the line it was written on, also after a
merge. Pure: documents in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from reconciler.core.configs.topic import (
    ConfigValueError,
    UnknownConfigError,
    check_combination,
    normalize,
)
from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location
from reconciler.core.units import UnitError, parse_size_bytes
from reconciler.kinds.base import Loading
from reconciler.kinds.topic.checks import check_topics
from reconciler.kinds.topic.model import (
    DEFAULT_THROTTLE,
    PlacementPolicy,
    TopicPolicy,
    Topics,
    TopicSpec,
)
from reconciler.specs.yaml_source import Document, PathKey


class _Value(NamedTuple):
    """A value and where it came from, so merged topics still point at the right line (the
    location is looked up only for a problem: most values never need it)."""

    value: Any
    doc: Document
    path: PathKey

    @property
    def location(self) -> Location:
        return self.doc.location(self.path)

    @property
    def key(self) -> Location:
        return self.doc.key_location(self.path)


@dataclass
class _Draft:
    name: str
    location: Location
    fields: dict[str, _Value] = field(default_factory=dict)
    config: dict[str, _Value] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def merge(self, fields: Mapping[str, Any], doc: Document, path: PathKey) -> None:
        for key in ("partitions", "replicationFactor"):
            if key in fields:
                self.fields[key] = _Value(fields[key], doc, (*path, key))
        for key, value in (fields.get("config") or {}).items():
            self.config[key] = _Value(value, doc, (*path, "config", key))


def _section(loading: Loading, name: str) -> Mapping[str, Any]:
    if loading.document is None:
        return {}
    return loading.document.data["spec"].get(name) or {}


def _apply_overrides(
    env_doc: Document, drafts: dict[str, _Draft], problems: list[SpecProblem], partial: bool
) -> None:
    overrides = (env_doc.data["spec"].get("topics") or {}).get("overrides") or {}
    for pattern, fields in overrides.items():
        path = ("spec", "topics", "overrides", pattern)
        matched = [d for name, d in drafts.items() if fnmatchcase(name, pattern)]
        if not matched and not partial:
            problems.append(
                SpecProblem(
                    env_doc.location(path),
                    ".".join(path),
                    f"override {pattern!r} matches no declared topic",
                    "check the name; overrides only change topics the specs declare",
                )
            )
        for draft in matched:
            draft.merge(fields, env_doc, path)


class _Normalized:
    """`normalize` remembered per (config, value): thousands of topics share a few dozen
    values (`7d`, `compact`), and turning `7d` into milliseconds is the costly part. Keyed by
    the value's type too, so `true` and `1` stay apart."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, type, Any], str | ConfigValueError] = {}

    def __call__(self, key: str, value: Any) -> str:
        if isinstance(value, list):  # unhashable, and rare enough
            return normalize(key, value)
        cache_key = (key, type(value), value)
        found = self.known.get(cache_key)
        if found is None:
            try:
                found = normalize(key, value)
            except ConfigValueError as exc:
                found = exc
            self.known[cache_key] = found
        if isinstance(found, ConfigValueError):
            raise found
        return found


def _finish(
    draft: _Draft, problems: list[SpecProblem], normalized: _Normalized
) -> TopicSpec | None:
    ok = True
    for key in ("partitions", "replicationFactor"):
        if key not in draft.fields:
            ok = False
            problems.append(
                SpecProblem(
                    draft.location,
                    f"{draft.name}: spec.{key}",
                    "is required",
                    "set it on the topic or in the Environment's topics.defaults",
                )
            )
    config: dict[str, str] = {}
    for key, item in draft.config.items():
        try:
            config[key] = normalized(key, item.value)
        except ConfigValueError as exc:
            ok = False
            where = item.key if isinstance(exc, UnknownConfigError) else item.location
            message = str(exc).removeprefix(f"{key}: ")
            problems.append(SpecProblem(where, f"spec.config.{key}", message))
    if ok:
        try:
            check_combination(config)
        except ConfigValueError as exc:
            ok = False
            culprit = draft.config.get(exc.name or "")
            problems.append(
                SpecProblem(
                    culprit.location if culprit else draft.location,
                    f"{draft.name}: spec.config.{exc.name}",
                    str(exc).removeprefix(f"{exc.name}: "),
                )
            )
    if not ok:
        return None
    return TopicSpec(
        name=draft.name,
        partitions=int(draft.fields["partitions"].value),
        replication_factor=int(draft.fields["replicationFactor"].value),
        config=dict(sorted(config.items())),
        labels=draft.labels,
        location=draft.location,
    )


def _policy(loading: Loading) -> TopicPolicy:
    policy = _section(loading, "policy")
    return TopicPolicy(
        allow_delete=bool(policy.get("allowDelete", False)),
        min_replication_factor=int(policy.get("minReplicationFactor", 1)),
        max_partitions=policy.get("maxPartitions"),
    )


def _throttle(value: Any, loading: Loading, problems: list[SpecProblem]) -> int | None:
    """`50MiB`, `50MiB/s`, 52428800 -> bytes per second; `none` -> no throttle."""
    if value is None:
        return DEFAULT_THROTTLE
    if value == "none":
        return None
    text = value.strip().removesuffix("/s").strip() if isinstance(value, str) else value
    try:
        rate = parse_size_bytes(text)
    except UnitError as exc:
        rate = None
        message = str(exc)
    else:
        message = "must be at least 1 byte per second"
    if rate is not None and rate >= 1:
        return rate
    where = ("spec", "placement", "throttle")
    document = loading.document
    problems.append(
        SpecProblem(
            document.location(where) if document else None,
            "spec.placement.throttle",
            message,
            "write a rate per broker such as 50MiB (per second), or none for no throttle",
        )
    )
    return DEFAULT_THROTTLE


def _placement(loading: Loading, problems: list[SpecProblem]) -> PlacementPolicy:
    placement = _section(loading, "placement")
    rack_aware = placement.get("rackAware")
    return PlacementPolicy(
        rack_aware=None if rack_aware is None else bool(rack_aware),
        balance=bool(placement.get("balance", False)),
        throttle=_throttle(placement.get("throttle"), loading, problems),
    )


def load_topics(docs: Sequence[Document], loading: Loading) -> tuple[Topics, list[SpecProblem]]:
    """Merge defaults, each topic and the overrides, in that order; normalise every config."""
    problems: list[SpecProblem] = []
    section = _section(loading, "topics")
    defaults = section.get("defaults") or {}
    drafts: dict[str, _Draft] = {}
    for doc in docs:
        name = doc.data["metadata"]["name"]
        where = doc.location(("metadata", "name"))
        if name in drafts:
            problems.append(
                SpecProblem(
                    where,
                    "metadata.name",
                    f"duplicate topic {name!r}",
                    f"first declared at {drafts[name].location}",
                )
            )
            continue
        draft = _Draft(name, where, labels=dict(doc.data["metadata"].get("labels") or {}))
        if loading.document is not None:
            draft.merge(defaults, loading.document, ("spec", "topics", "defaults"))
        draft.merge(doc.data["spec"], doc, ("spec",))
        drafts[name] = draft
    if loading.document is not None:
        _apply_overrides(loading.document, drafts, problems, loading.partial)
    topics = {}
    normalized = _Normalized()
    for name, draft in drafts.items():
        topic = _finish(draft, problems, normalized)
        if topic is not None:
            topics[name] = topic
    desired = Topics(
        topics=dict(sorted(topics.items())),
        manage=tuple(section.get("manage") or ()),
        ignore=tuple(section.get("ignore") or ()),
        policy=_policy(loading),
        placement=_placement(loading, problems),
    )
    if loading.environment is not None:
        problems.extend(check_topics(desired))
    return desired, problems
