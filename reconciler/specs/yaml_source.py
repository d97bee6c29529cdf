"""YAML documents that remember where every value was written, read within fixed bounds.

Specs are untrusted input (a pull request's plan runs with cluster credentials nearby), so a
file is read in one pass over libyaml's events, building the values and the location of every
value and mapping key at once, and refusing at the first sign of abuse:

- file size: 16 MiB (20,000 topics take about 5 MiB);
- documents per file: 100,000;
- nesting depth: 64 (specs nest 6 deep; libyaml's own composer recurses per level and
  crashes near 100,000 levels, which a 200 KB file of `[` reaches);
- alias expansion: at most 10x the values a document writes (or 10,000 values): the
  "billion laughs", nine levels of nine aliases, is a few hundred bytes for 387 million
  values.

Anchors, aliases and merge keys (`<<: *defaults`) work as YAML defines them within those
bounds; an alias to a node that is still open (a recursive structure) is refused. Each limit is
a located problem, never a hang or a crash. Scalars resolve as YAML 1.1 `safe_load` resolves
them (so `7d` stays text, `6` is an int, `true` a bool).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location

PathKey = tuple[str | int, ...]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DOCUMENTS = 100_000
MAX_DEPTH = 64
MAX_EXPANSION = 10
EXPANSION_FLOOR = 10_000


@dataclass(frozen=True)
class Document:
    """One YAML document with the location of every mapping key, item and scalar in it."""

    data: Any
    file: str
    index: int
    #: libyaml's marks (0-based line and column), made into Locations only when asked for.
    positions: dict[PathKey, Any]
    keys: dict[PathKey, Any]

    def location(self, path: PathKey) -> Location:
        """The closest known location of `path` (falls back to its parents, then the doc)."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found is not None:
                return Location(self.file, found.line + 1, found.column + 1)
        return Location(self.file, 1, 1)

    def key_location(self, path: PathKey) -> Location:
        """Where the mapping key of `path` is written (for "unknown field" errors)."""
        found = self.keys.get(path)
        if found is None:
            return self.location(path)
        return Location(self.file, found.line + 1, found.column + 1)


#: libyaml's parser: the events come from C, seven times faster than pure Python.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: The tags a list or mapping may carry: YAML's own (specs never need !!set, !!omap or others).
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
#: The pending key of a mapping that reads `<<:` next.
_MERGE = object()


class _Stop(Exception):
    """A limit was hit: the file's problem is recorded, nothing more of it is read."""


@dataclass
class _Anchor:
    value: Any
    count: int  # values the node stands for, aliases expanded
    positions: dict[PathKey, Any]  # relative to the anchored node
    keys: dict[PathKey, Any]
    open: bool = True


@dataclass
class _Frame:
    """A mapping or sequence being read."""

    value: dict[Any, Any] | list[Any]
    path: PathKey
    mark: Any
    anchor: str | None
    first: int  # len(positions) and len(keys) when it started: its entries come after
    first_key: int
    is_map: bool
    count: int = 1
    key: Any = None
    has_key: bool = False
    seen: dict[Any, Any] = field(default_factory=dict)
    merges: list[tuple[Any, Any]] = field(default_factory=list)


def _segment(key: Any) -> str | int:
    """A mapping key as a path segment: as written for text and numbers, else its text."""
    return key if isinstance(key, str | int) else str(key)


def _relative(entries: dict[PathKey, Any], start: int, prefix: PathKey) -> dict[PathKey, Any]:
    cut = len(prefix)
    return {path[cut:]: mark for path, mark in itertools.islice(entries.items(), start, None)}


_NO_KEY = "a mapping key must be a plain value, not a list or mapping"


