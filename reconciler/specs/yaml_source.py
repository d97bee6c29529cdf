"""YAML documents that remember where every value was written.

PyYAML's node tree has the marks; plain `safe_load` throws them away. We compose the nodes
once, build the Python values from them and keep a map from each value's path to its
location, so any later check (schema, config catalog, cross-document) can name
file:line:column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """One YAML document with the location of every mapping key, item and scalar in it."""

    data: Any
    file: str
    index: int
    positions: dict[PathKey, Location]
    keys: dict[PathKey, Location]

    def location(self, path: PathKey) -> Location:
        """The closest known location of `path` (falls back to its parents, then the doc)."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found is not None:
                return found
        return Location(self.file, 1, 1)

    def key_location(self, path: PathKey) -> Location:
        """Where the mapping key of `path` is written (for "unknown field" errors)."""
        return self.keys.get(path) or self.location(path)


def _location(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


#: libyaml's parser is seven times faster than pure Python on large spec sets and keeps marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class _Walk:
    """Records the location of every value and mapping key of one document."""

    file: str
    problems: list[SpecProblem]
    positions: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)

    def visit(self, node: yaml.Node, path: PathKey) -> None:
        self.positions[path] = _location(self.file, node)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, Location] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                here = _location(self.file, key_node)
                if key in seen:
                    self.problems.append(
                        SpecProblem(
                            here,
                            ".".join(str(p) for p in (*path, key)),
                            "duplicate key",
                            f"first defined at line {seen[key].line}",
                        )
                    )
                seen[key] = here
                self.keys[(*path, key)] = here
                self.visit(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.visit(item, (*path, index))


def load_documents(
    path: Path, display: str | None = None
) -> tuple[list[Document], list[SpecProblem]]:
    """Parse every document of a YAML file; syntax errors become located problems."""
    file = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [SpecProblem(Location(file, 1, 1), "", f"cannot read file: {exc}")]
    documents: list[Document] = []
    problems: list[SpecProblem] = []
    loader = _Loader(text)
    try:
        for index, node in enumerate(_compose_all(loader)):
            walk = _Walk(file, problems)
            walk.visit(node, ())
            data = loader.construct_document(node)
            documents.append(Document(data, file, index, walk.positions, walk.keys))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problems.append(SpecProblem(where, "", f"invalid YAML: {exc.problem or exc}"))
    finally:
        loader.dispose()
    return documents, problems


def _compose_all(loader: yaml.SafeLoader) -> Iterator[yaml.Node]:
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node
