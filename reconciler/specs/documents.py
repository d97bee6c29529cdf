"""Spec documents built from values: what `show` prints and `import` writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.units import integer
from reconciler.specs.schema import API_VERSION


def natural(value: str) -> int | bool | str:
    """Show 604800000 as a number and true as a boolean; keep 'compact,delete' or '0.5' as
    Kafka writes them."""
    if value in ("true", "false"):
        return value == "true"
    number = integer(value)
    return value if number is None else number


def document(
    kind: str, name: str, spec: Mapping[str, Any], labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": dict(spec)}
