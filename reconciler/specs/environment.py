"""The `kind: Environment` document -> the core Environment: where and how to connect.

Also the one way to find a directory's Environment document (`find_environment`, over the
one enumeration of spec files, `files.yaml_files`, read within the spec limits) and the rule
that an environment is named after its directory (`misnamed`). Each kind reads its own
sections of the document (`spec.topics`, `spec.policy`) itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from reconciler.core.environment import Connection, Environment, MskRef
from reconciler.core.errors import SpecProblem
from reconciler.specs.files import yaml_files
from reconciler.specs.schema import load_schema
from reconciler.specs.yaml_source import Document, load_documents

KIND = "Environment"
SCHEMA = "environment.schema.json"
#: Connection fields whose lines an error about them points at.
_LOCATED = ("bootstrapServers", "securityProtocol", "caFile", "sasl.username", "sasl.password")


def parse_environment(doc: Document) -> Environment:
    """A schema-valid Environment document as values (`${VAR}` references still in place)."""
    spec = doc.data["spec"]
    kafka = spec["kafka"]
    sasl = kafka.get("sasl") or {}
    msk = spec.get("msk")
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
            api=kafka.get("api", "kafka"),
            region=(msk or {}).get("region"),
        ),
        msk=MskRef(msk.get("region"), msk.get("clusterName"), msk.get("clusterArn"))
        if msk
        else None,
        locations={name: doc.location(("spec", "kafka", *name.split("."))) for name in _LOCATED},
    )


def environment_documents(documents: Iterable[Document]) -> list[Document]:
    """The `kind: Environment` documents among `documents`, in order."""
    return [d for d in documents if isinstance(d.data, dict) and d.data.get("kind") == KIND]


def find_environment(env_dir: Path) -> tuple[Path, Document] | None:
    """ENV_DIR's Environment document and its file: the first one among the directory's own
    spec files, valid or not (the loader refuses a directory with an invalid or a second
    one). Read within the spec limits and leniently: a file the limits refuse is skipped, so
    this never hangs or crashes on a pull request's YAML. None: the directory has none."""
    if not env_dir.is_dir():
        return None
    for path in yaml_files(env_dir):
        documents, _problems = load_documents(path)
        found = environment_documents(documents)
        if found:
            return path, found[0]
    return None


def valid_name(name: str) -> bool:
    """Whether NAME may name an environment: the Environment schema's metadata.name pattern.
    Names become directories, job matrix values, GitHub environment names and comment
    markers, so nothing else is passed on."""
    pattern: str = load_schema(SCHEMA)["$defs"]["metadata"]["properties"]["name"]["pattern"]
    return re.fullmatch(pattern, name) is not None


def directory_name(env_dir: Path) -> str:
    """The environment's name: its directory's (as given, `.` and `..` resolved, links not)."""
    # abspath, not resolve: a linked directory is still known by the name it is used by
    return Path(os.path.abspath(env_dir)).name  # noqa: PTH100


def misnamed(doc: Document, env_dir: Path) -> list[SpecProblem]:
    """metadata.name must be the directory's name: the workflows, the GitHub environment, the
    pull-request comment and the saved plan all know the environment by it."""
    name, expected = doc.data["metadata"]["name"], directory_name(env_dir)
    if name == expected:
        return []
    return [
        SpecProblem(
            doc.location(("metadata", "name")),
            "metadata.name",
            f"is {name!r}, but the environment's directory is {expected!r}",
            f"an environment is named after its directory: set `name: {expected}`, or rename "
            f"the directory to {name!r}",
        )
    ]
