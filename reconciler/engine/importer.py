"""`reconciler import`: the live cluster as spec files, so the first plan after it is empty.

Every kind that can be imported (`Kind.discover`) reads what the Environment's cluster runs
and turns it back into spec documents, in human units where they are exact, that give the
live state once loaded with the Environment's defaults and overrides. Files are laid out
deterministically (one per kind, or topics grouped by name prefix), in a stable order.

The files an import writes carry its header line, and an import with `force` owns them: it
rewrites them or, where nothing is left to hold, removes them. Documents an earlier import
wrote for names outside the selection are kept. Without `force`, nothing is ever
overwritten; a file the user wrote (no header) is never overwritten at all, and what the
user's own files declare is left as written.

Before the command says it is done, the specs are loaded again and diffed against what was
read (`import_check`): any difference puts every file back as it was, with the resources
and fields that differ. Secrets are never written: a kind leaves out what it cannot read
and says so.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from reconciler.clients.session import Clients
from reconciler.core.cluster import ClusterView
from reconciler.core.errors import ReconcilerError, SpecError, Unavailable
from reconciler.engine.environment_file import (
    add_to_environment,
    environment_document,
    environment_path,
)
from reconciler.engine.import_check import KindCheck, check_import
from reconciler.engine.load import load
from reconciler.engine.model import Desired
from reconciler.engine.observe import connect
from reconciler.kinds.base import Adopting, Discovered, Selection, SpecDocument
from reconciler.kinds.registry import KINDS
from reconciler.specs import environment as env_kind
from reconciler.specs.boundaries import repository_root
from reconciler.specs.files import display_path, yaml_files
from reconciler.specs.yaml_source import Document, load_documents

Layout = Literal["kind", "prefix"]
#: Where a name's prefix ends, for `--layout prefix`: `payments.orders` -> `payments`.
_PREFIX = re.compile(r"[._-]")
#: The header line that marks a file as written by `import` (and so rewritten by it).
_MARK = re.compile(r"^# Imported from .* by `reconciler import`")


@dataclass(frozen=True)
class Imported:
    files: tuple[Path, ...]
    counts: Mapping[str, int]
    warnings: tuple[str, ...] = ()
    environment_changed: bool = False
    removed: tuple[Path, ...] = ()


@dataclass
class _Plan:
    """Files and their documents, decided before anything is written: per kind, the names
    written afresh; the Environment's sections; whether an earlier import's are kept."""

    files: dict[Path, list[SpecDocument]] = field(default_factory=dict)
    schemas: dict[Path, str] = field(default_factory=dict)
    written: dict[str, set[str]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    carried: bool = False

    def add(self, path: Path, schema: str, documents: list[SpecDocument]) -> None:
        self.files.setdefault(path, []).extend(documents)
        self.schemas[path] = schema


def _prefix(name: str) -> str:
    return _PREFIX.split(name, maxsplit=1)[0] or "topics"


def _layout(
    env_dir: Path, file: str, documents: list[SpecDocument], layout: Layout
) -> dict[Path, list[SpecDocument]]:
    if not documents:
        return {}
    if layout == "kind" or len(documents) == 1:
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


def _marked(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as text:
        return any(_MARK.match(line) for line, _ in zip(text, range(3), strict=False))


def owned_files(env_dir: Path) -> dict[Path, list[Document]]:
    """The files an earlier import wrote (its header line) with their documents; a file
    that holds the Environment is never one of them."""
    owned: dict[Path, list[Document]] = {}
    for path in yaml_files(env_dir):
        if not _marked(path):
            continue
        documents, problems = load_documents(path, display_path(path))
        if problems:
            raise SpecError(problems)
        kinds = {d.data.get("kind") for d in documents if isinstance(d.data, dict)}
        if env_kind.KIND not in kinds:
            owned[path] = [d for d in documents if isinstance(d.data, dict)]
    return owned


def _name(document: SpecDocument) -> str:
    return str(document["metadata"]["name"])


def _kept(
    owned: Mapping[Path, list[Document]], kind: str, found: Discovered[Any, Any]
) -> list[SpecDocument]:
    """An earlier import's documents of `kind` that this import does not speak for."""
    return [
        doc.data
        for docs in owned.values()
        for doc in docs
        if doc.data.get("kind") == kind and not found.covers(_name(doc.data))
    ]


def _plan(
    env_dir: Path,
    owned: Mapping[Path, list[Document]],
    found: Mapping[str, Discovered[Any, Any]],
    layout: Layout,
) -> _Plan:
    """Every kind's documents, afresh and kept from an earlier import, laid out in files."""
    plan = _Plan()
    for kind in KINDS:
        discovered = found.get(kind.name)
        if discovered is None:
            continue
        plan.shared.update(discovered.environment)
        fresh = kind.to_documents(discovered.desired, True)
        plan.written[kind.name] = {_name(d) for d in fresh}
        kept = _kept(owned, kind.name, discovered)
        plan.carried = plan.carried or bool(kept)
        documents = sorted([*fresh, *kept], key=_name)
        for path, group in _layout(env_dir, kind.file, documents, layout).items():
            plan.add(path, kind.schema, group)
    return plan


