"""The ScramUser kind: self-managed credentials and MSK's secrets, planned purely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.clients.access import ScramCredential
from reconciler.core.errors import SpecError
from reconciler.core.model import Action, Risk
from reconciler.engine.load import load
from reconciler.kinds.base import Context
from reconciler.kinds.scram_user.apply import preflight
from reconciler.kinds.scram_user.diff import diff
from reconciler.kinds.scram_user.model import ObservedScram, ScramUsers, Secret
from tests.unit.test_load import ENV as LOADED_ENV

ENV = (
    LOADED_ENV
    + """\
  access: {manage: ["User:app-*"]}
  policy: {allowAccessRemoval: %s}
%s"""
)
MSK = "  msk: {region: eu-central-1, clusterName: prod}\n"
USER = """\
apiVersion: reconciler/v1
kind: ScramUser
metadata: {name: app-orders}
spec:
  %s
"""
NOW = Context(datetime(2026, 1, 1, tzinfo=UTC))
ARN = "arn:aws:secretsmanager:eu-central-1:111122223333:secret:AmazonMSK_app-orders-AbCdEf"


def users(tmp_path: Path, body: str, *, msk: bool = False, allow: bool = False) -> ScramUsers:
    root = tmp_path / "test"
    root.mkdir(exist_ok=True)
    (root / "environment.yaml").write_text(ENV % (str(allow).lower(), MSK if msk else ""))
    (root / "users.yaml").write_text(USER % body)
    desired: ScramUsers = load(root).kinds["ScramUser"]
    return desired


def problems(tmp_path: Path, body: str, *, msk: bool = False) -> str:
    with pytest.raises(SpecError) as caught:
        users(tmp_path, body, msk=msk)
    return "\n".join(str(p) for p in caught.value.problems)


def test_a_new_user_is_created_from_its_variable_and_never_its_value(tmp_path: Path) -> None:
    desired = users(tmp_path, "password: ${APP_ORDERS_PASSWORD}")
    plan = diff(desired, ObservedScram(), NOW)
    [change] = plan.changes
    assert change.action is Action.CREATE and change.operation == "AlterUserScramCredentials"
    assert {d.field: d.after for d in change.diff} == {
        "mechanism": "SCRAM-SHA-512",
        "iterations": 4096,
        "password": "${APP_ORDERS_PASSWORD}",
    }
    assert any("a changed password cannot be seen" in w for w in plan.warnings)


def test_passwords_are_references_only(tmp_path: Path) -> None:
    found = problems(tmp_path, "password: hunter2-literal")
    assert "users.yaml:5:" in found and "password" in found


def test_a_new_iteration_count_sets_the_password_again(tmp_path: Path) -> None:
    desired = users(tmp_path, "password: ${P}\n  iterations: 8192")
    live = ObservedScram((ScramCredential("app-orders", "SCRAM-SHA-512", 4096),))
    [change] = diff(desired, live, NOW).changes
    assert change.action is Action.UPDATE and change.risk is Risk.DISRUPTIVE
    assert {d.field: (d.before, d.after) for d in change.diff}["password"] == ("(set)", "${P}")
    same = ObservedScram((ScramCredential("app-orders", "SCRAM-SHA-512", 8192),))
    assert not diff(desired, same, NOW).changes  # nothing to see: idempotent


def test_managed_users_in_no_spec_are_kept_or_removed_by_policy(tmp_path: Path) -> None:
    live = ObservedScram(
        (
            ScramCredential("app-old", "SCRAM-SHA-256", 4096),
            ScramCredential("someone-else", "SCRAM-SHA-512", 4096),  # not managed
        )
    )
    kept = diff(users(tmp_path, "password: ${P}"), live, NOW)
    assert [o.name for o in kept.orphans] == ["app-old"]
    removed = diff(users(tmp_path, "password: ${P}", allow=True), live, NOW)
    gone = [c for c in removed.changes if c.action is Action.DELETE]
    assert [(c.name, c.risk, c.diff[0].field) for c in gone] == [
        ("app-old", Risk.DESTRUCTIVE, "remove.SCRAM-SHA-256")
    ]


def test_msk_rules_for_secrets(tmp_path: Path) -> None:
    assert "only secrets whose name starts with AmazonMSK_" in problems(
        tmp_path, "awsSecretsManager: {name: orders}", msk=True
    )
    assert "names no MSK cluster" in problems(tmp_path, "awsSecretsManager: {name: AmazonMSK_x}")
    assert "MSK makes SCRAM users from Secrets Manager secrets" in problems(
        tmp_path, "password: ${P}", msk=True
    )
    desired = users(tmp_path, "awsSecretsManager: {name: AmazonMSK_app-orders}", msk=True)
    missing = diff(desired, ObservedScram(msk=True), NOW).changes[0]
    assert missing.blocked and "has no secret" in missing.reasons[0]
    default = Secret(ARN, "AmazonMSK_app-orders", "alias/aws/secretsmanager")
    plain = diff(desired, ObservedScram(secrets=(default,), msk=True), NOW).changes[0]
    assert plain.blocked and "Secrets Manager's default key" in plain.reasons[0]
    good = Secret(ARN, "AmazonMSK_app-orders", "arn:aws:kms:eu-central-1:1:key/k")
    [change] = diff(desired, ObservedScram(secrets=(good,), msk=True), NOW).changes
    assert change.operation == "BatchAssociateScramSecret" and change.diff[0].after == ARN
    done = ObservedScram(associated=(ARN,), secrets=(good,), msk=True)
    assert not diff(desired, done, NOW).changes


def test_only_this_environments_secrets_are_disassociated(tmp_path: Path) -> None:
    desired = users(tmp_path, "awsSecretsManager: {name: AmazonMSK_app-orders}", msk=True)
    desired = ScramUsers({}, desired.scope.__class__(("User:app-*",), allow_removal=True))
    others = ARN.replace("app-orders", "team-b")
    live = ObservedScram(associated=(ARN, others), msk=True)
    [change] = diff(desired, live, NOW).changes
    assert change.operation == "BatchDisassociateScramSecret"
    assert change.diff[0].before == ARN  # team-b's secret is never named


def test_apply_refuses_to_start_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_ORDERS_PASSWORD", raising=False)
    desired = users(tmp_path, "password: ${APP_ORDERS_PASSWORD}")
    changes = diff(desired, ObservedScram(), NOW).changes
    [refusal] = preflight(None, changes)  # type: ignore[arg-type]
    assert "${APP_ORDERS_PASSWORD} is not set" in refusal.reason
    monkeypatch.setenv("APP_ORDERS_PASSWORD", "s3cret-value")
    assert preflight(None, changes) == []  # type: ignore[arg-type]
