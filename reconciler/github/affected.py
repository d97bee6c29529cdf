"""Which environments a set of changed files touches: their own directory or what they include.

Read from the raw YAML rather than through the validating loader, so an environment whose
specs a pull request breaks still counts as affected, and its plan shows the errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.errors import ReconcilerError

#: metadata.name's pattern. Names become job matrix values, GitHub environment names and
#: paths, so anything else is refused rather than passed on.
SAFE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_SUFFIXES = (".yaml", ".yml")


def _documents(env_dir: Path) -> Iterable[Any]:
    for path in sorted(env_dir.rglob("*")):
        if path.suffix not in _SUFFIXES or not path.is_file():
            continue
        try:
            yield from yaml.safe_load_all(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # broken YAML is the plan's to report; the directory still counts


def is_environment(env_dir: Path) -> bool:
    return any(isinstance(d, dict) and d.get("kind") == "Environment" for d in _documents(env_dir))


def sources(env_dir: Path) -> list[Path]:
    """The environment's directory and every file or directory its Environment includes."""
    roots = [env_dir.resolve()]
    for doc in _documents(env_dir):
        if not isinstance(doc, dict) or doc.get("kind") != "Environment":
            continue
        spec = doc.get("spec")
        includes = spec.get("include") if isinstance(spec, dict) else None
        if isinstance(includes, list):
            roots += [(env_dir / entry).resolve() for entry in includes if isinstance(entry, str)]
    return roots


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def discover(specs_root: Path) -> list[str]:
    """Every subdirectory holding an Environment document (so not specs/shared)."""
    return sorted(
        d.name
        for d in specs_root.iterdir()
        if d.is_dir() and SAFE_NAME.fullmatch(d.name) and is_environment(d)
    )


def affected(
    changed: Iterable[str], specs_root: Path, environments: Sequence[str], repo_root: Path
) -> list[str]:
    """The environments, in the given order, that any changed path falls into.

    A changed path that contains an environment (say `specs`) affects it too, so a caller
    that cannot list the changes passes the whole tree.
    """
    paths = [(repo_root / line.strip()).resolve() for line in changed if line.strip()]
    found = []
    for name in environments:
        if not SAFE_NAME.fullmatch(name):
            raise ReconcilerError(
                f"environment name {name!r} is not allowed: use lowercase letters, digits and -"
            )
        env_dir = specs_root / name
        if not env_dir.is_dir():
            continue  # configured but absent (removed, or not created yet): nothing to plan
        roots = sources(env_dir)
        if any(_within(p, r) or _within(r, p) for p in paths for r in roots):
            found.append(name)
    return found


def environment_name(env_dir: Path) -> str:
    """metadata.name of the directory's Environment, read leniently; else the directory name.

    Used when no plan could be made, so the error comment replaces the same comment a
    successful plan of this environment would.
    """
    for doc in _documents(env_dir):
        if isinstance(doc, dict) and doc.get("kind") == "Environment":
            metadata = doc.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            if isinstance(name, str) and SAFE_NAME.fullmatch(name):
                return name
    return env_dir.resolve().name
