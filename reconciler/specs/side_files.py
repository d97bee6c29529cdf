"""Files a spec names beside its documents (a price list): read within the YAML limits,
inside the repository, and checked against their own schema, every problem located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location
from reconciler.specs.boundaries import Boundary
from reconciler.specs.files import display_path
from reconciler.specs.schema import check_against
from reconciler.specs.yaml_source import load_documents


def load_side_file(
    entry: str,
    base: Path,
    *,
    where: Location | None,
    field: str,
    schema: str,
    boundary: Boundary | None,
) -> tuple[Any, list[SpecProblem]]:
    """The data of the file `entry` (relative to `base`), or None and the problems.

    JSON is YAML, so a `.json` side file is read by the same bounded parser as the specs and
    its errors point at its own lines; a `.json` name also keeps it out of the documents of
    the directory it sits in.
    """
    path = base / entry
    refused = None if boundary is None else boundary.check(path, where, field, repr(entry))
    if refused is not None:
        return None, [refused]
    if not path.is_file():
        return None, [
            SpecProblem(
                where,
                field,
                f"{entry!r} does not exist (relative to {base})",
                "write the file there, or point the field at it",
            )
        ]
    docs, problems = load_documents(path, display_path(path))
    if problems:
        return None, problems
    if len(docs) != 1:
        at = Location(display_path(path), 1, 1)
        return None, [SpecProblem(at, "", f"holds {len(docs)} documents, not one")]
    problems = check_against(docs[0], schema)
    return (None, problems) if problems else (docs[0].data, [])
