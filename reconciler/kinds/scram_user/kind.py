"""The ScramUser kind, as the engine sees it."""

from __future__ import annotations

from typing import Any

from reconciler.core.record import encode
from reconciler.kinds.access import kind_parts
from reconciler.kinds.base import Kind, SpecDocument, deferred
from reconciler.kinds.scram_user import diff, spec
from reconciler.kinds.scram_user.model import KIND as NAME
from reconciler.kinds.scram_user.model import ObservedScram, ScramUsers
from reconciler.specs.documents import document

#: What reaches the cluster, imported when first used (`validate` never does).
_observe = deferred("reconciler.kinds.scram_user.apply", "observe")


def _spec_fingerprint(desired: ScramUsers) -> object:
    """Names, mechanisms, iterations and the variables' names: never a password."""
    return {
        "scope": desired.scope.fingerprint(),
        "users": encode(
            {n: {**u.__dict__, "location": None} for n, u in sorted(desired.users.items())}
        ),
    }


def _fingerprint(desired: ScramUsers, observed: ObservedScram) -> object:
    return {
        "credentials": encode([c for c in observed.credentials if desired.owns(c.user)]),
        "associated": sorted(observed.associated),
        "secrets": encode(sorted(observed.secrets, key=lambda s: s.arn)),
    }


def to_documents(desired: ScramUsers, readable: bool) -> list[SpecDocument]:
    documents = []
    for name, user in sorted(desired.users.items()):
        body: dict[str, Any] = {"mechanism": user.mechanism}
        if user.secret is not None:
            key = "arn" if user.secret.startswith("arn:") else "name"
            body["awsSecretsManager"] = {key: user.secret}
        else:
            body |= {"iterations": user.iterations, "password": user.password}
        documents.append(document(NAME, name, body))
    return documents


KIND: Kind[ScramUsers, ObservedScram] = Kind(
    name=NAME,
    schema="scramuser.schema.json",
    label=("SCRAM user", "SCRAM users"),
    load=spec.load,
    count=lambda desired: len(desired.users),
    spec_fingerprint=_spec_fingerprint,
    fingerprint=_fingerprint,
    apply=deferred("reconciler.kinds.scram_user.apply", "apply"),
    preflight=deferred("reconciler.kinds.scram_user.apply", "preflight"),
    to_documents=to_documents,
    file="users",
    variables=frozenset({("spec", "password")}),
    **kind_parts(_observe, diff.diff, ObservedScram),
)