def _already(paths: Collection[Path], whose: str, way_out: str) -> ReconcilerError:
    names = ", ".join(display_path(p) for p in paths)
    exist = "exists" if len(paths) == 1 else "exist"
    return ReconcilerError(f"{names} already {exist} ({whose}); nothing was written. {way_out}")


def _refuse_overwrite(plan: _Plan, owned: Mapping[Path, object]) -> None:
    """A file the user wrote is never overwritten, not even with --force."""
    theirs = [p for p in plan.files if p.exists() and p not in owned]
    if theirs:
        raise _already(
            theirs,
            "not written by `reconciler import`: no header line",
            "Move them away (what they declare is then imported afresh), or choose another "
            "--layout",
        )


def _before(
    env_dir: Path, mine: Desired, carried: bool, allow_outside_repo: bool
) -> Mapping[str, Any]:
    """The specs as they were: the user's own files, and an earlier import's where some of
    its documents are kept (their plan before is what they may still plan after)."""
    if not carried:
        return mine.kinds
    try:
        return load(env_dir, allow_outside_repo=allow_outside_repo, partial=True).kinds
    except SpecError:
        return mine.kinds


def _cluster(clients: Clients) -> ClusterView | None:
    try:
        return clients.cluster()[0]
    except Unavailable:
        return None


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
    owned = owned_files(env_dir) if env_dir.is_dir() else {}
    if owned and not force:
        raise _already(
            owned,
            "written by an earlier import",
            "Pass --force to rewrite them with what the cluster runs now (documents for "
            "names outside --select/--exclude stay as they are)",
        )
    mine = load(env_dir, allow_outside_repo=allow_outside_repo, leave_out=owned, partial=True)
    environment = mine.environment
    document = environment_document(env_dir)
    clients = connect(environment, environ)
    found: dict[str, Discovered[Any, Any]] = {}
    for kind in KINDS:
        if kind.discover is not None:
            adopting = Adopting(environment, document, mine.kinds[kind.name], selection)
            found[kind.name] = kind.discover(clients, adopting)
    warnings = [w for f in found.values() for w in f.warnings]
    refusals = [r for f in found.values() for r in f.refusals]
    if refusals:
        raise ReconcilerError(
            "nothing was written: what was asked for by name cannot be imported:\n"
            + "\n".join(f"  {line}" for line in [*refusals, *warnings])
        )
    plan = _plan(env_dir, owned, found, layout)
    _refuse_overwrite(plan, owned)
    before = _before(env_dir, mine, plan.carried, allow_outside_repo)
    source = (
        environment.msk.cluster if environment.msk else environment.connection.bootstrap_servers
    )
    stale = [p for p in owned if p not in plan.files]
    touched = [*plan.files, *stale, environment_path(env_dir)]
    saved = {p: p.read_text(encoding="utf-8") if p.exists() else None for p in touched}
    try:
        for path, documents in plan.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_text(path, plan.schemas[path], documents, source), encoding="utf-8")
        for path in stale:
            path.unlink()
            _remove_empty(path.parent, env_dir)
        changed = bool(plan.shared) and add_to_environment(env_dir, plan.shared, force=force)
        after = load(env_dir, allow_outside_repo=allow_outside_repo)  # it must validate
        checks = [
            KindCheck(
                k, before[k.name], after.kinds[k.name], found[k.name].observed, plan.written[k.name]
            )
            for k in KINDS
            if k.name in plan.written
        ]
        verdict = check_import(checks, _cluster(clients), datetime.now(UTC))
        if verdict.differences:
            raise ReconcilerError(
                "the specs this import wrote would not plan empty, so nothing was kept:\n"
                + "\n".join(f"  {line}" for line in verdict.differences)
            )
    except ReconcilerError as exc:
        _restore(saved, env_dir)  # e.g. a topic also declared elsewhere: leave things as they were
        if not warnings:
            raise
        left_out = "\n".join(f"  {line}" for line in warnings)
        raise ReconcilerError(f"{exc}\nand what this import left out:\n{left_out}") from exc
    counts = {k.name: k.count(found[k.name].desired) for k in KINDS if k.name in found}
    return Imported(tuple(plan.files), counts, (*warnings, *verdict.notes), changed, tuple(stale))


def _remove_empty(folder: Path, env_dir: Path) -> None:
    """A prefix layout's folder that its last file left."""
    if folder != env_dir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _restore(saved: Mapping[Path, str | None], env_dir: Path) -> None:
    for path, text in saved.items():
        if text is None:
            path.unlink(missing_ok=True)
            _remove_empty(path.parent, env_dir)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
