"""YAML documents that remember where every value was written, read within fixed bounds.

Specs are untrusted input (a pull request's plan runs with cluster credentials nearby), so a
file is read in one pass over libyaml's events, building the values and, beside them, a tree
of where each was written (`Marks`), and refusing at the first sign of abuse:

- file size: 16 MiB (20,000 topics take about 5 MiB);
- documents per file: 100,000;
- nesting depth: 64, also when aliases nest one anchor in another (specs nest 6 deep;
  libyaml's own composer recurses per level and crashes near 100,000 levels, which a 200 KB
  file of `[` reaches, and Python code that walks values recurses too);
- alias expansion: at most 10x the values a document writes (or 10,000 values): the
  "billion laughs", nine levels of nine aliases, is a few hundred bytes for 387 million
  values; and at most 10,000 aliases per document;
- numbers: at most 100 characters (YAML 1.1 reads `1:2:3:...` as a base-60 integer, which
  PyYAML computes in quadratic time, and Python refuses integers over 4,300 digits), and a
  scalar that looks like a number or a date but is none (`2025-13-01`) is a problem.

An alias shares its anchor's marks instead of copying them, so each costs the same whatever
the anchor's size. Anchors, aliases and merge keys (`<<: *defaults`) work as YAML defines them
within those bounds; an alias to a node that is still open (a recursive structure), or to a
list or mapping used as a mapping key, is refused. Each limit is a located problem, never a
hang, a traceback or a crash. Scalars resolve as YAML 1.1 `safe_load` resolves them (so `7d`
stays text, `6` is an int, `true` a bool).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location

PathKey = tuple[str | int, ...]
#: Where a collection's entries were written: mapping key -> (key mark, value mark, the
#: value's own Marks or None), or a list of (None, item mark, Marks or None) for a sequence.
#: Marks are libyaml's (0-based line and column), made into Locations only when asked for.
Marks = dict[Any, tuple[Any, Any, Any]] | list[tuple[Any, Any, Any]]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DOCUMENTS = 100_000
MAX_DEPTH = 64
MAX_EXPANSION = 10
EXPANSION_FLOOR = 10_000
MAX_ALIASES = 10_000
MAX_NUMBER_CHARS = 100


@dataclass(frozen=True)
class Document:
    """One YAML document with the location of every mapping key, item and scalar in it."""

    data: Any
    file: str
    index: int
    #: The mark of the document's root value, and the Marks of its entries (None: a scalar).
    root: Any = None
    marks: Marks | None = None

    def _entry(self, path: PathKey) -> tuple[Any, Any, bool]:
        """The key mark and value mark of the deepest written prefix of `path`, and whether
        that prefix is all of it."""
        key, value, node = None, self.root, self.marks
        for segment in path:
            if isinstance(node, dict):
                entry = node.get(segment)
            elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
                entry = node[segment]
            else:
                entry = None
            if entry is None:
                return key, value, False
            key, value, node = entry
        return key, value, True

    def mark(self, path: PathKey) -> Any:
        """libyaml's mark of `path`'s value, or of its closest written parent (None: the
        document has no marks)."""
        return self._entry(path)[1]

    def key_mark(self, path: PathKey) -> Any:
        """libyaml's mark of the mapping key of `path`; None unless `path` is written as a
        mapping key."""
        key, _, complete = self._entry(path)
        return key if complete else None

    def _location(self, mark: Any) -> Location:
        if mark is None:
            return Location(self.file, 1, 1)
        return Location(self.file, mark.line + 1, mark.column + 1)

    def location(self, path: PathKey) -> Location:
        """The closest known location of `path` (falls back to its parents, then the doc)."""
        return self._location(self.mark(path))

    def key_location(self, path: PathKey) -> Location:
        """Where the mapping key of `path` is written (for "unknown field" errors)."""
        found = self.key_mark(path)
        return self.location(path) if found is None else self._location(found)


#: libyaml's parser: the events come from C, seven times faster than pure Python.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
#: The tags a list or mapping may carry: YAML's own (specs never need !!set, !!omap or others).
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
#: The pending key of a mapping that reads `<<:` next.
_MERGE = object()
_NO_KEY = "a mapping key must be a plain value, not a list or mapping"


class _Stop(Exception):
    """A limit was hit: the file's problem is recorded, nothing more of it is read."""


class _Anchor:
    """What an alias stands for: the value, how many values it expands to (at least), how
    deep it nests, and its marks (shared by every alias, never copied)."""

    __slots__ = ("count", "depth", "marks", "open", "value")

    def __init__(self, value: Any, count: int, depth: int, marks: Any, open: bool) -> None:
        self.value = value
        self.count = count
        self.depth = depth
        self.marks = marks
        self.open = open


