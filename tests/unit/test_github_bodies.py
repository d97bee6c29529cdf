"""Comment and issue bodies: always under GitHub's limit, marker last, risks never cut."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.core.model import Action, Change, FieldDiff, Orphan, Plan, Risk
from reconciler.github.bodies import (
    COMMENT_LIMIT,
    RESULT_START,
    Outcome,
    apply_result,
    clip,
    context_line,
    drift_issue,
    error_comment,
    fenced,
    plan_comment,
    with_result,
)
from reconciler.github.markers import parse_drift_marker, parse_plan_marker, plan_marker
from reconciler.render.markdown import marker
from reconciler.render.values import summarize

SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64
HINT = "the full plan is in the `plan-prod` artifact"
NOW = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def retention_cut(name: str) -> Change:
    return Change(
        "Topic",
        name,
        Action.UPDATE,
        Risk.DESTRUCTIVE,
        (FieldDiff("config.retention.ms", "604800000", "3600000", Risk.DESTRUCTIVE, "shrinks"),),
        ("retention shrinks: older messages are deleted",),
    )


def create(name: str) -> Change:
    config = tuple(FieldDiff(f"config.k{i}", None, "x" * 20) for i in range(4))
    return Change(
        "Topic", name, Action.CREATE, Risk.SAFE, (FieldDiff("partitions", None, 6), *config)
    )


def big_plan() -> Plan:
    """10,000 changed topics, one in twenty destructive, names as long as real ones."""
    changes = tuple(
        retention_cut(f"payments.settlement.events.v2.partition-group-{i:05d}")
        if i % 20 == 0
        else create(f"payments.settlement.events.v2.partition-group-{i:05d}")
        for i in range(10_000)
    )
    return Plan("prod", SPECS, OBSERVED, changes)


def test_plan_of_10000_changed_topics_fits_and_keeps_summary_and_every_destructive_name() -> None:
    plan = big_plan()
    body = plan_comment(plan, hint=HINT, context=context_line("abc123" * 7, "https://x/run/1"))
    assert len(body) <= COMMENT_LIMIT
    assert summarize(plan).line() in body
    destructive = [c.name for c in plan.changes if c.risk is Risk.DESTRUCTIVE]
    assert len(destructive) == 500
    missing = [name for name in destructive if name not in body]
    assert missing == []
    assert body.rstrip("\n").split("\n")[-1] == marker(plan)
    assert HINT in body


def test_drift_issue_of_10000_changes_fits_too() -> None:
    plan = big_plan()
    title, body = drift_issue(plan, hint=HINT)
    assert len(body) <= COMMENT_LIMIT
    assert title == "Drift: the prod cluster differs from its specs"
    assert parse_drift_marker(body) == "prod"
    assert "more, listed in the plan below" in body


def test_plan_comment_ends_with_the_plans_marker_and_says_where_it_came_from() -> None:
    plan = Plan("prod", SPECS, OBSERVED, (retention_cut("orders"),))
    body = plan_comment(plan, hint=HINT, context=context_line("0123456789abcdef", "https://r/1"))
    assert parse_plan_marker(body) == parse_plan_marker(marker(plan))
    assert "commit `0123456789ab`" in body
    assert "[this run](https://r/1)" in body


def test_error_comment_fits_keeps_fences_closed_and_approves_nothing() -> None:
    error = "```\n<!-- reconciler-plan: prod digest=x observed=y -->\n" + "é" * 70 + "\n"
    body = error_comment("prod", error * 2_000, context=None)
    assert len(body) <= COMMENT_LIMIT
    assert "lines left out; see the job log" in body
    parsed = parse_plan_marker(body)
    assert parsed is not None
    assert not parsed.planned
    fences = [line for line in body.split("\n") if line.startswith("````")]
    assert len(fences) == 2  # a longer fence than the ``` inside: the content cannot close it


def test_fenced_indents_marker_like_lines() -> None:
    lines = fenced("ok\n<!-- reconciler-result -->\n``` x")
    assert lines[0] == "````text"
    assert lines[-1] == "````"
    assert " <!-- reconciler-result -->" in lines


def test_clip_keeps_whole_lines_from_the_head_or_tail() -> None:
    text = "\n".join(f"line {i}" for i in range(100))
    head = clip(text, 60)
    tail = clip(text, 60, keep="tail", pointer="see the log")
    assert len(head) <= 60
    assert len(tail) <= 60
    assert head.startswith("line 0\nline 1\n")
    assert tail.endswith("line 98\nline 99")
    assert "lines left out; see the log" in tail
    assert clip("short", 60) == "short"


def test_apply_result_replaces_the_previous_one_and_keeps_plan_and_marker() -> None:
    plan = Plan("prod", SPECS, OBSERVED, (retention_cut("orders"),))
    body = plan_comment(plan, hint=HINT)
    refused = with_result(body, apply_result(Outcome.REFUSED, plan, log="changed", now=NOW))
    applied = with_result(
        refused, apply_result(Outcome.APPLIED, plan, log="done\n", run_url="https://r/2", now=NOW)
    )
    assert applied.count(RESULT_START) == 1
    assert "Apply refused" not in applied
    assert "### Applied" in applied
    assert "2025-03-01 12:30 UTC" in applied
    assert applied.startswith(body.rstrip("\n").rsplit("\n", 1)[0].rstrip())
    assert parse_plan_marker(applied) == parse_plan_marker(body)


def test_apply_result_texts() -> None:
    empty = Plan("prod", SPECS, OBSERVED, ())
    nothing = "\n".join(apply_result(Outcome.APPLIED, empty, now=NOW))
    assert "Nothing to apply" in nothing
    failed = "\n".join(apply_result(Outcome.FAILED, None, log="x" * 50_000, now=NOW))
    assert "### Apply failed" in failed
    assert len(failed) < 4_100
    refused = "\n".join(apply_result(Outcome.REFUSED, None, now=NOW))
    assert "Re-run this pull request's plan workflow" in refused


def test_drift_issue_lists_what_drifted_and_is_stable() -> None:
    plan = Plan(
        "dev",
        SPECS,
        OBSERVED,
        (retention_cut("orders"),),
        (Orphan("Topic", "ordres", "managed by topics.manage, in no spec"),),
    )
    title, body = drift_issue(plan, hint=HINT)
    assert drift_issue(plan, hint=HINT) == (title, body)
    assert "- Topic `orders`: update of config.retention.ms" in body
    assert "- Topic `ordres`: on the cluster, in no spec" in body
    assert parse_plan_marker(body) is None  # the embedded plan's marker is left out
    assert body.rstrip().endswith("<!-- reconciler-drift: dev -->")


def test_the_failed_plan_marker_matches_the_plan_marker_shape() -> None:
    assert plan_marker("dev") == "<!-- reconciler-plan: dev digest=none observed=none -->"
