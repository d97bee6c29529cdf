"""The Acl kind: principal-centric specs expanded into bindings, ownership, removal. Pure."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.clients.access import AclEntry
from reconciler.core.errors import SpecError
from reconciler.core.model import Action, Risk
from reconciler.engine.load import load
from reconciler.kinds.acl.apply import entry
from reconciler.kinds.acl.diff import diff
from reconciler.kinds.acl.kind import KIND
from reconciler.kinds.acl.model import Acls, ObservedAcls
from reconciler.kinds.base import Context, Loading
from reconciler.specs.yaml_source import parse_documents
from tests.unit.test_load import ENV as LOADED_ENV

ENV = (
    LOADED_ENV
    + """\
  access: {manage: ["User:orders-*"], ignore: ["User:orders-legacy"]}
  policy: {allowAccessRemoval: %s}
"""
)
ORDERS = """\
apiVersion: reconciler/v1
kind: Acl
metadata: {name: orders-service}
spec:
  principal: User:orders-service
  topics:
    - {name: orders, access: [read, write]}
    - {prefix: "orders.", access: [read]}
  groups:
    - {name: orders-service}
  acls:
    - resource: {type: cluster}
      operations: [IdempotentWrite]
    - resource: {type: topic, name: payments}
      operations: [DescribeConfigs]
      type: deny
"""
NOW = Context(datetime(2026, 1, 1, tzinfo=UTC))


def acls(tmp_path: Path, spec: str = ORDERS, allow: bool = False) -> Acls:
    root = tmp_path / "test"
    root.mkdir(exist_ok=True)
    (root / "environment.yaml").write_text(ENV % str(allow).lower())
    (root / "acls.yaml").write_text(textwrap.dedent(spec))
    desired: Acls = load(root).kinds["Acl"]
    return desired


def binding(principal: str, kind: str, name: str, op: str, **kw: str) -> AclEntry:
    return AclEntry(
        principal, kind, name, kw.get("pattern", "LITERAL"), op, kw.get("permission", "ALLOW")
    )


def test_read_and_write_expand_as_strimzi_and_julieops_do(tmp_path: Path) -> None:
    desired = acls(tmp_path)
    app = "User:orders-service"
    assert set(desired.bindings) == {
        binding(app, "TOPIC", "orders", "READ"),
        binding(app, "TOPIC", "orders", "WRITE"),
        binding(app, "TOPIC", "orders", "DESCRIBE"),
        binding(app, "TOPIC", "orders.", "READ", pattern="PREFIXED"),
        binding(app, "TOPIC", "orders.", "DESCRIBE", pattern="PREFIXED"),
        binding(app, "GROUP", "orders-service", "READ"),
        binding(app, "CLUSTER", "kafka-cluster", "IDEMPOTENT_WRITE"),
        binding(app, "TOPIC", "payments", "DESCRIBE_CONFIGS", permission="DENY"),
    }


def test_a_plan_creates_what_is_missing_and_touches_no_other_principal(tmp_path: Path) -> None:
    desired = acls(tmp_path)
    app = "User:orders-service"
    live = ObservedAcls(
        (
            binding(app, "TOPIC", "orders", "READ"),
            binding("User:billing", "TOPIC", "orders", "READ"),  # not managed
            binding("User:orders-legacy", "TOPIC", "orders", "WRITE"),  # ignored
        )
    )
    plan = diff(desired, live, NOW)
    assert len(plan.changes) == 7 and not plan.orphans
    assert {c.action for c in plan.changes} == {Action.CREATE}
    assert all(c.name.startswith(app) for c in plan.changes)
    deny = [c for c in plan.changes if "DENY" in c.name]
    assert deny[0].risk is Risk.DISRUPTIVE and "a DENY wins over every ALLOW" in deny[0].reasons[0]
    # the change carries the binding itself: apply (also of a saved plan) writes exactly it
    assert {entry(c) for c in plan.changes} == set(desired.bindings) - set(live.bindings)


def test_removal_is_an_orphan_without_permission_and_destructive_with_it(
    tmp_path: Path,
) -> None:
    extra = binding("User:orders-audit", "TOPIC", "orders", "READ")  # matches access.manage
    live = ObservedAcls((*acls(tmp_path).bindings, extra))
    kept = diff(acls(tmp_path), live, NOW)
    assert not kept.changes
    assert [o.name for o in kept.orphans] == ["User:orders-audit ALLOW READ topic:orders from *"]
    assert "policy.allowAccessRemoval is off" in kept.orphans[0].reason
    removed = diff(acls(tmp_path, allow=True), live, NOW)
    [change] = removed.changes
    assert change.action is Action.DELETE and change.risk is Risk.DESTRUCTIVE
    assert "User:orders-audit loses READ on topic orders" in change.reasons[0]
    assert entry(change) == extra


def test_wildcards_are_flagged(tmp_path: Path) -> None:
    spec = ORDERS.replace("{name: orders, access", "{name: '*', access")
    everyone = spec.replace("principal: User:orders-service", "principal: 'User:*'")
    plan = diff(acls(tmp_path, everyone), ObservedAcls(), NOW)
    assert any("User:* is every principal" in w for w in plan.warnings)
    assert any("topic `*` is every one" in w for w in plan.warnings)


def test_problems_name_the_place(tmp_path: Path) -> None:
    ignored = ORDERS.replace("principal: User:orders-service", "principal: User:orders-legacy")
    other = ORDERS.replace("{type: cluster}", "{type: cluster, name: other}")
    found = []
    for spec in (ignored, other):
        with pytest.raises(SpecError) as caught:
            acls(tmp_path, spec)
        found += [str(p) for p in caught.value.problems]
    assert found[0].endswith(
        "acls.yaml:5:14: spec.principal: User:orders-legacy matches access.ignore (an ignored "
        "principal is never changed: remove the document or the pattern)"
    )
    assert "acls.yaml:12:17: spec.acls.0.resource: the cluster resource is named" in found[1]


def test_show_writes_documents_that_load_to_the_same_bindings(tmp_path: Path) -> None:
    import yaml

    desired = acls(tmp_path)
    text = yaml.safe_dump_all(KIND.to_documents(desired, True))
    documents, problems = parse_documents(text, "shown.yaml")
    assert not problems
    again, found = KIND.load(documents, Loading(None, None))
    assert not found and again.bindings == desired.bindings
