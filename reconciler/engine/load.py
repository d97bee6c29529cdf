"""Load an environment directory into the desired state of every kind, reporting every problem
at once.

Order: parse every file -> schema-check every document against its kind's schema -> find the
one Environment -> resolve includes -> hand each kind its documents -> the cross-kind check.
Nothing here touches a cluster or imports a client library.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.core.digests import digest
from reconciler.core.environment import Environment
from reconciler.core.errors import SpecError, SpecProblem, at_most
from reconciler.core.model import Location
from reconciler.engine.model import Desired
from reconciler.kinds.base import Loading
from reconciler.kinds.registry import KINDS
from reconciler.specs import environment as env_kind
from reconciler.specs.boundaries import Boundary, misplaced_variables
from reconciler.specs.collector import collector_paused
from reconciler.specs.files import display_path, yaml_files
from reconciler.specs.schema import check_document
from reconciler.specs.secrets import literal_secrets, masked
from reconciler.specs.yaml_source import Document, PathKey, parse_documents, read_spec_file

#: Problems one file reports (a pull request's file cannot flood the log or the comment),
#: and all files: once the specs have this many, no further file is read.
MAX_PROBLEMS_PER_FILE = 50
MAX_PROBLEMS = 1000
#: Bytes of spec files one environment reads, includes too (20,000 topics take about 5 MiB).
MAX_ENVIRONMENT_BYTES = 64 * 2**20
SCHEMAS: Mapping[str, str] = {env_kind.KIND: env_kind.SCHEMA, **{k.name: k.schema for k in KINDS}}
#: Where each kind takes a `${VAR}` reference (expanded when it applies, never at load).
VARIABLES: Mapping[str, frozenset[PathKey]] = {k.name: k.variables for k in KINDS}


@dataclass(frozen=True)
class _Checked:
    """One file's text, parsed and checked: every document, the schema-valid ones, the
    problems, and the kind of every document (valid or not)."""

    docs: list[Document]
    valid: list[Document]
    problems: list[SpecProblem]
    kinds: frozenset[str]


def _check(text: str, display: str) -> _Checked:
    docs, found = parse_documents(text, display)
    found.extend(literal_secrets(text, display, docs))
    variables = "${" in text  # one scan of the file, not one per document
    valid, kinds = [], set()
    for doc in docs:
        if doc.data is None:  # an empty document (e.g. a trailing ---) carries nothing
            continue
        if isinstance(doc.data, dict):
            kinds.add(str(doc.data.get("kind")))
        schema_problems = check_document(doc, SCHEMAS)
        found.extend(schema_problems)
        if not schema_problems:
            if variables:
                fields = VARIABLES.get(str(doc.data.get("kind")), frozenset())
                found.extend(misplaced_variables(doc, fields))
            valid.append(doc)
    return _Checked(docs, valid, found, frozenset(kinds))


class Parsed:
    """Included files checked once for every environment loaded beside each other in one
    process (`plan DIR...`): twenty environments that include specs/shared read it twenty
    times but parse, scan and schema-check it once. Keyed by the file as shown and its
    text's digest, so an edited file is checked afresh; nothing changes a document once
    parsed, so threads share them. Only included files: an environment's own files are its
    alone, and keeping them would hold every environment's documents until the last ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], Future[_Checked]] = {}

    def check(self, text: str, display: str) -> _Checked:
        key = (display, hashlib.sha256(text.encode()).hexdigest())
        with self._lock:
            found = self._files.get(key)
            mine = found is None
            if found is None:
                found = self._files[key] = Future()
        if mine:  # the first to ask checks it; the others wait for its answer
            try:
                found.set_result(_check(text, display))
            except BaseException as exc:
                found.set_exception(exc)
        return found.result()


def _parse(
    files: Iterable[Path],
    problems: list[SpecProblem],
    kinds: set[str] | None = None,
    parsed: Parsed | None = None,
) -> list[Document]:
    """Schema-valid documents; `kinds` collects the kind of every document, valid or not.

    Every file is read within the YAML limits, scanned for literal secrets, and checked for
    `${VAR}` references outside the connection fields; it reports at most
    `MAX_PROBLEMS_PER_FILE` problems, the first by line, and counts the rest. Once
    `MAX_PROBLEMS` are found, the files left are not read. `parsed`: files already checked
    for an environment loaded beside this one.
    """
    documents: list[Document] = []
    for path in files:
        display = display_path(path)
        if len(problems) >= MAX_PROBLEMS:  # like a compiler's error limit: the rest waits
            message = f"not read: the specs have {MAX_PROBLEMS:,} problems already"
            hint = "fix those and validate again"
            problems.append(SpecProblem(Location(display, 1, 1), "", message, hint))
            break
        text, found = read_spec_file(path, display)
        docs: list[Document] = []
        if text is not None:
            checked = parsed.check(text, display) if parsed else _check(text, display)
            docs = checked.docs
            found.extend(checked.problems)
            documents.extend(checked.valid)
            if kinds is not None:
                kinds.update(checked.kinds)
        found.sort(key=lambda p: (p.location.line, p.location.column) if p.location else (0, 0))
        found = list(at_most(found, MAX_PROBLEMS_PER_FILE, "problems"))
        problems.extend(masked(found, docs))
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
    walked: set[Path] = set()
    for index, entry in enumerate(env_doc.data["spec"].get("include") or []):
        target = env_dir / entry
        where = env_doc.location(("spec", "include", index))
        field = f"spec.include.{index}"
        refused = boundary.check(target, where, field, repr(entry))
        if refused is not None:
            problems.append(refused)
        elif not target.exists():
            problems.append(SpecProblem(where, field, f"{entry!r} does not exist"))
        elif target.resolve() not in walked:  # a folder listed 10,000 times is walked once
            walked.add(target.resolve())
            for path in yaml_files(target.resolve()):
                if path.resolve() not in seen:
                    seen.add(path.resolve())
                    files.append(path)
    return files, problems


