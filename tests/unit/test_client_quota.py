"""The ClientQuota kind: entities, units, risks and ownership, planned purely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reconciler.core.model import Action, Risk
from reconciler.engine.load import load
from reconciler.kinds.base import Context
from reconciler.kinds.client_quota.diff import diff
from reconciler.kinds.client_quota.model import (
    ClientQuotas,
    ObservedQuotas,
    QuotaEntry,
    entity_of,
    label,
)
from tests.unit.test_load import ENV as LOADED_ENV

ENV = (
    LOADED_ENV
    + """\
  access: {manage: ["User:app-*"], clientIds: ["batch-*"]}
"""
)
QUOTAS = """\
apiVersion: reconciler/v1
kind: ClientQuota
metadata: {name: app-orders}
spec:
  user: app-orders
  quotas: {producerByteRate: 1MiB, requestPercentage: 50}
---
apiVersion: reconciler/v1
kind: ClientQuota
metadata: {name: default-clients}
spec:
  clientId: <default>
  quotas: {consumerByteRate: 10MB}
"""
NOW = Context(datetime(2026, 1, 1, tzinfo=UTC))


def quotas(tmp_path: Path) -> ClientQuotas:
    root = tmp_path / "test"
    root.mkdir()
    (root / "environment.yaml").write_text(ENV)
    (root / "quotas.yaml").write_text(QUOTAS)
    desired: ClientQuotas = load(root).kinds["ClientQuota"]
    return desired


def test_entities_and_units(tmp_path: Path) -> None:
    desired = quotas(tmp_path)
    assert desired.quotas == {
        (("user", "app-orders"),): {"producer_byte_rate": 1048576.0, "request_percentage": 50.0},
        (("client-id", None),): {"consumer_byte_rate": 10_000_000.0},
    }
    for entity in (*desired.quotas, (("user", "a"), ("client-id", None))):
        assert entity_of(label(entity)) == entity  # a saved plan names its entity exactly
    assert label((("client-id", None),)) == "client-id=<default>"


def test_tighter_limits_are_disruptive_and_ownership_holds(tmp_path: Path) -> None:
    live = ObservedQuotas(
        (
            QuotaEntry("user=app-orders", {"producer_byte_rate": 2097152.0}),
            QuotaEntry("user=someone", {"producer_byte_rate": 1.0}),  # not managed
            QuotaEntry("client-id=batch-7", {"request_percentage": 10.0}),  # managed client id
        )
    )
    plan = diff(quotas(tmp_path), live, NOW)
    by_name = {c.name: c for c in plan.changes}
    app = by_name["user=app-orders"]
    assert app.action is Action.UPDATE and app.risk is Risk.DISRUPTIVE
    assert [(d.field, d.before, d.after) for d in app.diff] == [
        ("producerByteRate", 2097152, 1048576),
        ("requestPercentage", None, 50),
    ]
    assert by_name["client-id=<default>"].action is Action.CREATE
    assert "user=someone" not in by_name
    assert [o.name for o in plan.orphans] == ["client-id=batch-7"]
