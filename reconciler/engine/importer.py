"""`reconciler import`: the live cluster as spec files, so the first plan after it is empty.

Every kind that can be imported (`Kind.discover`) reads what the Environment's cluster runs
and turns it back into spec documents, in human units where they are exact. Files are laid
out deterministically (one per kind, or topics grouped by name prefix), in a stable order,
never overwritten without `force`, and checked by the loader before the command says it is
done. Secrets are never written: a kind leaves out what it cannot read and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from reconciler.clients.session import Clients
from reconciler.core.errors import ReconcilerError
from reconciler.engine.environment_file import add_to_environment, environment_path
from reconciler.engine.load import load
from reconciler.kinds.base import Discovered, Selection, SpecDocument
from reconciler.kinds.registry import KINDS
from reconciler.specs.boundaries import repository_root
from reconciler.specs.files import display_path
from reconciler.specs.variables import resolve

Layout = Literal["kind", "prefix"]
#: Where a name's prefix ends, for `--layout prefix`: `payments.orders` -> `payments`.
_PREFIX = re.compile(r"[._-]")


@dataclass(frozen=True)
class Imported:
    files: tuple[Path, ...]
    counts: Mapping[str, int]
    warnings: tuple[str, ...] = ()
    environment_changed: bool = False


@dataclass
class _Plan:
    """Files and their documents, decided before anything is written."""

    files: dict[Path, list[SpecDocument]] = field(default_factory=dict)
    schemas: dict[Path, str] = field(default_factory=dict)

    def add(self, path: Path, schema: str, documents: list[SpecDocument]) -> None:
        self.files.setdefault(path, []).extend(documents)
        self.schemas[path] = schema


def _prefix(name: str) -> str:
    return _PREFIX.split(name, maxsplit=1)[0] or "topics"


def _layout(
    env_dir: Path, file: str, documents: list[SpecDocument], layout: Layout
) -> dict[Path, list[SpecDocument]]:
    if layout == "kind" or len(documents) <= 1:
        return {env_dir / f"{file}.yaml": documents}
    grouped: dict[Path, list[SpecDocument]] = {}
    for document in documents:
        path = env_dir / file / f"{_prefix(document['metadata']['name'])}.yaml"
        grouped.setdefault(path, []).append(document)
    return grouped


def _schema_line(path: Path, schema: str) -> str:
    """An editor hint pointing at the repository's schemas/, where there is one."""
    root = repository_root(path.parent)
    if not (root / "schemas" / schema).is_file() or not path.parent.is_relative_to(root):
        return ""
    up = Path(*[".."] * len(path.parent.relative_to(root).parts))
    return f"# yaml-language-server: $schema={(up / 'schemas' / schema).as_posix()}\n"


def _text(path: Path, schema: str, documents: list[SpecDocument], source: str) -> str:
    """The same cluster imports to the same text, so a re-import's diff is the cluster's."""
    header = _schema_line(path, schema) + (
        f"# Imported from {source} by `reconciler import`: review it, then commit it.\n"
    )
    body = yaml.safe_dump_all(
        documents, sort_keys=False, explicit_start=True, default_flow_style=False, width=100
    )
    return header + body


def import_environment(
    env_dir: Path,
    selection: Selection,
    *,
    layout: Layout = "kind",
    force: bool = False,
    environ: Mapping[str, str] | None = None,
    allow_outside_repo: bool = False,
) -> Imported:
    """Observe the Environment's cluster and write what it runs as spec files in ENV_DIR."""
    desired = load(env_dir, allow_outside_repo=allow_outside_repo)
    environment = desired.environment
    clients = Clients(resolve(environment, environ), environment.msk)
    plan = _Plan()
    counts: dict[str, int] = {}
    warnings: list[str] = []
    shared: dict[str, Any] = {}
    for kind in KINDS:
        if kind.discover is None:
            continue
        found: Discovered[Any] = kind.discover(clients, environment, selection)
        warnings.extend(found.warnings)
        counts[kind.name] = kind.count(found.desired)
        shared.update(found.environment)
        documents = sorted(kind.to_documents(found.desired, True), key=_name)
        for path, group in _layout(env_dir, kind.file, documents, layout).items():
            if group:
                plan.add(path, kind.schema, group)
    existing = [p for p in plan.files if p.exists()]
    if existing and not force:
        names = ", ".join(display_path(p) for p in existing)
        raise ReconcilerError(
            f"{names} already exist; nothing was written. Move them away, or pass --force "
            "to replace them"
        )
    source = (
        environment.msk.cluster if environment.msk else environment.connection.bootstrap_servers
    )
    touched = [*plan.files, *([environment_path(env_dir)] if shared else [])]
    before = {p: p.read_text(encoding="utf-8") if p.exists() else None for p in touched}
    try:
        for path, documents in plan.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_text(path, plan.schemas[path], documents, source), encoding="utf-8")
        changed = bool(shared) and add_to_environment(env_dir, shared, force=force)
        load(env_dir, allow_outside_repo=allow_outside_repo)  # what it wrote must validate
    except ReconcilerError:
        _restore(before)  # e.g. a topic also declared in another file: leave things as they were
        raise
    return Imported(tuple(plan.files), counts, tuple(warnings), changed)


def _restore(before: Mapping[Path, str | None]) -> None:
    for path, text in before.items():
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")


def _name(document: SpecDocument) -> str:
    return str(document["metadata"]["name"])
