"""What a spec may reach: files inside its repository, variables only where they belong.

- The environment directory and the paths it reads (its spec files, `include`, `caFile`)
  must resolve, symbolic links followed, inside the repository (the nearest folder holding
  `.git`, found without following links, else the environment's parent folder), unless the
  caller allows otherwise for local use: a pull request cannot make the runner read
  `/home/runner/.aws/credentials` as a CA bundle or a spec. A link loop is an error, never a
  hang.
- `${VAR}` is expanded only in the Environment's connection fields (`EXPANDED`); anywhere
  else it is an error, so a spec can never copy an environment variable into a plan, a
  comment or a cluster.
"""

from __future__ import annotations

import os
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
#: Linux's limits (PATH_MAX, NAME_MAX): a longer path is refused before the OS is asked.
_PATH_MAX = 4096
_NAME_MAX = 255
OUTSIDE_HINT = "keep specs and CA bundles in the repository (local use: --allow-outside-repo)"


def repository_root(start: Path) -> Path:
    """The repository `start` is in, found from the path as written (absolute, links not
    followed): the nearest folder at or above it that holds `.git` and is not reached through
    a symbolic link, so a linked environment directory cannot carry its own `.git` and move
    the boundary to where it points. A checkout below a linked folder (macOS's /tmp): the
    nearest with `.git` and no link at or below it. Else `start`'s parent."""
    here = Path(os.path.abspath(start))  # noqa: PTH100 -- resolve() would follow the links
    folders = (here, *here.parents)
    linked = [folder.is_symlink() for folder in folders]
    with_git = [i for i, folder in enumerate(folders) if (folder / ".git").exists()]
    clean = [i for i in with_git if not any(linked[i:])]
    below_links = [i for i in with_git if not any(linked[: i + 1])]
    return next((folders[i] for i in (*clean, *below_links)), here.parent)


def _resolved(path: Path) -> Path | None:
    """`path` with every link followed; None: the links go round in a loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.11 says RuntimeError("Symlink loop from ...")
        return None


@dataclass(frozen=True)
class Boundary:
    """The folder spec paths must stay in, unless the caller allows otherwise (local use).
    A symbolic link loop is refused whatever is allowed: it leads nowhere."""

    root: Path
    allow_outside: bool = False

    @classmethod
    def of(cls, env_dir: Path, allow_outside: bool = False) -> Boundary:
        """The boundary of the repository ENV_DIR is written in (`repository_root`)."""
        root = repository_root(env_dir)
        return cls(_resolved(root) or root, allow_outside)

    def check(
        self, path: Path, where: Location | None, field: str, what: str, hint: str = ""
    ) -> SpecProblem | None:
        """The problem with reading `path` (`what`, written at `where`), if there is one."""
        if "\0" in str(path):  # the OS refuses it; pathlib would raise ValueError
            message = f"{what} holds a NUL character"
            return SpecProblem(where, field, message, "write the path without it")
        if len(os.fsencode(path)) >= _PATH_MAX or any(
            len(os.fsencode(part)) > _NAME_MAX for part in path.parts
        ):  # the OS refuses it; pathlib would raise OSError (ENAMETOOLONG)
            message = f"is longer than a path may be ({_PATH_MAX} bytes, {_NAME_MAX} a name)"
            return SpecProblem(where, field, message, "shorten it")
        resolved = _resolved(path)
        if resolved is None:
            message = f"{what} is a loop of symbolic links"
            return SpecProblem(where, field, message, "point the link at a file or folder")
        if self.allow_outside or resolved.is_relative_to(self.root):
            return None
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


def misplaced_variables(
    doc: Document, kind_fields: frozenset[PathKey] = frozenset()
) -> list[SpecProblem]:
    """`${VAR}` references outside the Environment's connection fields and the fields a
    kind takes one in (`kind_fields`: a ScramUser's password). Callers skip the documents
    of a file whose text has no `${`: one scan of the file, not one per document."""
    allowed = VARIABLE_FIELDS if doc.data.get("kind") == "Environment" else kind_fields
    return [
        SpecProblem(
            doc.location(path),
            ".".join(str(p) for p in path),
            "${VAR} is expanded only in the Environment's connection fields "
            "(spec.kafka.bootstrapServers, caFile, sasl.username, sasl.password) and a "
            "ScramUser's spec.password",
            "write the value itself here; addresses and credentials belong in spec.kafka",
        )
        for path, text_value in _strings(doc.data, ())
        if "${" in text_value and path not in allowed
    ]
