"""The PR comment: risks outside the fold, details folded, size limit, marker, safe markup."""

from __future__ import annotations

import re

import pytest

from reconciler.core.model import Action, Change, FieldDiff, Orphan, Plan, Risk
from reconciler.render import render_markdown, render_text

SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64
MARKER = f"<!-- reconciler-plan: prod digest={SPECS} observed={OBSERVED} -->"
HINT = "the full plan is in the job's plan.json artifact"


def plan(
    *changes: Change, orphans: tuple[Orphan, ...] = (), warnings: tuple[str, ...] = ()
) -> Plan:
    return Plan("prod", SPECS, OBSERVED, changes, orphans, warnings)


def update(name: str, risk: Risk = Risk.SAFE, reason: str = "retention shrinks") -> Change:
    return Change(
        "Topic",
        name,
        Action.UPDATE,
        risk,
        (
            FieldDiff("partitions", 3, 6),
            FieldDiff("config.retention.ms", "604800000", "86400000", risk, reason),
        ),
        (reason,) if risk is not Risk.SAFE else (),
    )


def blocked(name: str, reason: str = "Kafka cannot remove partitions") -> Change:
    return Change(
        "Topic",
        name,
        Action.UPDATE,
        Risk.IMPOSSIBLE,
        (FieldDiff("partitions", 6, 3, Risk.IMPOSSIBLE, reason),),
        ("create a new topic and migrate",),
    )


def check_structure(markdown: str) -> list[tuple[str, list[str]]]:
    """Every fence closes with the same length, <details> balance outside fences.

    Returns each fenced block as (info string, content lines).
    """
    blocks: list[tuple[str, list[str]]] = []
    fence: str | None = None
    opened = closed = 0
    for line in markdown.split("\n"):
        if fence is None:
            match = re.match(r"^(`{3,})(.*)$", line)
            if match:
                fence = match.group(1)
                blocks.append((match.group(2), []))
            else:
                opened += line.count("<details>")
                closed += line.count("</details>")
        elif line == fence:
            fence = None
        else:
            blocks[-1][1].append(line)
    assert fence is None, "a code fence is left open"
    assert opened == closed, "a <details> block is left open"
    return blocks


def outside_details(markdown: str) -> str:
    return markdown.split("<details>", 1)[0]


def test_layout_risks_outside_the_fold_details_inside() -> None:
    orphan = Orphan("Topic", "legacy.events", "matches legacy.*")
    changes = (update("safe-1"), update("shrink-1", Risk.DESTRUCTIVE), blocked("fewer-1"))
    out = render_markdown(plan(*changes, orphans=(orphan,), warnings=("broker 2 is offline",)))
    lines = out.split("\n")
    assert lines[0] == "## Reconciler plan for `prod`"
    assert lines[2] == "**Plan: 0 to create, 2 to update, 0 to delete, 1 impossible, 1 orphaned.**"
    head = outside_details(out)
    positions = [
        head.index("### Impossible changes (1)"),
        head.index("### Destructive changes (1)"),
        head.index("### Orphans (1)"),
        head.index("### Warnings (1)"),
    ]
    assert positions == sorted(positions)
    why = "create a new topic and migrate; Kafka cannot remove partitions"
    assert f"- Topic `fewer-1` (update): {why}" in head
    assert "- Topic `shrink-1` (update): retention shrinks" in head
    assert "- Topic `legacy.events`: matches legacy.\\*" in head
    assert "safe-1" not in head
    assert "<details><summary>Show 3 changes</summary>" in out
    ((info, content),) = check_structure(out)
    assert info == "diff"
    full_text = render_text(plan(*changes), color=False)
    # the fold holds the text rendering's change blocks, unindented and without colour
    assert "\n".join(content) in "\n".join(line[2:] for line in full_text.split("\n"))
    assert "~ Topic safe-1" in content
    assert "! Topic fewer-1 (update, impossible)" in content
    assert out.endswith(MARKER + "\n")


def test_no_changes() -> None:
    out = render_markdown(plan())
    assert "**No changes. The cluster matches the specs.**" in out
    assert "<details>" not in out
    assert out.endswith(MARKER + "\n")


def test_code_fences_survive_backticks_in_reasons() -> None:
    nasty = "run ```rm -rf``` and `this`"
    out = render_markdown(plan(update("t", Risk.DESTRUCTIVE, nasty)))
    blocks = check_structure(out)
    assert blocks[0][0] == "diff"
    assert any(nasty in line for line in blocks[0][1])  # shown verbatim inside the fence
    assert "````diff" in out


def test_free_text_is_escaped_outside_code() -> None:
    out = render_markdown(plan(update("t", Risk.DESTRUCTIVE, "<img src=x> *now* [x](y) `z`")))
    head = outside_details(out)
    assert not re.search(r"(?<!\\)[<>*\[\]`]", head.split("(update): ", 1)[1].split("\n")[0])
    assert "\\<img src=x\\> \\*now\\* \\[x\\](y) \\`z\\`" in head


def test_secrets_never_reach_the_comment() -> None:
    change = Change(
        "Topic",
        "t",
        Action.UPDATE,
        Risk.SAFE,
        (FieldDiff("config.ssl.key.password", "hunter2-secret", "hunter3-secret", sensitive=True),),
    )
    out = render_markdown(plan(change))
    assert "secret" not in out
    assert "config.ssl.key.password: (sensitive) -> (sensitive)" in out