def _linked_out(files: list[Path], boundary: Boundary, problems: list[SpecProblem]) -> list[Path]:
    """Spec files that are links to somewhere outside the repository are not read."""
    kept = []
    for path in files:
        refused = boundary.check(path, Location(display_path(path), 1, 1), "", "its link target")
        if refused is None:
            kept.append(path)
        else:
            problems.append(refused)
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
    hint = "; or set it from the runner's environment: caFile: ${KAFKA_CA_FILE}"
    where = environment.locations.get("caFile")
    refused = boundary.check(path, where, "spec.kafka.caFile", repr(ca_file), hint)
    if refused is not None:
        problems.append(refused)
    return replace(environment, connection=replace(environment.connection, ca_file=str(path)))


def _connectable(
    environment: Environment, env_doc: Document, boundary: Boundary, problems: list[SpecProblem]
) -> Environment:
    """The Environment with its caFile placed, and the problems that keep it from connecting."""
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
    return environment


def load_environment(env_dir: str | Path, *, allow_outside_repo: bool = False) -> Loading | None:
    """ENV_DIR's Environment alone, checked as `load` checks it (its file read within the
    limits, no literal secret, schema-valid, named after its directory, connectable), so a
    plan can start reading the cluster while the other documents load.

    None when the Environment has any problem, or sits among other documents that `load`
    could still refuse in ways that concern it: `load` then reports everything, and nothing
    has been contacted. `partial`: the kinds' documents are still to come.
    """
    root = Path(env_dir)
    found = env_kind.find_environment(root) if root.is_dir() else None
    if found is None:
        return None
    problems: list[SpecProblem] = []
    boundary = Boundary.of(root, allow_outside_repo)
    where = Location(display_path(root), 1, 1)
    if boundary.check(root, where, "", "the directory") or boundary.check(
        found[0], where, "", "the Environment's file"
    ):
        return None
    envs = env_kind.environment_documents(_parse([found[0]], problems))
    if problems or len(envs) != 1:
        return None
    problems.extend(env_kind.misnamed(envs[0], root))
    environment = _connectable(env_kind.parse_environment(envs[0]), envs[0], boundary, problems)
    if problems:
        return None
    return Loading(environment, envs[0], boundary, partial=True)


def _within_budget(env_dir: Path, files: list[Path]) -> None:
    """Raise SpecError, before anything is parsed, when the files together exceed
    `MAX_ENVIRONMENT_BYTES` (each one is also held to the YAML reader's own limit)."""
    total = 0
    for path in files:
        with contextlib.suppress(OSError):  # an unreadable file is reported when it is read
            total += path.stat().st_size
    if total > MAX_ENVIRONMENT_BYTES:
        where = Location(display_path(env_dir), 1, 1)
        message = (
            f"its spec files hold {total / 2**20:.1f} MiB; an environment may read at most "
            f"{MAX_ENVIRONMENT_BYTES // 2**20} MiB"
        )
        raise SpecError([SpecProblem(where, "", message, "split it into several environments")])


def load(
    env_dir: str | Path,
    *,
    allow_outside_repo: bool = False,
    leave_out: Collection[Path] = (),
    partial: bool = False,
    parsed: Parsed | None = None,
) -> Desired:
    """Load and validate ENV_DIR; raises SpecError listing every problem found.

    The directory and its paths (spec files, includes, caFile) must stay inside the
    repository unless `allow_outside_repo`. `import` reads the specs without the files it is
    about to rewrite (`leave_out`), and `partial`: its own documents are still to come.
    `parsed`: the included files of environments loaded beside it (`Parsed`).
    """
    with collector_paused():
        return _load(Path(env_dir), allow_outside_repo, leave_out, partial, parsed)


def _load(
    root: Path,
    allow_outside_repo: bool,
    leave_out: Collection[Path],
    partial: bool,
    parsed: Parsed | None,
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
    boundary = Boundary.of(root, allow_outside_repo)
    refused = boundary.check(root, Location(display_path(root), 1, 1), "", "the directory")
    if refused is not None:  # a linked environment directory: nothing of it is read
        raise SpecError([refused])
    problems: list[SpecProblem] = []
    left_out = {p.resolve() for p in leave_out}
    own = [p for p in yaml_files(root) if p.resolve() not in left_out]
    own_files = _linked_out(own, boundary, problems)
    _within_budget(root, own_files)
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
        _within_budget(root, [*own_files, *include_files])
    included = _parse(include_files, problems, parsed=parsed)
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
    environment = _connectable(environment, env_doc, boundary, problems)
    if problems:
        raise SpecError(problems)
    fingerprints = {kind.name: kind.spec_fingerprint(desired[kind.name]) for kind in KINDS}
    return Desired(
        environment=environment,
        kinds=desired,
        files=tuple(display_path(p) for p in (*own_files, *include_files)),
        digest=digest({"environment": environment.name, **fingerprints}),
    )
