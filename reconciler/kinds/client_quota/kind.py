"""The ClientQuota kind, as the engine sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.kinds.access import document_name, kind_parts
from reconciler.kinds.base import Adopting, Discovered, Kind, Mode, SpecDocument, deferred
from reconciler.kinds.client_quota import diff, spec
from reconciler.kinds.client_quota.model import (
    DEFAULT,
    ClientQuotas,
    ObservedQuotas,
    entity_of,
    label,
    spec_key,
)
from reconciler.kinds.client_quota.model import KIND as NAME
from reconciler.specs.documents import document

if TYPE_CHECKING:
    from reconciler.clients.session import Clients


#: What reaches the cluster, imported when first used (`validate` never does).
_observe = deferred("reconciler.kinds.client_quota.apply", "observe")


def _spec_fingerprint(desired: ClientQuotas) -> object:
    quotas = {label(e): dict(sorted(v.items())) for e, v in desired.quotas.items()}
    return {"scope": desired.scope.fingerprint(), "quotas": dict(sorted(quotas.items()))}


def _fingerprint(desired: ClientQuotas, observed: ObservedQuotas) -> object:
    owned = (e for e in observed.quotas if desired.owns(entity_of(e.entity)))
    return [[e.entity, dict(e.values)] for e in owned]


def to_documents(desired: ClientQuotas, readable: bool) -> list[SpecDocument]:
    documents = []
    for entity, values in sorted(desired.quotas.items(), key=lambda item: label(item[0])):
        body: dict[str, Any] = {}
        for kind, name in entity:
            body["user" if kind == "user" else "clientId"] = DEFAULT if name is None else name
        body["quotas"] = {spec_key(k): diff.number(v) for k, v in sorted(values.items())}
        name = "-".join((n or "default") for _, n in entity)
        documents.append(document(NAME, document_name(name), body))
    return documents


def discover(
    clients: Clients, adopting: Adopting[ClientQuotas]
) -> Discovered[ClientQuotas, ObservedQuotas]:
    """The managed entities' quotas that no file of the user's declares (defaults are
    managed only where declared, so they are never imported)."""
    declared = adopting.declared
    observed = _observe(clients, adopting.environment, declared, Mode.PLAN)
    found = {
        entity: values
        for entity, values in observed.by_entity().items()
        if values
        and entity not in declared.quotas
        and declared.owns(entity)
        and adopting.selection.covers(label(entity))
    }
    return Discovered(ClientQuotas(found, declared.scope), observed)


KIND: Kind[ClientQuotas, ObservedQuotas] = Kind(
    name=NAME,
    schema="clientquota.schema.json",
    label=("client quota", "client quotas"),
    load=spec.load,
    count=lambda desired: len(desired.quotas),
    spec_fingerprint=_spec_fingerprint,
    fingerprint=_fingerprint,
    apply=deferred("reconciler.kinds.client_quota.apply", "apply"),
    preflight=deferred("reconciler.kinds.client_quota.apply", "preflight"),
    to_documents=to_documents,
    discover=discover,
    file="quotas",
    **kind_parts(_observe, diff.diff, ObservedQuotas),
)
