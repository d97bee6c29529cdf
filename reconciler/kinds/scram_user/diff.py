"""Declared vs live SCRAM users -> changes. Pure.

Self-managed: a credential per (user, mechanism) with its iteration count; a password is
set when the credential is made or its iterations change (the broker keeps a salted hash,
so that is also the only way a rotation can be asked for and seen). MSK: a user is its
secret's association with the cluster; only this environment's secrets are associated or
disassociated, one at a time by name, never by replacing the cluster's list.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.changes import make_change
from reconciler.core.model import Action, Change, FieldDiff, Orphan, Risk
from reconciler.kinds.access import removal
from reconciler.kinds.base import Context, KindPlan
from reconciler.kinds.scram_user.model import (
    DEFAULT_KEY,
    ITERATIONS,
    KIND,
    MECHANISM,
    MSK_USER_LIMIT,
    PASSWORD,
    REMOVE,
    SECRET,
    ObservedScram,
    ScramUsers,
    Secret,
    UserSpec,
    secret_name,
    secret_user,
)

UNSEEN = (
    "the broker keeps only a salted hash, so a changed password cannot be seen: to rotate, "
    "change the password variable's value and spec.iterations together"
)
SET = "(set)"  # what a plan says of a password the broker has: never the value


def _self_managed(
    spec: UserSpec, live: Mapping[str, int], desired: ScramUsers
) -> tuple[list[Change], list[Orphan]]:
    diffs: list[FieldDiff] = []
    reasons = []
    current = live.get(spec.mechanism)
    if current is None:
        diffs += [
            FieldDiff(MECHANISM, None, spec.mechanism),
            FieldDiff(ITERATIONS, None, spec.iterations),
            FieldDiff(PASSWORD, None, spec.password),
        ]
    elif current != spec.iterations:
        diffs += [
            FieldDiff(MECHANISM, spec.mechanism, spec.mechanism),
            FieldDiff(ITERATIONS, current, spec.iterations),
            FieldDiff(PASSWORD, SET, spec.password, Risk.DISRUPTIVE),
        ]
        reasons.append(
            "the password is set again (from the variable, as it is when apply runs): "
            "clients still using an old one fail at their next login"
        )
    orphans = []
    for mechanism, iterations in sorted(live.items()):
        if mechanism == spec.mechanism:
            continue
        found = removal(
            desired.scope,
            KIND,
            f"{spec.name} ({mechanism})",
            (FieldDiff(REMOVE + mechanism, iterations, None, Risk.DESTRUCTIVE),),
            f"clients logging in as {spec.name} with {mechanism} are refused",
        )
        if isinstance(found, Orphan):
            orphans.append(found)
        else:
            diffs += found.diff
            reasons += found.reasons
    if not diffs:
        return [], orphans
    action = Action.CREATE if not live else Action.UPDATE
    operation = "AlterUserScramCredentials"
    return [
        make_change(KIND, spec.name, action, diffs, operation=operation, reasons=reasons)
    ], orphans


def _find(secrets: tuple[Secret, ...], name_or_arn: str) -> Secret | None:
    for secret in secrets:
        if name_or_arn in (secret.arn, secret.name):
            return secret
    return None


def _associate(spec: UserSpec, observed: ObservedScram) -> Change | None:
    assert spec.secret is not None
    secret = _find(observed.secrets, spec.secret)
    if secret is not None and secret.arn in observed.associated:
        return None
    blockers = []
    if secret is None:
        blockers.append(
            f"Secrets Manager has no secret {spec.secret!r} in the cluster's region. Way "
            "out: create it (a customer-managed KMS key, the value "
            '{"username": ..., "password": ...}) in the cluster\'s account and region'
        )
    elif secret.kms_key_id in (None, DEFAULT_KEY):
        blockers.append(
            f"secret {secret.name} is encrypted with Secrets Manager's default key, which MSK "
            "cannot use. Way out: encrypt it with a customer-managed KMS key "
            "(`aws secretsmanager update-secret --kms-key-id ...`)"
        )
    target = secret.arn if secret is not None else spec.secret
    return make_change(
        KIND,
        spec.name,
        Action.CREATE,
        [FieldDiff(SECRET, None, target)],
        operation="BatchAssociateScramSecret",
        blockers=blockers,
    )


def diff(desired: ScramUsers, observed: ObservedScram, context: Context) -> KindPlan:
    changes: list[Change] = []
    orphans: list[Orphan] = []
    live: dict[str, dict[str, int]] = {}
    for credential in observed.credentials:
        live.setdefault(credential.user, {})[credential.mechanism] = credential.iterations
    for spec in desired.users.values():
        if spec.secret is not None:
            change = _associate(spec, observed)
            changes += [change] if change is not None else []
        else:
            made, kept = _self_managed(spec, live.get(spec.name, {}), desired)
            changes += made
            orphans += kept
    removals: list[tuple[str, list[FieldDiff], str]] = [
        (user, [FieldDiff(REMOVE + m, i, None) for m, i in sorted(mechanisms.items())],
         "AlterUserScramCredentials")
        for user, mechanisms in sorted(live.items())
        if user not in desired.users and desired.owns(user)
    ]  # fmt: skip
    for arn in sorted(observed.associated):
        user = secret_user(secret_name(arn))
        if user not in desired.users and desired.owns(user):
            removals.append((user, [FieldDiff(SECRET, arn, None)], "BatchDisassociateScramSecret"))
    for user, diffs, operation in removals:
        loses = f"clients logging in as {user} are refused"
        found = removal(desired.scope, KIND, user, diffs, loses, operation=operation)
        if isinstance(found, Orphan):
            orphans.append(found)
        else:
            changes.append(found)
    warnings = []
    if desired.self_managed:
        warnings.append(f"ScramUser passwords: {UNSEEN}")
    if observed.msk and len(observed.associated) + len(changes) > MSK_USER_LIMIT:
        warnings.append(f"MSK takes at most {MSK_USER_LIMIT} SCRAM users per cluster")
    return KindPlan(tuple(changes), tuple(orphans), tuple(warnings))
