"""Which files an environment's specs are, and how errors name them."""

from __future__ import annotations

import os
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")


def yaml_files(root: Path) -> list[Path]:
    """`root` itself, or every YAML file below it, in a stable order."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def display_path(path: Path) -> str:
    """Paths relative to the working directory when possible: shorter, clickable errors."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
