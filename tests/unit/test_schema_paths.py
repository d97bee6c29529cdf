"""The compiled validator (fast path) and jsonschema (the messages) agree: a document the fast
path accepts is one jsonschema accepts, and a failing document gets the same problems whichever
path found it. Proved on every example spec with each value replaced, removed or joined by an
unknown key."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import SpecError
from reconciler.engine import load as load_module
from reconciler.engine.load import SCHEMAS, load
from reconciler.specs import schema
from reconciler.specs.schema import FAST_KEYWORDS, check_document, fast_valid, validator
from reconciler.specs.yaml_source import Document, load_documents

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "specs").rglob("*.yaml"))
#: Values that sit on the edges of JSON Schema's types: bool vs int, 1.0 vs 1, a date YAML
#: makes, a number past 64 bits, empty and odd containers, text that looks like a number.
ODD: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    2.5,
    2**70,
    "",
    "x",
    "1",
    "${X}",
    "a" * 300,
    [],
    [1],
    ["a", "a"],
    {},
    {"x": 1},
    datetime.date(2025, 1, 2),
)
#: Mapping-key positions whose children are names, not keywords.
_NAMED = frozenset({"properties", "$defs", "patternProperties"})


def keywords(node: Any, named: bool = False) -> Iterator[str]:
    """Every keyword a schema uses (the keys of `properties` and `$defs` are names)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not named:
                yield key
            yield from keywords(value, named=key in _NAMED and not named)
    elif isinstance(node, list):
        for item in node:
            yield from keywords(item)


def test_the_schemas_use_only_keywords_both_validators_check_alike() -> None:
    for name, content in schema._schemas().items():
        used = set(keywords(content))
        assert used <= FAST_KEYWORDS, f"{name}: {sorted(used - FAST_KEYWORDS)}"


def test_items_is_always_one_schema() -> None:
    """2020-12's `items` is draft-07's one-schema form; draft-07's list form is `prefixItems`."""

    def items(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "items":
                    yield value
                yield from items(value)
        elif isinstance(node, list):
            for item in node:
                yield from items(item)

    for content in schema._schemas().values():
        assert all(isinstance(found, dict) for found in items(content))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def variants(data: Any) -> Iterator[Any]:
    """`data` with each value replaced by each odd value, each key removed, and an unknown
    key added to each mapping."""
    for path in paths(data):
        if not path:
            continue
        for odd in ODD:
            changed = copy.deepcopy(data)
            parent = changed
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = odd
            yield changed
        removed = copy.deepcopy(data)
        parent = removed
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        yield removed
    for path in paths(data):
        changed = copy.deepcopy(data)
        target = changed
        for step in path:
            target = target[step]
        if isinstance(target, dict):
            target["unknownField"] = 1
            yield changed


def example_documents() -> list[Document]:
    found: list[Document] = []
    for path in EXAMPLES:
        documents, problems = load_documents(path)
        assert problems == []
        found.extend(d for d in documents if isinstance(d.data, dict))
    return found


@pytest.mark.parametrize("doc", example_documents(), ids=lambda d: f"{d.file}#{d.index}")
def test_fast_and_slow_paths_agree_on_every_variant(doc: Document) -> None:
    kind_schema = SCHEMAS[doc.data["kind"]]
    checked = refused = 0
    for data in variants(doc.data):
        variant = Document(data, doc.file, doc.index, doc.root, doc.marks)
        slow = check_document(variant, SCHEMAS, fast=False)
        fast = check_document(variant, SCHEMAS)
        assert fast == slow, data
        if fast_valid(kind_schema)(data):
            assert not list(validator(kind_schema).iter_errors(data)), data
        checked += 1
        refused += bool(slow)
    assert checked > 20 and refused > 10  # the variants do exercise both outcomes


def test_jsonschema_decides_what_the_fast_path_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal of the compiled validator is only a reason to ask jsonschema: were the two
    ever to disagree that way (none of the variants above does), the document stays valid."""
    data = {
        "apiVersion": "reconciler/v1",
        "kind": "Topic",
        "metadata": {"name": "orders"},
        "spec": {"partitions": 3, "replicationFactor": 2},
    }
    monkeypatch.setattr(schema, "fast_valid", lambda _name: lambda _data: False)
    assert check_document(Document(data, "t.yaml", 0), SCHEMAS) == []


def test_a_directory_of_failing_documents_gets_the_same_problems_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / "test"
    env.mkdir()
    (env / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: test}\n"
        "spec:\n  kafka: {bootstrapServers: 'b:9092', securityProtocl: SSL}\n",
        encoding="utf-8",
    )
    bad = [
        "metadata: {name: a}\nspec: {partitions: '3', replicationFactor: 1}",
        "metadata: {name: b}\nspec: {partitions: 0, replicationFactor: 1, confg: {}}",
        "metadata: {name: c, labels: {team: [x]}}\nspec: {partitions: 1}",
        "metadata: {}\nspec: {partitions: 1, replicationFactor: 1}",
        "metadata: {name: e}\nspec: {partitions: 1, replicationFactor: true}",
    ]
    (env / "topics.yaml").write_text(
        "---\n".join(f"apiVersion: reconciler/v1\nkind: Topic\n{body}\n" for body in bad),
        encoding="utf-8",
    )

    def problems() -> list[str]:
        with pytest.raises(SpecError) as caught:
            load(env)
        return [str(p) for p in caught.value.problems]

    fast = problems()

    def slow_only(doc: Document, schemas: Any) -> Any:
        return check_document(doc, schemas, fast=False)

    monkeypatch.setattr(load_module, "check_document", slow_only)
    assert problems() == fast
    assert len(fast) >= 6
    assert any("environment.yaml:5:" in p and "securityProtocl" in p for p in fast)
    assert any("topics.yaml:" in p and "confg: unknown field" in p for p in fast)
