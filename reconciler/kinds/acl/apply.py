"""Observe and write ACL bindings: one DescribeAcls; CreateAcls, then DeleteAcls with exact
filters (every field named), so a delete can never match another principal's binding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.clients.access import AclEntry
from reconciler.core.environment import Environment
from reconciler.core.model import Action, Change
from reconciler.kinds.acl.model import FIELDS, Acls, ObservedAcls
from reconciler.kinds.base import ApplyOptions, Mode, Outcome

if TYPE_CHECKING:
    from reconciler.clients.session import Clients


def observe(clients: Clients, environment: Environment, desired: Acls, mode: Mode) -> ObservedAcls:
    """Every binding (one DescribeAcls), or nothing when the environment manages none."""
    if not desired.active:
        return ObservedAcls()
    return ObservedAcls(tuple(clients.kafka().acls()))


def entry(change: Change) -> AclEntry:
    """The binding a change creates or deletes, from its field diff (a saved plan has it)."""
    values = {d.field: d.after if change.action is Action.CREATE else d.before for d in change.diff}
    return AclEntry(**{attr: str(values[name]) for name, attr in FIELDS})


def apply(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    admin = clients.kafka()
    outcomes = []
    for action, write in ((Action.CREATE, admin.create_acls), (Action.DELETE, admin.delete_acls)):
        mine = {entry(c): c for c in changes if c.action is action}
        if not mine:
            continue
        options.progress(
            f"{'creating' if action is Action.CREATE else 'deleting'} {len(mine)} ACL binding(s)"
        )
        for binding, error in write(list(mine)).items():
            outcomes.append(Outcome(mine[binding], error is None, error or "done"))
    return outcomes
