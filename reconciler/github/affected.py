"""Which environments a set of changed files touches: their own directory or what they include.

Read leniently rather than through the validating loader, so an environment whose specs a pull
request breaks still counts as affected, and its plan shows the errors; but always within the
spec limits (`specs.environment.find_environment`): this runs on the pull request's YAML, in
the workflows' `changes` job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from reconciler.core.errors import ReconcilerError
from reconciler.specs.environment import find_environment, valid_name


def sources(env_dir: Path) -> list[Path]:
    """The environment's directory and every file or directory its Environment includes."""
    roots = [env_dir.resolve()]
    found = find_environment(env_dir)
    spec = found[1].data.get("spec") if found is not None else None
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
        if d.is_dir() and valid_name(d.name) and find_environment(d) is not None
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
        if not valid_name(name):
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