def test_marker_cannot_be_closed_early_by_the_environment_name() -> None:
    out = render_markdown(Plan("a-->b", SPECS, OBSERVED, ()))
    assert out.endswith(f"<!-- reconciler-plan: a--&gt;b digest={SPECS} observed={OBSERVED} -->\n")


def ten_thousand(destructive_every: int, impossible_every: int) -> Plan:
    changes = []
    for i in range(10_000):
        name = f"team-{i % 50}.events-{i:05d}"
        if i % impossible_every == 0:
            changes.append(blocked(name, f"partitions of {name} cannot go from 6 to 3"))
        elif i % destructive_every == 0:
            changes.append(update(name, Risk.DESTRUCTIVE, f"retention of {name} shrinks to 1d"))
        else:
            changes.append(update(name))
    return plan(*changes)


def test_ten_thousand_changes_fit_with_every_risky_name() -> None:
    """(How fast: the render row of `python3 -m bench.run`.)"""
    big = ten_thousand(destructive_every=20, impossible_every=97)
    out = render_markdown(big)
    assert len(out) <= 60_000
    assert out.endswith(MARKER + "\n")
    head = outside_details(out)
    risky = [c.name for c in big.changes if c.risk in (Risk.DESTRUCTIVE, Risk.IMPOSSIBLE)]
    assert len(risky) > 500
    assert all(name in head for name in risky)
    ((_, content),) = check_structure(out)

    # truncated at a change boundary: the shown lines are a prefix of the full detail
    full = render_markdown(big, limit=10_000_000)
    ((_, full_content),) = check_structure(full)
    assert content == full_content[: len(content)]
    assert full_content[len(content)] == ""
    shown = sum(1 for line in content if line.startswith(("~ ", "! ")))
    assert shown > 0
    left = 10_000 - shown
    assert f"<details><summary>Show the first {shown} of 10000 changes</summary>" in out
    assert f"{left} changes not shown, to keep this comment under 60,000 characters; {HINT}." in out


def test_when_reasons_do_not_fit_names_still_do() -> None:
    long_reason = "retention shrinks and " * 40
    big = ten_thousand(destructive_every=4, impossible_every=1_000)
    big = plan(
        *(
            update(c.name, Risk.DESTRUCTIVE, long_reason) if c.risk is Risk.DESTRUCTIVE else c
            for c in big.changes
        )
    )
    out = render_markdown(big)
    assert len(out) <= 60_000
    head = outside_details(out)
    risky = [c.name for c in big.changes if c.risk in (Risk.DESTRUCTIVE, Risk.IMPOSSIBLE)]
    assert all(name in head for name in risky)
    assert long_reason.strip() not in head
    assert "Reasons are left out to fit this comment" in head
    assert out.endswith(MARKER + "\n")
    check_structure(out)


def test_ten_thousand_destructive_changes_keep_summary_marker_and_limit() -> None:
    big = plan(*(update(f"topic-{i:05d}", Risk.DESTRUCTIVE, "x" * 300) for i in range(10_000)))
    out = render_markdown(big)
    assert len(out) <= 60_000
    assert "**Plan: 0 to create, 10000 to update, 0 to delete.**" in out
    assert out.endswith(MARKER + "\n")
    check_structure(out)
    listed = re.findall(r"^topic-\d{5}$", out, flags=re.MULTILINE)
    assert listed == [f"topic-{i:05d}" for i in range(len(listed))]  # most important first
    assert f"{10_000 - len(listed)} more not listed; {HINT}." in out
    assert f"10000 changes not shown, to keep this comment under 60,000 characters; {HINT}." in out


@pytest.mark.parametrize("limit", [800, 1_500, 3_000, 10_000])
def test_never_over_the_limit_and_always_well_formed(limit: int) -> None:
    orphans = tuple(Orphan("Topic", f"orphan-{i}", "in no spec") for i in range(40))
    changes = [update(f"t-{i}", Risk.DESTRUCTIVE if i % 3 else Risk.SAFE) for i in range(60)]
    big = plan(*changes, blocked("b-1"), orphans=orphans, warnings=("w",) * 30)
    out = render_markdown(big, limit=limit, full_plan_hint="see plan.json")
    assert len(out) <= limit
    assert out.endswith(MARKER + "\n")
    assert "**Plan: 0 to create, 60 to update, 0 to delete, 1 impossible, 40 orphaned.**" in out
    assert "b-1" in out  # the impossible change is the last thing to go
    check_structure(out)


def test_a_limit_too_small_for_heading_and_marker_is_an_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        render_markdown(plan(update("t")), limit=100)


def test_orphan_reasons_go_before_destructive_reasons() -> None:
    orphans = tuple(Orphan("Topic", f"orphan-{i:04d}", "in no spec " * 5) for i in range(1_500))
    out = render_markdown(plan(update("shrink-1", Risk.DESTRUCTIVE), orphans=orphans))
    assert len(out) <= 60_000
    head = outside_details(out)
    assert "- Topic `shrink-1` (update): retention shrinks" in head
    assert "orphan-1499" in head
    assert "in no spec in no spec" not in head
    check_structure(out)
