"""Load an environment directory into the typed desired model, reporting every problem at once.

Order: parse every file -> schema-check every document -> resolve includes -> merge topic
defaults and per-environment overrides -> normalise config values against Kafka's catalog ->
cross-document checks. Nothing here touches a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from reconciler.digests import specs_digest
from reconciler.errors import SpecError, SpecProblem
from reconciler.model import Connection, Desired, Environment, Location, MskRef, Policy, TopicSpec
from reconciler.msk.spec import ClusterSpecError, MskClusterSpec, located_problems, parse_cluster
from reconciler.specs.checks import check_topics
from reconciler.specs.schema import check_document
from reconciler.specs.yaml_source import Document, load_documents
from reconciler.topic_configs import (
    ConfigValueError,
    UnknownConfigError,
    check_combination,
    normalize,
)

YAML_SUFFIXES = (".yaml", ".yml")


def display_path(path: Path) -> str:
    """Paths relative to the working directory when possible: shorter, clickable errors."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _yaml_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def _parse(
    files: Iterable[Path], problems: list[SpecProblem], kinds: set[str] | None = None
) -> list[Document]:
    """Schema-valid documents; `kinds` collects the kind of every document, valid or not."""
    documents: list[Document] = []
    for path in files:
        docs, found = load_documents(path, display_path(path))
        problems.extend(found)
        for doc in docs:
            if doc.data is None:  # an empty document (e.g. a trailing ---) carries nothing
                continue
            if kinds is not None and isinstance(doc.data, dict):
                kinds.add(str(doc.data.get("kind")))
            schema_problems = check_document(doc)
            problems.extend(schema_problems)
            if not schema_problems:
                documents.append(doc)
    return documents


@dataclass
class _Value:
    """A value and where it came from, so merged topics still point at the right line."""

    value: Any
    location: Location
    key: Location


@dataclass
class _TopicDraft:
    name: str
    location: Location
    fields: dict[str, _Value] = field(default_factory=dict)
    config: dict[str, _Value] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def merge(self, fields: Mapping[str, Any], doc: Document, path: tuple[str | int, ...]) -> None:
        for key in ("partitions", "replicationFactor"):
            if key in fields:
                where = (*path, key)
                self.fields[key] = _Value(fields[key], doc.location(where), doc.key_location(where))
        for key, value in (fields.get("config") or {}).items():
            where = (*path, "config", key)
            self.config[key] = _Value(value, doc.location(where), doc.key_location(where))


def _environment(doc: Document) -> Environment:
    spec = doc.data["spec"]
    kafka = spec["kafka"]
    sasl = kafka.get("sasl") or {}
    topics = spec.get("topics") or {}
    policy = spec.get("policy") or {}
    msk = spec.get("msk")
    locations = {
        name: doc.location(("spec", "kafka", *name.split("."))) for name in _CONNECTION_FIELDS
    }
    return Environment(
        name=doc.data["metadata"]["name"],
        directory=str(Path(doc.file).parent),
        connection=Connection(
            bootstrap_servers=kafka.get("bootstrapServers", ""),
            security_protocol=kafka.get("securityProtocol", "SSL"),
            ca_file=kafka.get("caFile"),
            verify_hostname=kafka.get("verifyHostname", True),
            sasl_mechanism=sasl.get("mechanism"),
            sasl_username=sasl.get("username"),
            sasl_password=sasl.get("password"),
            timeout_seconds=float(kafka.get("timeoutSeconds", 15)),
        ),
        managed_topics=tuple(topics.get("manage") or ()),
        ignored_topics=tuple(topics.get("ignore") or ()),
        policy=Policy(
            allow_delete=bool(policy.get("allowDelete", False)),
            min_replication_factor=int(policy.get("minReplicationFactor", 1)),
            max_partitions=policy.get("maxPartitions"),
        ),
        msk=MskRef(msk.get("region"), msk.get("clusterName"), msk.get("clusterArn"))
        if msk
        else None,
        locations=locations,
    )


_CONNECTION_FIELDS = (
    "bootstrapServers",
    "securityProtocol",
    "caFile",
    "sasl.username",
    "sasl.password",
)


def _find_environment(
    env_dir: Path, documents: list[Document], kinds: set[str], problems: list[SpecProblem]
) -> Document | None:
    envs = [d for d in documents if d.data["kind"] == "Environment"]
    if not envs and "Environment" in kinds:
        return None  # it exists but is invalid: its own problems are already reported
    if not envs:
        problems.append(
            SpecProblem(
                Location(display_path(env_dir), 1, 1),
                "",
                "no `kind: Environment` document in this directory",
                "add environment.yaml: see the README's spec reference",
            )
        )
        return None
    for extra in envs[1:]:
        problems.append(
            SpecProblem(
                extra.location(("kind",)),
                "kind",
                "a second Environment document",
                f"one directory holds one environment; the first is {envs[0].location(())}",
            )
        )
    return envs[0]


