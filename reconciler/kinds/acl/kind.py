"""The Acl kind, as the engine sees it: fingerprints, snapshots and `show`'s documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.core.record import encode
from reconciler.kinds.access import document_name, kind_parts
from reconciler.kinds.acl import diff, spec
from reconciler.kinds.acl.model import KIND as NAME
from reconciler.kinds.acl.model import Acls, ObservedAcls
from reconciler.kinds.base import Adopting, Discovered, Kind, Mode, SpecDocument, deferred
from reconciler.specs.documents import document

if TYPE_CHECKING:
    from reconciler.clients.session import Clients

_TYPES = {kafka: word for word, kafka in spec.RESOURCE_TYPES.items()}


#: What reaches the cluster, imported when first used (`validate` never does).
_observe = deferred("reconciler.kinds.acl.apply", "observe")


def _spec_fingerprint(desired: Acls) -> object:
    return {"scope": desired.scope.fingerprint(), "bindings": encode(desired.bindings)}


def _fingerprint(desired: Acls, observed: ObservedAcls) -> object:
    """The managed principals' bindings: what the plan depends on (others' may change)."""
    return encode([b for b in observed.bindings if desired.owns(b.principal)])


def _operation(kafka: str) -> str:
    """`DESCRIBE_CONFIGS` -> `DescribeConfigs` (Strimzi's spelling, as the schema takes it)."""
    return "".join(part.capitalize() for part in kafka.split("_"))


def to_documents(desired: Acls, readable: bool) -> list[SpecDocument]:
    """One document per principal in the plain `acls` form: exactly the bindings, one item
    per resource, permission and host with its operations."""
    documents = []
    for principal in sorted({b.principal for b in desired.bindings}):
        items: dict[tuple[str, str, str, str, str], list[str]] = {}
        for b in desired.bindings:
            if b.principal == principal:
                key = (b.resource_type, b.resource_name, b.pattern_type, b.permission, b.host)
                items.setdefault(key, []).append(_operation(b.operation))
        acls: list[dict[str, Any]] = []
        for (kind, name, pattern, permission, host), operations in items.items():
            resource: dict[str, Any] = {"type": _TYPES[kind], "name": name}
            if pattern == "PREFIXED":
                resource["patternType"] = "prefixed"
            acls.append(
                {
                    "resource": resource,
                    "operations": operations,
                    "type": permission.lower(),
                    "host": host,
                }
            )
        name = document_name(principal.split(":", 1)[1])
        documents.append(document(NAME, name, {"principal": principal, "acls": acls}))
    return documents


def discover(clients: Clients, adopting: Adopting[Acls]) -> Discovered[Acls, ObservedAcls]:
    """The managed principals' bindings that no file of the user's declares (an Environment
    without access.manage imports none: it owns no principal yet)."""
    declared = adopting.declared
    observed = _observe(clients, adopting.environment, declared, Mode.PLAN)
    mine = set(declared.bindings)
    found = tuple(
        b
        for b in observed.bindings
        if declared.owns(b.principal) and adopting.selection.covers(b.principal) and b not in mine
    )
    principals = tuple(sorted({b.principal for b in found}))
    return Discovered(Acls(found, principals, declared.scope), observed)


KIND: Kind[Acls, ObservedAcls] = Kind(
    name=NAME,
    schema="acl.schema.json",
    label=("ACL binding", "ACL bindings"),
    load=spec.load,
    count=lambda desired: len(desired.bindings),
    spec_fingerprint=_spec_fingerprint,
    fingerprint=_fingerprint,
    apply=deferred("reconciler.kinds.acl.apply", "apply"),
    to_documents=to_documents,
    discover=discover,
    file="acls",
    **kind_parts(_observe, diff.diff, ObservedAcls),
)
