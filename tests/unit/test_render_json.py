"""The plan JSON contract: shape, schema, exact round trip, version check, secret masking."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Action, Change, FieldDiff, Orphan, Plan, Risk
from reconciler.render import (
    plan_from_dict,
    plan_from_json,
    plan_schema,
    plan_to_dict,
    render_json,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json"
SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64


def sample() -> Plan:
    return Plan(
        environment="prod",
        specs_digest=SPECS,
        observed_digest=OBSERVED,
        changes=(
            Change(
                "Topic",
                "orders",
                Action.CREATE,
                Risk.SAFE,
                (
                    FieldDiff("partitions", None, 6),
                    FieldDiff("config.cleanup.policy", None, ("compact", "delete")),
                ),
            ),
            Change(
                "Topic",
                "payments",
                Action.UPDATE,
                Risk.DESTRUCTIVE,
                (
                    FieldDiff("partitions", 3, 6, Risk.DISRUPTIVE, "key ordering changes"),
                    FieldDiff(
                        "config.retention.ms", "604800000", "86400000", Risk.DESTRUCTIVE, "shorter"
                    ),
                    FieldDiff("config.secret", "(sensitive)", None, sensitive=True),
                ),
                ("shorter retention deletes data",),
            ),
            Change(
                "Topic",
                "audit",
                Action.UPDATE,
                Risk.IMPOSSIBLE,
                (FieldDiff("partitions", 6, 3, Risk.IMPOSSIBLE, "cannot remove partitions"),),
                ("make a new topic",),
            ),
            Change("Topic", "old", Action.DELETE, Risk.DESTRUCTIVE, (), ("data is lost",)),
            Change("Topic", "moved", Action.REPLACE, Risk.DESTRUCTIVE, ()),
        ),
        orphans=(Orphan("Topic", "legacy", "matches legacy.* but in no spec"),),
        warnings=("broker 2 is offline",),
    )


def validate(document: Any) -> None:
    Draft202012Validator(plan_schema()).validate(document)


def test_schema_is_a_valid_draft_2020_12_schema_with_the_published_id() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://github.com/msk-reconciler/schemas/plan.schema.json"
    assert schema == plan_schema()
    assert schema["$defs"]["action"]["enum"] == [a.value for a in Action]
    assert schema["$defs"]["risk"]["enum"] == [r.value for r in Risk]


def test_document_shape() -> None:
    document = plan_to_dict(sample(), tool_version="1.2.3")
    validate(document)
    assert list(document) == [
        "formatVersion",
        "tool",
        "environment",
        "digests",
        "summary",
        "changes",
        "orphans",
        "warnings",
    ]
    assert document["formatVersion"] == 2
    assert document["tool"] == {"name": "reconciler", "version": "1.2.3"}
    assert document["digests"] == {"specs": SPECS, "observed": OBSERVED}
    assert document["summary"] == {
        "create": 1,
        "update": 1,
        "delete": 1,
        "replace": 1,
        "orphans": 1,
        "impossible": 1,
        "destructive": 3,
    }
    payments = document["changes"][1]
    assert payments["action"] == "update"
    assert payments["risk"] == "destructive"
    assert payments["reasons"] == ["shorter retention deletes data"]
    assert payments["diff"][0] == {
        "field": "partitions",
        "before": 3,
        "after": 6,
        "risk": "disruptive",
        "reason": "key ordering changes",
    }
    assert document["changes"][0]["diff"][1]["after"] == ["compact", "delete"]
    assert document["orphans"] == [
        {"kind": "Topic", "name": "legacy", "reason": "matches legacy.* but in no spec"}
    ]
    assert document["warnings"] == ["broker 2 is offline"]


def test_round_trip_is_exact() -> None:
    original = sample()
    assert plan_from_dict(plan_to_dict(original, tool_version="x")) == original
    empty = Plan("dev", SPECS, OBSERVED, ())
    assert plan_from_dict(plan_to_dict(empty, tool_version="x")) == empty


def test_rendered_json_is_the_document_and_reads_back() -> None:
    text = render_json(sample(), tool_version="1.2.3")
    assert text.endswith("\n")
    loaded = json.loads(text)
    assert loaded == plan_to_dict(sample(), tool_version="1.2.3")
    assert plan_from_dict(loaded) == sample()
    assert json.loads(render_json(sample()))["tool"]["version"]  # defaults to this package


@pytest.mark.parametrize("version", [1, 3, 0, "2", None, True])
def test_unknown_format_version_is_refused_with_what_to_do(version: object) -> None:
    document = plan_to_dict(sample(), tool_version="x")
    document["formatVersion"] = version
    with pytest.raises(ReconcilerError, match=r"formatVersion .*re-run `reconciler plan`"):
        plan_from_dict(document)


def test_missing_format_version_is_refused() -> None:
    document = plan_to_dict(sample(), tool_version="x")
    del document["formatVersion"]
    with pytest.raises(ReconcilerError, match="formatVersion None"):
        plan_from_dict(document)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ReconcilerError, match="not a reconciler plan"):
        plan_from_dict([1, 2])


def test_plan_from_json_reads_rendered_text_and_refuses_garbage() -> None:
    assert plan_from_json(render_json(sample())) == sample()
    with pytest.raises(ReconcilerError, match="not valid JSON"):
        plan_from_json('{"formatVersion": 2,')


def _mutations() -> list[tuple[str, Any]]:
    """Damaged documents, each with the path the error must name."""
    cases: list[tuple[str, Any]] = []

    def case(path: str, edit: Any) -> None:
        document = plan_to_dict(sample(), tool_version="x")
        edit(document)
        cases.append((path, document))

    case("changes/2/action", lambda d: d["changes"][2].update(action="explode"))
    case("changes/0/risk", lambda d: d["changes"][0].update(risk="risky"))
    case("changes/1/diff/0/risk", lambda d: d["changes"][1]["diff"][0].update(risk=None))
    case("changes/0", lambda d: d["changes"][0].update(extra=1))
    case("changes/0", lambda d: d["changes"][0].pop("reasons"))
    case("changes/1/diff/1/reason", lambda d: d["changes"][1]["diff"][1].update(reason=5))
    case("changes/3/name", lambda d: d["changes"][3].update(name=""))
    case("changes/1/reasons/0", lambda d: d["changes"][1]["reasons"].__setitem__(0, 7))
    case("digests/observed", lambda d: d["digests"].update(observed="md5:abc"))
    case("orphans/0", lambda d: d["orphans"][0].pop("reason"))
    case("warnings", lambda d: d.update(warnings="one"))
    case("(top level)", lambda d: d.update(comment="hi"))
    case("tool/name", lambda d: d["tool"].update(name="terraform"))
    case("summary", lambda d: d["summary"].pop("destructive"))
    return cases


@pytest.mark.parametrize(("path", "document"), _mutations())
def test_damaged_documents_are_refused_by_reader_and_schema_alike(path: str, document: Any) -> None:
    assert not Draft202012Validator(plan_schema()).is_valid(document)
    with pytest.raises(ReconcilerError, match=re.escape(f"not valid at {path}:")):
        plan_from_dict(document)


def test_sensitive_values_are_masked_and_absence_is_kept() -> None:
    plan = Plan(
        "prod",
        SPECS,
        OBSERVED,
        (
            Change(
                "Topic",
                "t",
                Action.UPDATE,
                Risk.SAFE,
                (
                    FieldDiff("config.other", "(sensitive)", "hunter2-secret"),
                    FieldDiff("config.ssl.key.password", None, "hunter3-secret", sensitive=True),
                ),
            ),
        ),
    )
    text = render_json(plan)
    assert "secret" not in text
    diff = json.loads(text)["changes"][0]["diff"]
    assert [(d["before"], d["after"]) for d in diff] == [
        ("(sensitive)", "(sensitive)"),
        (None, "(sensitive)"),
    ]
    validate(json.loads(text))


def test_values_that_are_not_json_are_a_programming_error() -> None:
    change = Change("Topic", "t", Action.UPDATE, Risk.SAFE, (FieldDiff("partitions", 1, {2}),))
    with pytest.raises(TypeError, match="Topic t partitions"):
        plan_to_dict(Plan("prod", SPECS, OBSERVED, (change,)), tool_version="x")


def big_plan(count: int) -> Plan:
    changes = tuple(
        Change(
            "Topic",
            f"team-{i % 50}.events-{i:05d}",
            Action.UPDATE,
            Risk.DESTRUCTIVE if i % 10 == 0 else Risk.SAFE,
            (
                FieldDiff("partitions", 3, 6),
                FieldDiff("config.retention.ms", "604800000", "86400000", Risk.DESTRUCTIVE, "why"),
            ),
            ("shorter retention deletes data",),
        )
        for i in range(count)
    )
    return Plan("prod", SPECS, OBSERVED, changes)


def test_ten_thousand_changes_round_trip() -> None:
    """(How fast: the render row of `python3 -m bench.run`.)"""
    plan = big_plan(10_000)
    text = render_json(plan)
    document = json.loads(text)
    assert len(document["changes"]) == 10_000
    assert document["summary"]["destructive"] == 1_000
    assert plan_from_dict(document) == plan
