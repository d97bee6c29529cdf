"""The Acl kind's values: the desired bindings with the Environment's ownership, the live ones.

A binding is Kafka's (`clients.access.AclEntry`); `FIELDS` names its parts the way a change's
field diff spells them, once, for the diff that writes them and the apply that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.clients.access import AclEntry
from reconciler.core.model import Location
from reconciler.kinds.access import AccessScope

KIND = "Acl"
#: A binding's parts: (field diff name, AclEntry attribute).
FIELDS = (
    ("principal", "principal"),
    ("resourceType", "resource_type"),
    ("resourceName", "resource_name"),
    ("patternType", "pattern_type"),
    ("operation", "operation"),
    ("permission", "permission"),
    ("host", "host"),
)


@dataclass(frozen=True)
class Acls:
    """Every binding the specs ask for (unique, sorted), the principals they declare, and
    what the Environment owns."""

    bindings: tuple[AclEntry, ...] = ()
    principals: tuple[str, ...] = ()
    scope: AccessScope = field(default_factory=AccessScope)
    #: Where each principal was declared, for the plan's warnings.
    locations: Mapping[str, Location] = field(default_factory=dict)

    def owns(self, principal: str) -> bool:
        return self.scope.owns(principal, self.principals)

    @property
    def active(self) -> bool:
        """Whether there is anything to read: no principal managed, no DescribeAcls (so a
        cluster without an authorizer plans its topics as before)."""
        return bool(self.principals) or self.scope.active


@dataclass(frozen=True)
class ObservedAcls:
    """Every binding of the cluster (one DescribeAcls); the diff keeps the managed ones."""

    bindings: tuple[AclEntry, ...] = ()


def label(entry: AclEntry) -> str:
    """How a plan names a binding: `User:app ALLOW READ topic:orders. (prefixed) from *`."""
    prefixed = " (prefixed)" if entry.pattern_type == "PREFIXED" else ""
    resource = f"{entry.resource_type.lower().replace('_', '-')}:{entry.resource_name}{prefixed}"
    return f"{entry.principal} {entry.permission} {entry.operation} {resource} from {entry.host}"
