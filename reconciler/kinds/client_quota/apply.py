"""Observe and write client quotas: one DescribeClientQuotas; one AlterClientQuotas for every
change, validated first (validate_only) at plan time and before apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.clients.access import Entity
from reconciler.core.environment import Environment
from reconciler.core.model import Change
from reconciler.kinds.base import ApplyOptions, Mode, Outcome, Refusal
from reconciler.kinds.client_quota.model import (
    KEYS,
    ClientQuotas,
    ObservedQuotas,
    QuotaEntry,
    entity_of,
    label,
)

if TYPE_CHECKING:
    from reconciler.clients.session import Clients


def observe(
    clients: Clients, environment: Environment, desired: ClientQuotas, mode: Mode
) -> ObservedQuotas:
    if not desired.active:
        return ObservedQuotas()
    found = clients.quotas().quotas()
    entries = (QuotaEntry(label(e), dict(sorted(v.items()))) for e, v in found.items())
    return ObservedQuotas(tuple(sorted(entries, key=lambda entry: entry.entity)))


def _requests(changes: Sequence[Change]) -> dict[Entity, dict[str, float | None]]:
    return {
        entity_of(c.name): {
            KEYS.get(d.field, d.field): None if d.after is None else float(d.after) for d in c.diff
        }
        for c in changes
    }


def preflight(clients: Clients, changes: Sequence[Change]) -> list[Refusal]:
    results = clients.quotas().alter(_requests(changes), validate_only=True)
    return [
        Refusal(c, f"ClientQuota {c.name}: {results[entity_of(c.name)]}")
        for c in changes
        if results.get(entity_of(c.name))
    ]


def apply(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    options.progress(
        f"altering the client quotas of {len(changes)} entit{'y' if len(changes) == 1 else 'ies'}"
    )
    results = clients.quotas().alter(_requests(changes))
    outcomes = []
    for change in changes:
        error = results.get(entity_of(change.name))
        outcomes.append(Outcome(change, error is None, error or "done"))
    return outcomes
