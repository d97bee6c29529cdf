"""The ScramUser kind, as the engine sees it."""

from __future__ import annotations

from typing import Any

from reconciler.core.record import decode, encode
from reconciler.kinds.access import read_back
from reconciler.kinds.base import Kind, SpecDocument
from reconciler.kinds.scram_user import apply, diff, spec
from reconciler.kinds.scram_user.model import KIND as NAME
from reconciler.kinds.scram_user.model import ObservedScram, ScramUsers
from reconciler.specs.documents import document


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


def _load_observed(value: object, path: str) -> ObservedScram:
    observed: ObservedScram = decode(ObservedScram, value, path)
    return observed


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
    observe=apply.observe,
    diff=diff.diff,
    fingerprint=_fingerprint,
    apply=apply.apply,
    dump_observed=encode,
    load_observed=_load_observed,
    preflight=apply.preflight,
    verify=read_back(apply.observe, diff.diff),
    to_documents=to_documents,
    environment_section=lambda desired: desired.scope.environment_section(),
    file="users",
    variables=frozenset({("spec", "password")}),
)
