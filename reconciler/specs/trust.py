"""The trust boundary of a pull request's plan: where to connect is the base branch's call.

A plan on a pull request runs with cluster credentials nearby, on specs the pull request
wrote. So the connection and the MSK identity (everything under the Environment's
`spec.kafka` but `timeoutSeconds`, all of `spec.msk`, and the CA bundle's bytes) must be
exactly what the reviewed base branch says. If the pull request changes any of it, nothing is
contacted: the plan fails with the changed fields, for a maintainer to review and merge on
their own first. A new environment connects only once merged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.errors import ReconcilerError
from reconciler.specs.boundaries import repository_root
from reconciler.specs.environment import find_environment
from reconciler.specs.yaml_source import Document

#: Connection settings that do not decide where or with what credentials a plan connects.
HARMLESS = frozenset({"timeoutSeconds"})


class UntrustedConnection(ReconcilerError):
    """The pull request changes where or how the environment connects; nothing was contacted."""


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(_flat(item, f"{prefix}.{key}"))
        return found
    return {prefix: value}


def identity(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an Environment document that decide where and how it connects."""
    spec = doc.get("spec") or {}
    kafka = {k: v for k, v in (spec.get("kafka") or {}).items() if k not in HARMLESS}
    return {**_flat(kafka, "spec.kafka"), **_flat(spec.get("msk") or {}, "spec.msk")}


def environment_document(env_dir: Path) -> Document | None:
    """The directory's Environment document, read within the spec limits (None: none)."""
    found = find_environment(env_dir)
    return None if found is None else found[1]


def _ca_bytes(ca_file: Any, root: Path) -> bytes | None:
    if not isinstance(ca_file, str) or "${" in ca_file:
        return None
    path = Path(ca_file) if Path(ca_file).is_absolute() else root / ca_file
    try:
        return path.read_bytes()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None


def _show(value: Any) -> str:
    return "(absent)" if value is None else repr(value)


def check_trusted(env_dir: Path, base_root: Path) -> None:
    """Raise UntrustedConnection unless ENV_DIR connects exactly as the base branch says."""
    root = repository_root(env_dir)
    # the directory as the workflow names it: a link that makes `dev` read `prod` is compared
    # with the base branch's `dev`
    relative = Path(os.path.abspath(env_dir)).relative_to(root)  # noqa: PTH100
    base = environment_document(base_root / relative)
    mine = environment_document(env_dir)
    what_to_do = (
        "\n  what to do: a maintainer reviews the connection change in a pull request of its "
        "own and merges it first; pull requests after it are planned against it"
    )
    if base is None:
        raise UntrustedConnection(
            f"{relative} has no Environment on the base branch: a new environment connects "
            "only once a maintainer has merged it; nothing was contacted" + what_to_do
        )
    if mine is None:
        return  # the loader reports the missing Environment
    before, after = identity(base.data), identity(mine.data)
    changed = [
        f"  {field}: {_show(before.get(field))} -> {_show(after.get(field))}"
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    ]
    ca_field = "spec.kafka.caFile"
    same_path = ca_field in after and after.get(ca_field) == before.get(ca_field)
    if same_path and _ca_bytes(after[ca_field], root) != _ca_bytes(before[ca_field], base_root):
        changed.append(f"  {ca_field}: the CA bundle's contents changed")
    if changed:
        raise UntrustedConnection(
            "this pull request changes where or how the environment connects, so nothing "
            "was contacted:\n" + "\n".join(changed) + what_to_do
        )
