"""The JSON Schemas in schemas/ are the single source of structural validation.

Two validators read the same schema files. A document is first checked by fastjsonschema's
compiled validator (generated Python code, about 25 times faster than jsonschema on a topic
document), which only answers valid or not. A document it refuses is checked again by
jsonschema, whose errors become the located, actionable problems: unknown fields get a "did you
mean", missing fields point at their parent, every error names file:line:column. So every
message comes from jsonschema, and jsonschema has the last word: a document the fast path
refuses and jsonschema accepts (`1.0` as an integer) is valid. `FAST_KEYWORDS` are the
keywords both implement alike; a test keeps the schemas within them.

jsonschema is imported only when a document fails (or a caller asks for its validator), so a
valid `validate` never pays for it.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.core.errors import SpecProblem
from reconciler.specs.yaml_source import Document, PathKey

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError
    from referencing import Registry

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
API_VERSION = "reconciler/v1"
#: The keywords the schemas may use: those fastjsonschema (draft-07 semantics) and jsonschema
#: (2020-12) check alike. 2020-12-only ones (`prefixItems`, `unevaluatedProperties`,
#: `dependentRequired`, ...) would be ignored by the fast path, so a document could pass it
#: that jsonschema refuses.
FAST_KEYWORDS = frozenset(
    {
        "$defs", "$id", "$ref", "$schema", "additionalProperties", "const", "default",
        "description", "enum", "exclusiveMaximum", "exclusiveMinimum", "items", "maxItems",
        "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties",
        "minimum", "multipleOf", "oneOf", "anyOf", "allOf", "not", "pattern",
        "patternProperties", "properties", "propertyNames", "required", "title", "type",
        "uniqueItems", "examples",
    }
)  # fmt: skip


T = TypeVar("T")


def once_each(make: Callable[[str], T]) -> Callable[[str], T]:
    """`functools.cache` for a schema's file name that makes each value once, also when
    threads ask at the same time: twenty environments loading at once (`plan DIR...`)
    compiled every schema twenty times."""
    made: dict[str, T] = {}
    lock = threading.Lock()

    def get(filename: str) -> T:
        if filename not in made:
            with lock:
                if filename not in made:
                    made[filename] = make(filename)
        return made[filename]

    return get


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    """Every schema in schemas/, by file name, read once."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.schema.json"))
    }


def load_schema(filename: str) -> dict[str, Any]:
    return _schemas()[filename]


def _offline(uri: str) -> Any:
    """fastjsonschema's resolver for `https` references: our own schemas by their `$id`,
    never the network."""
    return next(schema for schema in _schemas().values() if schema["$id"] == uri)


@once_each
def fast_valid(filename: str) -> Callable[[Any], bool]:
    """Whether schemas/`filename`'s compiled validator accepts a value; formats off, as in
    jsonschema by default. Anything it raises is a "no": jsonschema then decides."""
    import fastjsonschema

    compiled = fastjsonschema.compile(
        load_schema(filename), handlers={"https": _offline}, use_formats=False
    )

    def valid(data: Any) -> bool:
        try:
            compiled(data)
        except Exception:  # a refusal, or a value JSON has no type for: ask jsonschema
            return False
        return True

    return valid


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for name, schema in _schemas().items():
        resources.append((schema["$id"], Resource.from_contents(schema)))
        resources.append((name, Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@once_each
def validator(filename: str) -> Draft202012Validator:
    """jsonschema's validator of schemas/`filename`: the one whose errors users read."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(filename), registry=_registry())


def _field(path: PathKey) -> str:
    return ".".join(str(p) for p in path)


def _problems(error: ValidationError, doc: Document) -> list[SpecProblem]:
    path: PathKey = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = sorted(schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in allowed]
        found = []
        for key in unknown:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            found.append(
                SpecProblem(
                    doc.key_location((*path, key)), _field((*path, key)), "unknown field", hint
                )
            )
        return found
    if error.validator == "required":
        return [SpecProblem(doc.location(path), _field(path) or "(document)", error.message)]
    if error.validator == "pattern":  # the value may be a secret (sasl.password): never echo it
        message = f"does not match the required form {error.validator_value!r}"
        return [SpecProblem(doc.location(path), _field(path), message)]
    if error.validator in {"anyOf", "oneOf"} and error.context:
        best = min(error.context, key=lambda e: len(e.message))
        return [SpecProblem(doc.location(path), _field(path), best.message)]
    return [SpecProblem(doc.location(path), _field(path), error.message)]


def check_against(doc: Document, schema: str, *, fast: bool = True) -> list[SpecProblem]:
    """Validate a document (a spec's side file, with no envelope) against schemas/`schema`:
    the compiled validator first, jsonschema's located errors for what it refuses (`fast`
    False: jsonschema alone, which gives the same problems)."""
    if fast and fast_valid(schema)(doc.data):
        return []
    return [p for error in validator(schema).iter_errors(doc.data) for p in _problems(error, doc)]


def check_document(
    doc: Document, schemas: Mapping[str, str], *, fast: bool = True
) -> list[SpecProblem]:
    """Validate the envelope and the kind's schema (`schemas`: kind -> file); every error,
    located."""
    data = doc.data
    if not isinstance(data, dict):
        return [
            SpecProblem(
                doc.location(()), "", "a spec document must be a mapping with apiVersion, kind"
            )
        ]
    kind = data.get("kind")
    if data.get("apiVersion") != API_VERSION:
        return [
            SpecProblem(
                doc.location(("apiVersion",)),
                "apiVersion",
                f"expected {API_VERSION!r}, got {data.get('apiVersion')!r}",
            )
        ]
    if not isinstance(kind, str) or kind not in schemas:  # `kind: [x]` is no kind either
        close = difflib.get_close_matches(str(kind), list(schemas), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known kinds: {', '.join(schemas)}"
        return [SpecProblem(doc.location(("kind",)), "kind", f"unknown kind {kind!r}", hint)]
    return check_against(doc, schemas[str(kind)], fast=fast)
