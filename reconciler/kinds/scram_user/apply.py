"""Observe and write SCRAM users.

Self-managed: one DescribeUserScramCredentials for every user, one AlterUserScramCredentials
for every change, with each password read from its `${VAR}` only now (never kept in a plan).
MSK: ListScramSecrets and Secrets Manager's ListSecrets (metadata, never a value); then
BatchAssociateScramSecret / BatchDisassociateScramSecret with this environment's secrets
only, at most BATCH_LIMIT per call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.clients.access import ScramCredential, ScramUpsert
from reconciler.core.environment import Environment
from reconciler.core.errors import ApiError, ConnectionFailure, aws_failure
from reconciler.core.model import Change
from reconciler.kinds.base import ApplyOptions, Mode, Outcome, Refusal
from reconciler.kinds.scram_user.model import (
    BATCH_LIMIT,
    ITERATIONS,
    MECHANISM,
    PASSWORD,
    REMOVE,
    SECRET,
    SECRET_PREFIX,
    ObservedScram,
    ScramUsers,
    Secret,
)
from reconciler.specs.variables import expand

if TYPE_CHECKING:
    from reconciler.clients.session import Clients

_OPERATIONS = {
    "BatchAssociateScramSecret": "batch_associate_scram_secret",
    "BatchDisassociateScramSecret": "batch_disassociate_scram_secret",
}


def observe(
    clients: Clients, environment: Environment, desired: ScramUsers, mode: Mode
) -> ObservedScram:
    on_msk = environment.msk is not None
    credentials: tuple[ScramCredential, ...] = ()
    if desired.self_managed or (desired.scope.active and not on_msk):
        credentials = tuple(clients.kafka().scram_credentials())
    if not (desired.on_msk or (desired.scope.active and on_msk)):
        return ObservedScram(credentials)
    arn = clients.cluster_arn()
    try:
        pages = clients.msk().pages("list_scram_secrets", "SecretArnList", ClusterArn=arn)
        associated = tuple(str(secret) for secret in pages)
        listed = clients.secrets().pages(
            "list_secrets", "SecretList", Filters=[{"Key": "name", "Values": [SECRET_PREFIX]}]
        )
        secrets = tuple(Secret(s["ARN"], s["Name"], s.get("KmsKeyId")) for s in listed)
    except (ApiError, ConnectionFailure) as exc:
        raise aws_failure("reading the cluster's SCRAM secrets", exc) from exc
    return ObservedScram(credentials, associated, secrets, msk=True)


def _values(change: Change) -> dict[str, object]:
    return {d.field: d.after for d in change.diff}


def _password(reference: object, environ: dict[str, str] | None = None) -> tuple[str, list[str]]:
    return expand(str(reference), os.environ if environ is None else environ)


def preflight(clients: Clients, changes: Sequence[Change]) -> list[Refusal]:
    """Every password variable a write needs is set (checked before the first write)."""
    refusals = []
    for change in changes:
        reference = _values(change).get(PASSWORD)
        if reference is not None and _password(reference)[1]:
            refusals.append(
                Refusal(
                    change,
                    f"ScramUser {change.name}: {reference} is not set; "
                    "set it in the runner's environment (a CI secret)",
                )
            )
    return refusals


def apply(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    outcomes = []
    kafka = [c for c in changes if c.operation == "AlterUserScramCredentials"]
    if kafka:
        outcomes += _alter(clients, kafka, options)
    for operation, call in _OPERATIONS.items():
        mine = [c for c in changes if c.operation == operation]
        if mine:
            outcomes += _secrets(clients, mine, operation, call, options)
    return outcomes


def _alter(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    upserts, deletions = [], []
    for change in changes:
        values = _values(change)
        if values.get(MECHANISM) is not None:
            password = _password(values[PASSWORD])[0]
            upserts.append(
                ScramUpsert(
                    change.name, str(values[MECHANISM]), int(str(values[ITERATIONS])), password
                )
            )
        deletions += [
            (change.name, d.field.removeprefix(REMOVE))
            for d in change.diff
            if d.field.startswith(REMOVE)
        ]
    options.progress(f"setting {len(upserts)} and removing {len(deletions)} SCRAM credential(s)")
    results = clients.kafka().alter_scram(upserts, deletions)
    return [Outcome(c, results.get(c.name) is None, results.get(c.name) or "done") for c in changes]


def _secrets(
    clients: Clients, changes: Sequence[Change], operation: str, call: str, options: ApplyOptions
) -> list[Outcome]:
    """Only the named secrets, BATCH_LIMIT per call; MSK reports each one it did not take."""
    arn = clients.cluster_arn()
    by_secret: dict[str, Change] = {}
    for change in changes:
        secret = next(d for d in change.diff if d.field == SECRET)
        by_secret[str(secret.after if secret.after is not None else secret.before)] = change
    failed: dict[str, str] = {}
    names = list(by_secret)
    for start in range(0, len(names), BATCH_LIMIT):
        batch = names[start : start + BATCH_LIMIT]
        options.progress(f"{operation}: {len(batch)} secret(s)")
        try:
            answer = clients.msk().call(call, ClusterArn=arn, SecretArnList=batch)
        except (ApiError, ConnectionFailure) as exc:
            failed.update(dict.fromkeys(batch, str(exc)))
            continue
        for item in answer.get("UnprocessedScramSecrets") or ():
            failed[item.get("SecretArn", "")] = (
                f"{item.get('ErrorCode')}: {item.get('ErrorMessage')}"
            )
    return [Outcome(c, s not in failed, failed.get(s, "done")) for s, c in by_secret.items()]
