"""Which files an environment's specs are, and how errors name them."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.core.errors import SpecError, SpecProblem
from reconciler.core.model import Location

YAML_SUFFIXES = (".yaml", ".yml")


#: How deep and how wide the folders below an environment may go: a pull request's tree can
#: neither recurse the walk past Python's stack (a path of 2,000 folders fits in PATH_MAX) nor
#: make it read without end.
MAX_FOLDER_DEPTH = 32
MAX_FOLDERS = 10_000
MAX_SPEC_FILES = 10_000


def _too_many(folder: Path, what: str) -> SpecError:
    where = Location(display_path(folder), 1, 1)
    hint = "keep an environment's specs in a few folders and files"
    return SpecError([SpecProblem(where, "", what, hint)])


def yaml_files(root: Path) -> list[Path]:
    """`root` itself, or every YAML file below it, in a stable order. Linked folders are not
    entered (so a link loop cannot trap the walk); linked files are listed, for the loader
    to check where they lead. Raises SpecError past the limits above."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    folders, pending = 0, [(root, 0)]
    while pending:
        folder, depth = pending.pop()
        folders += 1
        if folders > MAX_FOLDERS:
            raise _too_many(root, f"more than {MAX_FOLDERS:,} folders below it")
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = folder / entry.name
            if entry.is_dir(follow_symlinks=False):
                if depth >= MAX_FOLDER_DEPTH:
                    raise _too_many(path, f"folders nested more than {MAX_FOLDER_DEPTH} deep")
                pending.append((path, depth + 1))
            elif path.suffix in YAML_SUFFIXES and path.is_file():
                found.append(path)
                if len(found) > MAX_SPEC_FILES:
                    raise _too_many(root, f"more than {MAX_SPEC_FILES:,} spec files below it")
    return sorted(found)


def display_path(path: Path) -> str:
    """Paths relative to the working directory when possible: shorter, clickable errors."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
