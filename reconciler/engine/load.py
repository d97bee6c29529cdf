"""Load an environment directory into the desired state of every kind, reporting every problem
at once.

Order: parse every file -> schema-check every document against its kind's schema -> find the
one Environment -> resolve includes -> hand each kind its documents -> the cross-kind check.
Nothing here touches a cluster or imports a client library.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from reconciler.core.digests import digest
from reconciler.core.environment import Environment
from reconciler.core.errors import SpecError, SpecProblem
from reconciler.core.model import Location
from reconciler.engine.model import Desired
from reconciler.kinds.base import Loading
from reconciler.kinds.registry import KINDS
from reconciler.specs import environment as env_kind
from reconciler.specs.boundaries import Boundary, misplaced_variables, repository_root
from reconciler.specs.collector import collector_paused
from reconciler.specs.files import display_path, yaml_files
from reconciler.specs.schema import check_document
from reconciler.specs.secrets import literal_secrets
from reconciler.specs.yaml_source import Document, parse_documents, read_spec_file

SCHEMAS: Mapping[str, str] = {env_kind.KIND: env_kind.SCHEMA, **{k.name: k.schema for k in KINDS}}


def _parse(
    files: Iterable[Path], problems: list[SpecProblem], kinds: set[str] | None = None
) -> list[Document]:
    """Schema-valid documents; `kinds` collects the kind of every document, valid or not.

    Every file is read within the YAML limits, scanned for literal secrets, and checked for
    `${VAR}` references outside the connection fields.
    """
    documents: list[Document] = []
    for path in files:
        display = display_path(path)
        text, found = read_spec_file(path, display)
        problems.extend(found)
        if text is None:
            continue
        problems.extend(literal_secrets(text, display))
        docs, found = parse_documents(text, display)
        problems.extend(found)
        variables = "${" in text
        for doc in docs:
            if doc.data is None:  # an empty document (e.g. a trailing ---) carries nothing
                continue
            if kinds is not None and isinstance(doc.data, dict):
                kinds.add(str(doc.data.get("kind")))
            schema_problems = check_document(doc, SCHEMAS)
            problems.extend(schema_problems)
            if not schema_problems:
                if variables:
                    problems.extend(misplaced_variables(doc))
                documents.append(doc)
    return documents


def _find_environment(
    env_dir: Path, documents: list[Document], kinds: set[str], problems: list[SpecProblem]
) -> Document | None:
    envs = env_kind.environment_documents(documents)
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
    env_doc: Document, env_dir: Path, seen: set[Path], boundary: Boundary
) -> tuple[list[Path], list[SpecProblem]]:
    files: list[Path] = []
    problems: list[SpecProblem] = []
    for index, entry in enumerate(env_doc.data["spec"].get("include") or []):
        target = env_dir / entry
        where = env_doc.location(("spec", "include", index))
        field = f"spec.include.{index}"
        if not target.exists():
            problems.append(SpecProblem(where, field, f"{entry!r} does not exist"))
        elif boundary.refuses(target):
            problems.append(boundary.problem(where, field, repr(entry)))
        else:
            for path in yaml_files(target.resolve()):
                if path.resolve() not in seen:
                    seen.add(path.resolve())
                    files.append(path)
    return files, problems


def _linked_out(files: list[Path], boundary: Boundary, problems: list[SpecProblem]) -> list[Path]:
    """Spec files that are links to somewhere outside the repository are not read."""
    kept = []
    for path in files:
        if boundary.refuses(path):
            where = Location(display_path(path), 1, 1)
            problems.append(boundary.problem(where, "", f"its link target {path.resolve()}"))
        else:
            kept.append(path)
    return kept


def _placed_ca_file(
    environment: Environment, boundary: Boundary, problems: list[SpecProblem]
) -> Environment:
    """A literal caFile, relative to the repository root, must stay inside the repository (a
    ${VAR} one is the runner's choice)."""
    ca_file = environment.connection.ca_file
    if ca_file is None or "${" in ca_file:
        return environment
    path = boundary.place(ca_file)
    if boundary.refuses(path):
        where = environment.locations.get("caFile")
        hint = "; or set it from the runner's environment: caFile: ${KAFKA_CA_FILE}"
        problems.append(boundary.problem(where, "spec.kafka.caFile", repr(ca_file), hint))
    return replace(environment, connection=replace(environment.connection, ca_file=str(path)))


def load(
    env_dir: str | Path,
    *,
    allow_outside_repo: bool = False,
    leave_out: Collection[Path] = (),
    partial: bool = False,
) -> Desired:
    """Load and validate ENV_DIR; raises SpecError listing every problem found.

    Paths (includes, spec files, caFile) must stay inside the repository unless
    `allow_outside_repo`. `import` reads the specs without the files it is about to rewrite
    (`leave_out`), and `partial`: its own documents are still to come.
    """
    with collector_paused():
        return _load(Path(env_dir), allow_outside_repo, leave_out, partial)


def _load(
    root: Path, allow_outside_repo: bool, leave_out: Collection[Path], partial: bool
) -> Desired:
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
    boundary = Boundary(repository_root(root), allow_outside_repo)
    left_out = {p.resolve() for p in leave_out}
    own = [p for p in yaml_files(root) if p.resolve() not in left_out]
    own_files = _linked_out(own, boundary, problems)
    seen_kinds: set[str] = set()
    documents = _parse(own_files, problems, seen_kinds)
    env_doc = _find_environment(root, documents, seen_kinds, problems)
    include_files: list[Path] = []
    if env_doc is not None:
        problems.extend(env_kind.misnamed(env_doc, root))
        seen = {p.resolve() for p in own_files}
        include_files, found = _includes(env_doc, root, seen, boundary)
        problems.extend(found)
        include_files = _linked_out(include_files, boundary, problems)
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
    loading = Loading(environment, env_doc, boundary, partial)
    desired = {}
    every = (*documents, *included)
    for kind in KINDS:
        value, found = kind.load([d for d in every if d.data["kind"] == kind.name], loading)
        problems.extend(found)
        desired[kind.name] = value
    if environment is None or env_doc is None:  # every kind's problems are still reported
        raise SpecError(problems)
    environment = _placed_ca_file(environment, boundary, problems)
    if environment.connection.api == "msk" and environment.msk is None:
        problems.append(
            SpecProblem(
                env_doc.location(("spec", "kafka", "api")),
                "spec.kafka.api",
                "msk reaches topics through MSK's API, so spec.msk must name the cluster "
                "(clusterName or clusterArn, and region)",
            )
        )
    elif not environment.connection.bootstrap_servers and environment.msk is None:
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
