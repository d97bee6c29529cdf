"""Desired vs live ACL bindings -> changes. Pure.

A binding has no fields to update: it exists or not. So a change creates one binding or
deletes one; only the managed principals' bindings are compared, every other principal's are
never touched. Creates come first, so a principal moved from one pattern to another never
loses access in between.
"""

from __future__ import annotations

from reconciler.clients.access import WILDCARD, AclEntry
from reconciler.core.changes import make_change
from reconciler.core.model import Action, Change, FieldDiff, Orphan, Risk
from reconciler.kinds.access import removal
from reconciler.kinds.acl.model import FIELDS, KIND, Acls, ObservedAcls, label
from reconciler.kinds.base import Context, KindPlan


def _fields(entry: AclEntry, create: bool) -> list[FieldDiff]:
    values = [(name, getattr(entry, attr)) for name, attr in FIELDS]
    return [FieldDiff(name, None, v) if create else FieldDiff(name, v, None) for name, v in values]


def wildcards(entry: AclEntry) -> list[str]:
    """What makes a binding reach further than one named principal and resource."""
    found = []
    if entry.principal.endswith(":" + WILDCARD):
        found.append(f"{entry.principal} is every principal")
    if entry.resource_name == WILDCARD and entry.pattern_type == "LITERAL":
        found.append(f"{entry.resource_type.lower()} `*` is every one")
    return found


def _create(entry: AclEntry) -> Change:
    reasons = []
    diffs = _fields(entry, True)
    if entry.permission == "DENY":
        reasons.append(
            f"a DENY wins over every ALLOW: {entry.principal} loses {entry.operation} on "
            f"{entry.resource_type.lower()} {entry.resource_name} from {entry.host}"
        )
        diffs[-2] = FieldDiff("permission", None, "DENY", Risk.DISRUPTIVE)
    return make_change(
        KIND, label(entry), Action.CREATE, diffs, operation="CreateAcls", reasons=reasons
    )


def diff(desired: Acls, observed: ObservedAcls, context: Context) -> KindPlan:
    want = set(desired.bindings)
    live = {b for b in observed.bindings if desired.owns(b.principal)}
    changes: list[Change] = [_create(entry) for entry in sorted(want - live)]
    orphans: list[Orphan] = []
    for entry in sorted(live - want):
        loses = f"{entry.principal} loses {entry.operation} on {entry.resource_type.lower()} "
        loses += f"{entry.resource_name}" if entry.permission == "ALLOW" else "(a DENY lifted)"
        found = removal(desired.scope, KIND, label(entry), _fields(entry, False), loses)
        if isinstance(found, Change):
            changes.append(found)
        else:
            orphans.append(found)
    warnings = [
        f"{label(entry)}: {'; '.join(reach)}: check that this is meant"
        for entry in sorted(want - live)
        if (reach := wildcards(entry))
    ]
    return KindPlan(tuple(changes), tuple(orphans), tuple(warnings))
