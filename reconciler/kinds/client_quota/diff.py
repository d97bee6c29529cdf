"""Declared vs live client quotas -> one change per entity. Pure.

Only declared entities and the managed principals' (and client ids') are compared. A new or
lower limit throttles clients that were not before: disruptive. A managed entity's quotas in
no spec are removed only with the policy's permission.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.clients.access import Entity
from reconciler.core.changes import make_change
from reconciler.core.model import Action, Change, FieldDiff, Orphan, Risk
from reconciler.kinds.access import removal
from reconciler.kinds.base import Context, KindPlan
from reconciler.kinds.client_quota.model import KIND, ClientQuotas, ObservedQuotas, label, spec_key


def number(value: float | None) -> float | int | None:
    """1048576.0 -> 1048576: Kafka's floats as a person writes them."""
    return int(value) if value is not None and float(value).is_integer() else value


def _field(key: str, before: float | None, after: float | None) -> FieldDiff:
    tighter = after is not None and (before is None or after < before)
    reason = f"{spec_key(key)}: clients are throttled where they were not" if tighter else None
    risk = Risk.DISRUPTIVE if tighter else Risk.SAFE
    return FieldDiff(spec_key(key), number(before), number(after), risk, reason)


def _change(entity: Entity, want: Mapping[str, float], live: Mapping[str, float]) -> Change | None:
    keys = sorted(set(want) | set(live))
    diffs = [_field(k, live.get(k), want.get(k)) for k in keys if live.get(k) != want.get(k)]
    if not diffs:
        return None
    action = Action.CREATE if not live else Action.UPDATE
    return make_change(KIND, label(entity), action, diffs, operation="AlterClientQuotas")


def diff(desired: ClientQuotas, observed: ObservedQuotas, context: Context) -> KindPlan:
    live = observed.by_entity()
    changes: list[Change] = []
    orphans: list[Orphan] = []
    for entity, want in sorted(desired.quotas.items(), key=lambda item: label(item[0])):
        change = _change(entity, want, live.get(entity, {}))
        if change is not None:
            changes.append(change)
    for entity, values in sorted(live.items(), key=lambda item: label(item[0])):
        if entity in desired.quotas or not values or not desired.owns(entity):
            continue
        diffs = [FieldDiff(spec_key(k), number(v), None) for k, v in sorted(values.items())]
        loses = f"{label(entity)} is no longer limited (its quotas are removed)"
        found = removal(
            desired.scope, KIND, label(entity), diffs, loses, operation="AlterClientQuotas"
        )
        if isinstance(found, Orphan):
            orphans.append(found)
        else:
            changes.append(found)
    return KindPlan(tuple(changes), tuple(orphans))
