"""Adding a section to the Environment document in place, keeping everything else as written.

`import --factor-defaults` puts shared defaults into `spec.topics.defaults`. The file is the
user's (comments, order, `${VAR}` references), so it is edited as text at the lines the YAML
reader located, never dumped again; where that cannot be done safely (flow style, a section
that exists), it says so with the lines to paste.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.core.errors import ReconcilerError
from reconciler.specs.environment import find_environment
from reconciler.specs.files import display_path
from reconciler.specs.yaml_source import Document, load_documents


def _environment(env_dir: Path) -> tuple[Path, Document]:
    found = find_environment(env_dir)
    if found is None:
        raise ReconcilerError(f"{display_path(env_dir)} has no Environment document")
    return found


def environment_path(env_dir: Path) -> Path:
    """The file that holds ENV_DIR's Environment document."""
    return _environment(env_dir)[0]


def environment_document(env_dir: Path) -> Document:
    """ENV_DIR's Environment document, with the location of everything in it."""
    return _environment(env_dir)[1]


def _block(section: dict[str, Any], indent: int) -> list[str]:
    text = yaml.safe_dump(section, sort_keys=False, default_flow_style=False, width=100)
    return [" " * indent + line for line in text.splitlines()]


def add_to_environment(env_dir: Path, sections: dict[str, Any], *, force: bool) -> bool:
    """Merge `{"topics": {"defaults": {...}}}`-like sections into the Environment's spec.

    Returns whether the file changed. An existing leaf section (e.g. `topics.defaults`) is
    only replaced with `force`.
    """
    path, doc = _environment(env_dir)
    lines = path.read_text(encoding="utf-8").splitlines()
    spec = doc.data["spec"]
    changed = False
    for name, children in sections.items():
        for child, value in children.items():
            snippet = "\n".join(_block({name: {child: value}}, 2))
            parent = spec.get(name)
            if isinstance(parent, dict) and child in parent and not force:
                raise ReconcilerError(
                    f"{display_path(path)} already has spec.{name}.{child}; nothing in it was "
                    f"changed. Pass --force to replace it, or merge by hand:\n{snippet}"
                )
            if parent is not None and not isinstance(parent, dict):
                raise ReconcilerError(f"{display_path(path)}: spec.{name} is not a mapping")
            key = doc.key_mark(("spec", name))
            at = doc.key_mark(("spec",))
            if key is None and (at is None or not _block_style(lines, at.line, at.column)):
                raise ReconcilerError(
                    f"{display_path(path)}: spec is written in flow style, which this command "
                    f"does not edit; nothing in it was changed. Add this under spec by hand:\n"
                    f"{snippet}"
                )
            if key is None:
                first = next(iter(spec))
                column = doc.key_mark(("spec", first)).column
                insert = _end_of(lines, at.line if at else 0, column)
                lines[insert:insert] = _block({name: {child: value}}, column)
            elif _block_style(lines, key.line, key.column):
                parent = parent or {}  # `topics:` with nothing under it yet
                if child in parent:
                    _remove(lines, doc, (name, child))
                inner = (
                    doc.key_mark(("spec", name, next(iter(parent)))).column
                    if parent
                    else key.column + 2
                )
                lines[key.line + 1 : key.line + 1] = _block({child: value}, inner)
            else:
                raise ReconcilerError(
                    f"{display_path(path)}: spec.{name} is written in flow style, which this "
                    f"command does not edit; add it by hand:\n{snippet}"
                )
            changed = True
            before = path.read_text(encoding="utf-8")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            try:
                path, doc = _edited(env_dir, path, (name, child), value, snippet)
            except ReconcilerError:
                path.write_text(before, encoding="utf-8")
                raise
            lines = path.read_text(encoding="utf-8").splitlines()
            spec = doc.data["spec"]
    return changed


def _edited(
    env_dir: Path, path: Path, section: tuple[str, str], value: Any, snippet: str
) -> tuple[Path, Document]:
    """The Environment again after an edit, which must read back with exactly `value` at
    `section`: a layout this module did not foresee must not pass for an edit (the caller
    puts the file back)."""
    try:
        found, doc = _environment(env_dir)
    except ReconcilerError:
        found, doc = path, None
    problems = load_documents(found)[1] if doc is not None else []
    if doc is None or problems or _section(doc, section) != value:
        raise ReconcilerError(
            f"{display_path(path)}: could not add spec.{'.'.join(section)} in place (the file "
            f"would not read back as the same Environment); add it by hand:\n{snippet}"
        )
    return found, doc


def _section(doc: Document, section: tuple[str, str]) -> Any:
    name, child = section
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    parent = spec.get(name) if isinstance(spec, dict) else None
    return parent.get(child) if isinstance(parent, dict) else None


def _block_style(lines: list[str], line: int, column: int) -> bool:
    """`key:` ends its line (a block mapping follows), rather than `key: {...}`."""
    text = lines[line][column:].split("#", 1)[0].rstrip()
    return text.endswith(":")


def _end_of(lines: list[str], start: int, column: int) -> int:
    """The line after the block that starts below `start` and is indented `column` or more."""
    index = start + 1
    while index < len(lines):
        text = lines[index]
        stripped = text.lstrip()
        if stripped and not stripped.startswith("#") and len(text) - len(stripped) < column:
            break
        if text.startswith(("---", "...")):
            break
        index += 1
    while index > start + 1 and not lines[index - 1].strip():
        index -= 1
    return index


def _remove(lines: list[str], doc: Document, path: tuple[str, str]) -> None:
    key = doc.key_mark(("spec", *path))
    end = _end_of(lines, key.line, key.column + 1)
    del lines[key.line : end]
