"""The JSON Schemas in schemas/ are the single source of structural validation.

This module turns jsonschema's errors into located, actionable problems: unknown fields get a
"did you mean", missing fields point at their parent, every error names file:line:column.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from reconciler.core.errors import SpecProblem
from reconciler.specs.yaml_source import Document, PathKey

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
API_VERSION = "reconciler/v1"


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
        resources.append((path.name, Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def load_schema(filename: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))
    return result


@cache
def validator(filename: str) -> Draft202012Validator:
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


def check_against(doc: Document, schema: str) -> list[SpecProblem]:
    """Validate a document (a spec's side file, with no envelope) against schemas/`schema`."""
    return [p for error in validator(schema).iter_errors(doc.data) for p in _problems(error, doc)]


def check_document(doc: Document, schemas: Mapping[str, str]) -> list[SpecProblem]:
    """Validate the envelope and the kind's schema (`schemas`: kind -> file); every error,
    located."""
    data = doc.data
    where = doc.location(())
    if not isinstance(data, dict):
        return [SpecProblem(where, "", "a spec document must be a mapping with apiVersion, kind")]
    kind = data.get("kind")
    if data.get("apiVersion") != API_VERSION:
        return [
            SpecProblem(
                doc.location(("apiVersion",)),
                "apiVersion",
                f"expected {API_VERSION!r}, got {data.get('apiVersion')!r}",
            )
        ]
    if kind not in schemas:
        close = difflib.get_close_matches(str(kind), list(schemas), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known kinds: {', '.join(schemas)}"
        return [SpecProblem(doc.location(("kind",)), "kind", f"unknown kind {kind!r}", hint)]
    return check_against(doc, schemas[str(kind)])
