"""What a spec may reach: files inside its repository, variables only where they belong.

- Paths (`include`, `caFile`) must resolve, symbolic links followed, inside the repository
  (the nearest folder holding `.git`, else the environment's parent folder), unless the
  caller allows otherwise for local use: a pull request cannot make the runner read
  `/home/runner/.aws/credentials` as a CA bundle or a spec.
- `${VAR}` is expanded only in the Environment's connection fields (`EXPANDED`); anywhere
  else it is an error, so a spec can never copy an environment variable into a plan, a
  comment or a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location
from reconciler.specs.variables import EXPANDED
from reconciler.specs.yaml_source import Document, PathKey

#: Where `${VAR}` may stand: the Environment's connection fields.
VARIABLE_FIELDS = frozenset(("spec", "kafka", *name.split(".")) for name in EXPANDED)
OUTSIDE_HINT = "keep specs and CA bundles in the repository (local use: --allow-outside-repo)"


def repository_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds `.git`, else `start`'s parent."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here.parent


@dataclass(frozen=True)
class Boundary:
    """The folder spec paths must stay in, unless the caller allows otherwise (local use)."""

    root: Path
    allow_outside: bool = False

    def refuses(self, path: Path) -> bool:
        """Whether `path`, every link followed, lies outside the root, and that counts."""
        return not self.allow_outside and not path.resolve().is_relative_to(self.root)

    def problem(self, where: Location | None, field: str, what: str, hint: str = "") -> SpecProblem:
        message = f"{what} is outside the repository ({self.root})"
        return SpecProblem(where, field, message, OUTSIDE_HINT + hint)

    def place(self, path: str) -> Path:
        """A spec's relative path is relative to the repository root, wherever one runs."""
        return Path(path) if Path(path).is_absolute() else self.root / path


def _strings(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "${" in key:
                yield (*path, key), key
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def misplaced_variables(doc: Document) -> list[SpecProblem]:
    """`${VAR}` references outside the Environment's connection fields (callers skip the
    documents of a file whose text has no `${`: one scan of the file, not one per document)."""
    allowed = VARIABLE_FIELDS if doc.data.get("kind") == "Environment" else frozenset()
    return [
        SpecProblem(
            doc.location(path),
            ".".join(str(p) for p in path),
            "${VAR} is expanded only in the Environment's connection fields "
            "(spec.kafka.bootstrapServers, caFile, sasl.username, sasl.password)",
            "write the value itself here; addresses and credentials belong in spec.kafka",
        )
        for path, text_value in _strings(doc.data, ())
        if "${" in text_value and path not in allowed
    ]
