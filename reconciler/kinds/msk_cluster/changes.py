"""One Change per MSK API call for the cluster, and the managed fields a call would change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.core.changes import make_change
from reconciler.core.model import Action, Change, FieldDiff
from reconciler.kinds.msk_cluster.fields import operation_fields
from reconciler.kinds.msk_cluster.spec import KIND, MskClusterSpec


def cluster_change(
    spec: MskClusterSpec,
    operation: str | None,
    diffs: list[FieldDiff],
    *,
    action: Action = Action.UPDATE,
    reasons: Iterable[str] = (),
    blockers: Iterable[str] = (),
) -> Change:
    return make_change(
        KIND, spec.name, action, diffs, operation=operation, reasons=reasons, blockers=blockers
    )


def field_diffs(
    desired: Mapping[str, Any], actual: Mapping[str, Any], operation: str
) -> list[FieldDiff]:
    """Managed fields (not None in the spec) that `operation` changes, whose value differs."""
    found = []
    for field in operation_fields(operation):
        value = desired.get(field.path)
        if value is not None and actual.get(field.path) != value:
            found.append(FieldDiff(field.path, actual.get(field.path), value))
    return found
