"""Load an environment directory into the desired state of every kind, reporting every problem
at once.

Order: parse every file -> schema-check every document against its kind's schema -> find the
one Environment -> resolve includes -> hand each kind its documents -> the cross-kind check.
Nothing here touches a cluster or imports a client library.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from reconciler.core.digests import digest
from reconciler.core.errors import SpecError, SpecProblem
from reconciler.core.model import Location
from reconciler.engine.model import Desired
from reconciler.kinds.base import Loading
from reconciler.kinds.registry import KINDS
from reconciler.specs import environment as env_kind
from reconciler.specs.schema import check_document
from reconciler.specs.yaml_source import Document, load_documents

YAML_SUFFIXES = (".yaml", ".yml")
SCHEMAS: Mapping[str, str] = {env_kind.KIND: env_kind.SCHEMA, **{k.name: k.schema for k in KINDS}}


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
            schema_problems = check_document(doc, SCHEMAS)
            problems.extend(schema_problems)
            if not schema_problems:
                documents.append(doc)
    return documents


def _find_environment(
    env_dir: Path, documents: list[Document], kinds: set[str], problems: list[SpecProblem]
) -> Document | None:
    envs = [d for d in documents if d.data["kind"] == env_kind.KIND]
    if not envs and env_kind.KIND in kinds:
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
    seen_kinds: set[str] = set()
    documents = _parse(own_files, problems, seen_kinds)
    env_doc = _find_environment(root, documents, seen_kinds, problems)
    include_files: list[Path] = []
    if env_doc is not None:
        include_files = _includes(env_doc, root, {p.resolve() for p in own_files}, problems)
    included = _parse(include_files, problems)
    for doc in included:
        if doc.data["kind"] == env_kind.KIND:
            problems.append(
                SpecProblem(
                    doc.location(("kind",)),
                    "kind",
                    "an included file may not hold an Environment",
                    "includes share Topic documents; keep one Environment per directory",
                )
            )
    environment = env_kind.parse_environment(env_doc) if env_doc is not None else None
    loading = Loading(environment, env_doc)
    desired = {}
    every = (*documents, *included)
    for kind in KINDS:
        value, found = kind.load([d for d in every if d.data["kind"] == kind.name], loading)
        problems.extend(found)
        desired[kind.name] = value
    if environment is None or env_doc is None:  # every kind's problems are still reported
        raise SpecError(problems)
    if not environment.connection.bootstrap_servers and environment.msk is None:
        problems.append(
            SpecProblem(
                env_doc.location(("spec", "kafka")),
                "spec.kafka.bootstrapServers",
                "is required unless spec.msk names the cluster to ask for its brokers",
            )
        )
    if problems:
        raise SpecError(problems)
    fingerprints = {kind.name: kind.spec_fingerprint(desired[kind.name]) for kind in KINDS}
    return Desired(
        environment=environment,
        kinds=desired,
        files=tuple(display_path(p) for p in (*own_files, *include_files)),
        digest=digest({"environment": environment.name, **fingerprints}),
    )