class _Frame:
    """A mapping or sequence being read."""

    __slots__ = (
        "anchor",
        "depth",
        "has_key",
        "is_map",
        "key",
        "key_mark",
        "mark",
        "marks",
        "merges",
        "start",
        "value",
    )

    def __init__(self, is_map: bool, mark: Any, anchor: str | None, start: int) -> None:
        self.is_map = is_map
        self.value: Any = {} if is_map else []
        self.marks: Any = {} if is_map else []
        self.mark = mark
        self.anchor = anchor
        self.start = start  # events written and values expanded before it: its count
        self.depth = 1  # levels of collections it holds, itself included
        self.key: Any = None
        self.key_mark: Any = None
        self.has_key = False
        self.merges: list[tuple[Any, Any]] | None = None


class _Reader:
    """Builds the documents of one file from its events, in one pass."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.loader: Any = _Loader(text)  # the stubs leave its event calls untyped
        self.problems: list[SpecProblem] = []
        self.documents: list[Document] = []
        self.plain: dict[str, tuple[Any, str]] = {}
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.written = self.expanded = self.aliases = 0

    def where(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def stop(self, mark: Any, message: str, hint: str | None = None) -> _Stop:
        self.problems.append(SpecProblem(self.where(mark), "", message, hint))
        return _Stop()

    def scalar(self, event: Any) -> tuple[Any, str]:
        """The value of a scalar as safe_load constructs it, and its resolved tag; plain
        untagged ones are remembered by their text (specs repeat their keys and most of
        their values)."""
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag in (_STR, _MERGE_TAG):
            result: tuple[Any, str] = (event.value, tag)
        else:
            result = (self.construct(event, tag), tag)
        if event.tag is None and event.implicit[0]:
            self.plain[event.value] = result
        return result

    def construct(self, event: Any, tag: str) -> Any:
        """A scalar of another type (int, float, bool, null, a timestamp), as safe_load
        makes it; a number too long to compute in bounded time, or a value its type refuses,
        is a problem at the scalar."""
        mark = event.start_mark
        if tag in _NUMBER_TAGS and len(event.value) > MAX_NUMBER_CHARS:
            raise self.stop(
                mark,
                f"a number written with more than {MAX_NUMBER_CHARS} characters",
                "quote it if it is text; Kafka's numbers have at most 19 digits",
            )
        node = yaml.ScalarNode(tag, event.value, mark, event.end_mark)
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            problem = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)
            raise self.stop(
                mark,
                f"cannot be read as {tag.removeprefix('tag:yaml.org,2002:')} ({problem})",
                "quote it to keep it as text",
            ) from None

    # -- one document --------------------------------------------------------------------

    def document(self, index: int) -> Document | None:
        """Read events up to the document's end. The hot path, a scalar key or value of a
        mapping (most events of a spec), is inline, on local names."""
        stack = self.start_document()
        written = 0
        get = self.loader.get_event
        plain = self.plain
        top: _Frame | None = None
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        document_end = yaml.DocumentEndEvent
        while True:
            event = get()
            kind = type(event)
            written += 1
            if kind is scalar_event:
                if event.tag is not None:
                    value, tag = self.scalar(event)
                elif event.implicit[0]:  # plain: resolved as YAML 1.1 says, once per text
                    found = plain.get(event.value)
                    value, tag = self.scalar(event) if found is None else found
                else:  # quoted or a block scalar, untagged: always text
                    value, tag = event.value, _STR
                if top is not None and top.is_map and event.anchor is None:
                    if not top.has_key:
                        if tag != _MERGE_TAG and value not in top.marks:
                            top.key, top.key_mark, top.has_key = value, event.start_mark, True
                            continue
                    elif top.key is not _MERGE:
                        top.marks[top.key] = (top.key_mark, event.start_mark, None)
                        top.value[top.key] = value
                        top.has_key = False
                        continue
                self.written = written
                self.place(value, event.start_mark, event.anchor, tag)
                continue
            if kind is document_end:
                break
            self.written = written
            if kind is mapping_start or kind is sequence_start:
                self.open(event, kind is mapping_start)
            elif kind is alias_event:
                self.alias(event)
            else:  # the end of a mapping or a sequence
                self.close()
            top = stack[-1] if stack else None
        if written == 1:  # nothing but its end
            return None
        return Document(self.root, self.file, index, self.root_mark, self.root_marks)

    def start_document(self) -> list[_Frame]:
        """Forget the last document's anchors and counts; its (empty) stack of collections."""
        self.anchors = {}
        self.stack = []
        self.written = self.expanded = self.aliases = 0
        self.root: Any = None
        self.root_mark: Any = None
        self.root_marks: Any = None
        return self.stack

    def open(self, event: Any, is_map: bool) -> None:
        mark = event.start_mark
        if len(self.stack) >= MAX_DEPTH:
            raise self.too_deep(mark)
        if event.tag not in _COLLECTION_TAGS:
            raise self.stop(mark, f"the tag {event.tag} is not supported in spec documents")
        if self.stack and self.stack[-1].is_map and not self.stack[-1].has_key:
            raise self.stop(mark, _NO_KEY)
        frame = _Frame(is_map, mark, event.anchor, self.written + self.expanded)
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(frame.value, 0, 0, None, open=True)
        self.stack.append(frame)

    def too_deep(self, mark: Any) -> _Stop:
        return self.stop(
            mark,
            f"nested more than {MAX_DEPTH} levels deep (aliases included)",
            "spec documents nest a few levels; flatten the structure",
        )

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self.merge(frame)
        count = self.written + self.expanded - frame.start
        if frame.anchor is not None:
            self.anchors[frame.anchor] = _Anchor(
                frame.value, count, frame.depth, frame.marks, open=False
            )
        self.attach(frame.value, frame.mark, frame.marks, frame.depth)

    def merge(self, frame: _Frame) -> None:
        """`<<: *defaults` (or a list of them): their keys, unless the mapping has its own;
        the first listed wins. Merged values are located at their `<<` line."""
        mapping, marks = frame.value, frame.marks
        for source, mark in frame.merges or ():
            for part in source if isinstance(source, list) else [source]:
                if not isinstance(part, dict):
                    raise self.stop(mark, "a merge key (<<) takes a mapping or a list of them")
                for key, value in part.items():
                    if key not in mapping:
                        mapping[key] = value
                        marks[key] = (mark, mark, None)

    def place(self, value: Any, mark: Any, anchor: str | None, tag: str) -> None:
        """A scalar off the hot path: a key (checked), a merge key, an anchored value, an
        item of a sequence or the document's root."""
        if anchor is not None:
            self.anchors[anchor] = _Anchor(value, 1, 0, None, open=False)
        if self.stack and self.stack[-1].is_map and not self.stack[-1].has_key:
            self.key(self.stack[-1], value, mark, tag)
            return
        self.attach(value, mark, None, 0)

    def key(self, top: _Frame, value: Any, mark: Any, tag: str) -> None:
        try:
            hash(value)
        except TypeError:
            raise self.stop(mark, _NO_KEY) from None
        if tag == _MERGE_TAG:
            top.key, top.has_key = _MERGE, True
            return
        first = top.marks.get(value)
        if first is not None:
            self.problems.append(
                SpecProblem(
                    self.where(mark),
                    ".".join(str(p) for p in (*self.path(), value)),
                    "duplicate key",
                    f"first defined at line {first[0].line + 1}",
                )
            )
        top.key, top.key_mark, top.has_key = value, mark, True

    def path(self) -> PathKey:
        """The path of the open collection (for messages only: built when one is needed)."""
        found: list[str | int] = []
        for parent in self.stack[:-1]:
            if not parent.is_map:
                found.append(len(parent.value))
            else:
                found.append("<<" if parent.key is _MERGE else parent.key)
        return tuple(found)

    def attach(self, value: Any, mark: Any, marks: Any, depth: int) -> None:
        """A finished value (a scalar, a closed collection, an alias's anchor) into its place."""
        if not self.stack:
            self.root, self.root_mark, self.root_marks = value, mark, marks
            return
        top = self.stack[-1]
        if depth >= top.depth:
            top.depth = depth + 1
        if not top.is_map:
            top.value.append(value)
            top.marks.append((None, mark, marks))
        elif top.key is _MERGE:
            if top.merges is None:
                top.merges = []
            top.merges.append((value, mark))
            top.has_key = False
        else:
            top.value[top.key] = value
            top.marks[top.key] = (top.key_mark, mark, marks)
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
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self.stop(
                mark,
                f"more than {MAX_ALIASES:,} aliases in one document",
                "spec documents never need that many aliases; write the values out",
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
        if len(self.stack) + anchor.depth > MAX_DEPTH:
            raise self.too_deep(mark)
        if self.stack and self.stack[-1].is_map and not self.stack[-1].has_key:
            self.key(self.stack[-1], anchor.value, mark, _STR)
            return
        self.attach(anchor.value, mark, anchor.marks, anchor.depth)

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