def _includes(
    env_doc: Document, env_dir: Path, seen: set[Path], problems: list[SpecProblem]
) -> list[Path]:
    files: list[Path] = []
    for index, entry in enumerate(env_doc.data["spec"].get("include") or []):
        target = (env_dir / entry).resolve()
        where = env_doc.location(("spec", "include", index))
        if not target.exists():
            problems.append(
                SpecProblem(where, f"spec.include.{index}", f"{entry!r} does not exist")
            )
            continue
        for path in _yaml_files(target):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                files.append(path)
    return files


def _apply_overrides(
    env_doc: Document, drafts: dict[str, _TopicDraft], problems: list[SpecProblem]
) -> None:
    overrides = (env_doc.data["spec"].get("topics") or {}).get("overrides") or {}
    for pattern, fields in overrides.items():
        path = ("spec", "topics", "overrides", pattern)
        matched = [d for name, d in drafts.items() if fnmatchcase(name, pattern)]
        if not matched:
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


def _finish(draft: _TopicDraft, problems: list[SpecProblem]) -> TopicSpec | None:
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
            config[key] = normalize(key, item.value)
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


def _topics(
    env_doc: Document | None, topic_docs: list[Document], problems: list[SpecProblem]
) -> dict[str, TopicSpec]:
    """Merge defaults, each topic and the overrides, in that order; normalise every config."""
    topics_section = (env_doc.data["spec"].get("topics") or {}) if env_doc else {}
    defaults = topics_section.get("defaults") or {}
    drafts: dict[str, _TopicDraft] = {}
    for doc in topic_docs:
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
        draft = _TopicDraft(name, where, labels=dict(doc.data["metadata"].get("labels") or {}))
        if env_doc is not None:
            draft.merge(defaults, env_doc, ("spec", "topics", "defaults"))
        draft.merge(doc.data["spec"], doc, ("spec",))
        drafts[name] = draft
    if env_doc is not None:
        _apply_overrides(env_doc, drafts, problems)
    topics = {}
    for name, draft in drafts.items():
        topic = _finish(draft, problems)
        if topic is not None:
            topics[name] = topic
    return topics


def _cluster(
    env_doc: Document | None, docs: list[Document], problems: list[SpecProblem]
) -> MskClusterSpec | None:
    """The environment's one MskCluster, which must be the cluster its `msk:` names."""
    for extra in docs[1:]:
        problems.append(
            SpecProblem(
                extra.location(("kind",)),
                "kind",
                "a second MskCluster document",
                f"an environment holds one cluster; the first is {docs[0].location(())}",
            )
        )
    if not docs:
        return None
    doc = docs[0]
    try:
        spec = parse_cluster(doc.data)
    except ClusterSpecError as exc:
        problems.extend(located_problems(doc, exc.issues))
        return None
    msk = (env_doc.data["spec"].get("msk") or {}) if env_doc else {}
    named = msk.get("clusterName")
    if env_doc is not None and named != spec.name:
        problems.append(
            SpecProblem(
                doc.location(("metadata", "name")),
                "metadata.name",
                f"the Environment's msk.clusterName is {named!r}, not {spec.name!r}",
                "set spec.msk.clusterName (and region) in the Environment to this cluster",
            )
        )
    return spec


def load(env_dir: str | Path) -> Desired:
    """Load and validate ENV_DIR; raises SpecError listing every problem found."""
    root = Path(env_dir)
    if not root.is_dir():
        raise SpecError(
            [
                SpecProblem(
                    None,
                    "",
                    f"{display_path(root)} is not a directory",
                    "pass an environment directory such as specs/dev",
                )
            ]
        )
    problems: list[SpecProblem] = []
    own_files = _yaml_files(root)
    kinds: set[str] = set()
    documents = _parse(own_files, problems, kinds)
    env_doc = _find_environment(root, documents, kinds, problems)
    include_files: list[Path] = []
    if env_doc is not None:
        include_files = _includes(env_doc, root, {p.resolve() for p in own_files}, problems)
    included = _parse(include_files, problems)
    for doc in included:
        if doc.data["kind"] == "Environment":
            problems.append(
                SpecProblem(
                    doc.location(("kind",)),
                    "kind",
                    "an included file may not hold an Environment",
                    "includes share Topic documents; keep one Environment per directory",
                )
            )
    topic_docs = [d for d in (*documents, *included) if d.data["kind"] == "Topic"]
    topics = _topics(env_doc, topic_docs, problems)
    cluster_docs = [d for d in (*documents, *included) if d.data["kind"] == "MskCluster"]
    cluster = _cluster(env_doc, cluster_docs, problems)
    if env_doc is None:  # still report every topic problem, but nothing else can be checked
        raise SpecError(problems)
    environment = _environment(env_doc)
    if not environment.connection.bootstrap_servers and environment.msk is None:
        problems.append(
            SpecProblem(
                env_doc.location(("spec", "kafka")),
                "spec.kafka.bootstrapServers",
                "is required unless spec.msk names the cluster to ask for its brokers",
            )
        )
    problems.extend(check_topics(environment, topics))
    if problems:
        raise SpecError(problems)
    files = tuple(display_path(p) for p in (*own_files, *include_files))
    return Desired(
        environment=environment,
        topics=dict(sorted(topics.items())),
        files=files,
        digest=specs_digest(environment, topics, cluster),
        cluster=cluster,
    )
