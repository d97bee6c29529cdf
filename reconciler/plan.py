"""Desired + observed -> Plan: the reviewed unit of work. Pure."""

from __future__ import annotations

from reconciler.diff import diff_topics
from reconciler.digests import observed_digest
from reconciler.model import Action, Change, Desired, Observed, Plan

#: Creates first, deletes last: a partial failure never leaves data removed before additions.
_ACTION_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.REPLACE: 2, Action.DELETE: 3}


def _order(change: Change) -> tuple[int, str, str]:
    return (_ACTION_ORDER[change.action], change.kind, change.name)


def build_plan(desired: Desired, observed: Observed) -> Plan:
    changes, orphans = diff_topics(desired, observed)
    return Plan(
        environment=desired.environment.name,
        specs_digest=desired.digest,
        observed_digest=observed_digest(desired.environment, observed, desired.topics),
        changes=tuple(sorted(changes, key=_order)),
        orphans=tuple(orphans),
    )