class _Reader:
    """Builds the documents of one file from its events, in one pass."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.loader: Any = _Loader(text)  # the stubs leave its event calls untyped
        self.problems: list[SpecProblem] = []
        self.documents: list[Document] = []
        self.scalars: dict[tuple[str, str | None, tuple[bool, bool]], tuple[Any, str]] = {}

    def where(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def stop(self, mark: Any, message: str, hint: str | None = None) -> _Stop:
        self.problems.append(SpecProblem(self.where(mark), "", message, hint))
        return _Stop()

    def scalar(self, event: Any) -> tuple[Any, str]:
        """The value of a scalar as safe_load constructs it, and its resolved tag."""
        cache_key = (event.value, event.tag, event.implicit)
        found = self.scalars.get(cache_key)
        if found is not None:
            return found
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag in (_STR, _MERGE_TAG):
            result: tuple[Any, str] = (event.value, tag)
        else:
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
            result = (self.loader.construct_object(node, deep=True), tag)
        if isinstance(result[0], str | int | float | bool | type(None)):
            self.scalars[cache_key] = result
        return result

    # -- one document --------------------------------------------------------------------

    def document(self, index: int) -> Document | None:
        """Read events up to the document's end; the hot path (a scalar key or value in a
        mapping) is inline."""
        self.positions: dict[PathKey, Any] = {}
        self.keys: dict[PathKey, Any] = {}
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.written = 0
        self.expanded = 0
        self.root: Any = None
        empty = True
        get = self.loader.get_event
        positions, keys, stack = self.positions, self.keys, self.stack
        while True:
            event = get()
            kind = type(event)
            if kind is yaml.DocumentEndEvent:
                break
            empty = False
            self.written += 1
            if kind is yaml.ScalarEvent:
                value, tag = self.scalar(event)
                top = stack[-1] if stack else None
                if top is not None and top.is_map and event.anchor is None:
                    if not top.has_key:
                        self.key(top, value, event.start_mark, tag)
                        continue
                    if top.key is not _MERGE:
                        positions[(*top.path, _segment(top.key))] = event.start_mark
                        assert isinstance(top.value, dict)
                        top.value[top.key] = value
                        top.count += 1
                        top.has_key = False
                        continue
                self.place(value, event.start_mark, event.anchor, 1, tag)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self.open(event, kind is yaml.MappingStartEvent)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self.close()
            elif kind is yaml.AliasEvent:
                self.alias(event)
        if empty:
            return None
        return Document(self.root, self.file, index, positions, keys)

    def target(self, mark: Any) -> PathKey:
        """The path of a value about to be placed; a collection as a key is refused."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if not top.is_map:
            return (*top.path, len(top.value))
        if not top.has_key:
            raise self.stop(mark, _NO_KEY)
        return (*top.path, "<<" if top.key is _MERGE else _segment(top.key))

    def open(self, event: Any, is_map: bool) -> None:
        mark = event.start_mark
        if len(self.stack) >= MAX_DEPTH:
            raise self.stop(
                mark,
                f"nested more than {MAX_DEPTH} levels deep",
                "spec documents nest a few levels; flatten the structure",
            )
        if event.tag not in _COLLECTION_TAGS:
            raise self.stop(mark, f"the tag {event.tag} is not supported in spec documents")
        path = self.target(mark)
        self.positions[path] = mark
        value: dict[Any, Any] | list[Any] = {} if is_map else []
        frame = _Frame(value, path, mark, event.anchor, len(self.positions), len(self.keys), is_map)
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(value, 0, {}, {})
        self.stack.append(frame)

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.is_map:
            self.merge(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = _Anchor(
                frame.value,
                frame.count,
                {(): frame.mark, **_relative(self.positions, frame.first, frame.path)},
                _relative(self.keys, frame.first_key, frame.path),
                open=False,
            )
        self.attach(frame.value, frame.path, frame.count)

    def merge(self, frame: _Frame) -> None:
        """`<<: *defaults` (or a list of them): their keys, unless the mapping has its own;
        the first listed wins. Merged values are located at their `<<` line."""
        mapping = frame.value
        assert isinstance(mapping, dict)
        for source, mark in frame.merges:
            for part in source if isinstance(source, list) else [source]:
                if not isinstance(part, dict):
                    raise self.stop(mark, "a merge key (<<) takes a mapping or a list of them")
                for key, value in part.items():
                    if key not in mapping:
                        mapping[key] = value
                        path = (*frame.path, _segment(key))
                        self.positions[path] = self.keys[path] = mark

    def place(self, value: Any, mark: Any, anchor: str | None, count: int, tag: str) -> None:
        """A scalar or an alias's value, as a key or a value of the open collection."""
        if self.stack and self.stack[-1].is_map and not self.stack[-1].has_key:
            self.key(self.stack[-1], value, mark, tag)
            return
        path = self.target(mark)
        self.positions[path] = mark
        if anchor is not None:
            self.anchors[anchor] = _Anchor(value, count, {(): mark}, {}, open=False)
        self.attach(value, path, count)

    def key(self, top: _Frame, value: Any, mark: Any, tag: str) -> None:
        try:
            hash(value)
        except TypeError:
            raise self.stop(mark, _NO_KEY) from None
        if tag == _MERGE_TAG:
            top.key, top.has_key = _MERGE, True
            return
        path = (*top.path, _segment(value))
        if value in top.seen:
            self.problems.append(
                SpecProblem(
                    self.where(mark),
                    ".".join(str(p) for p in path),
                    "duplicate key",
                    f"first defined at line {top.seen[value].line + 1}",
                )
            )
        top.seen[value] = mark
        self.keys[path] = mark
        top.key, top.has_key = value, True

    def attach(self, value: Any, path: PathKey, count: int) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.count += count
        if not top.is_map:
            assert isinstance(top.value, list)
            top.value.append(value)
        elif top.key is _MERGE:
            top.merges.append((value, self.positions[path]))
            top.has_key = False
        else:
            assert isinstance(top.value, dict)
            top.value[top.key] = value
            top.has_key = False

    def alias(self, event: Any) -> None:
        mark = event.start_mark
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise self.stop(mark, f"alias *{event.anchor} names no anchor defined before it")
        if anchor.open:
            raise self.stop(
                mark, f"alias *{event.anchor} is inside its own anchor (a recursive structure)"
            )
        self.expanded += anchor.count
        limit = max(MAX_EXPANSION * self.written, EXPANSION_FLOOR)
        if self.expanded > limit:
            raise self.stop(
                mark,
                f"aliases expand this document to more than {limit:,} values, over "
                f"{MAX_EXPANSION} times what it writes",
                "spec documents never need that many aliases; write the values out",
            )
        if self.stack and self.stack[-1].is_map and not self.stack[-1].has_key:
            self.key(self.stack[-1], anchor.value, mark, _STR)
            return
        path = self.target(mark)
        for relative, where in anchor.positions.items():
            self.positions[(*path, *relative)] = where
        for relative, where in anchor.keys.items():
            self.keys[(*path, *relative)] = where
        self.positions[path] = mark
        self.attach(anchor.value, path, anchor.count)

    # -- the file ------------------------------------------------------------------------

    def run(self) -> tuple[list[Document], list[SpecProblem]]:
        loader = self.loader
        try:
            loader.get_event()  # StreamStart
            index = 0
            for count in itertools.count():
                if not loader.check_event(yaml.DocumentStartEvent):
                    break
                start = loader.get_event()
                if count >= MAX_DOCUMENTS:  # empty documents count too: each costs time
                    raise self.stop(
                        start.start_mark,
                        f"more than {MAX_DOCUMENTS:,} documents in one file",
                        "split the specs into several files",
                    )
                document = self.document(index)
                if document is not None:
                    self.documents.append(document)
                    index += 1
        except _Stop:
            pass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = self.where(mark) if mark else Location(self.file, 1, 1)
            self.problems.append(SpecProblem(where, "", f"invalid YAML: {exc.problem or exc}"))
        except yaml.YAMLError as exc:
            self.problems.append(SpecProblem(Location(self.file, 1, 1), "", f"invalid YAML: {exc}"))
        finally:
            loader.dispose()
        return self.documents, self.problems


def read_spec_file(path: Path, display: str | None = None) -> tuple[str | None, list[SpecProblem]]:
    """A spec file's text, if it is within the size limit and readable."""
    file = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                SpecProblem(
                    Location(file, 1, 1),
                    "",
                    f"is {size / 2**20:.1f} MiB; a spec file may be at most "
                    f"{MAX_FILE_BYTES // 2**20} MiB",
                    "split it into several files",
                )
            ]
        return path.read_text(encoding="utf-8"), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SpecProblem(Location(file, 1, 1), "", f"cannot read file: {exc}")]


def parse_documents(text: str, file: str) -> tuple[list[Document], list[SpecProblem]]:
    """Every document of a file's text, within the limits; problems are located."""
    return _Reader(file, text).run()


def load_documents(
    path: Path, display: str | None = None
) -> tuple[list[Document], list[SpecProblem]]:
    """Read and parse a spec file within the limits."""
    file = display or str(path)
    text, problems = read_spec_file(path, file)
    return ([], problems) if text is None else parse_documents(text, file)
