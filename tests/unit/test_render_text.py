"""Terminal rendering: symbols, field diffs, friendly units, risks, colours and the summary."""

from __future__ import annotations

from reconciler.core.configs.topic import SPECIAL_VALUES
from reconciler.core.model import Action, Change, FieldDiff, Orphan, Plan, Risk
from reconciler.core.units import format_bytes, format_duration_ms
from reconciler.render import render_text, summarize

SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64
WEEK, DAY = 604_800_000, 86_400_000


def plan(
    *changes: Change, orphans: tuple[Orphan, ...] = (), warnings: tuple[str, ...] = ()
) -> Plan:
    return Plan("prod", SPECS, OBSERVED, changes, orphans, warnings)


def create(name: str) -> Change:
    return Change(
        "Topic",
        name,
        Action.CREATE,
        Risk.SAFE,
        (FieldDiff("partitions", None, 6), FieldDiff("replicationFactor", None, 2)),
    )


def grow(name: str) -> Change:
    return Change("Topic", name, Action.UPDATE, Risk.SAFE, (FieldDiff("partitions", 3, 6),))


def delete(name: str) -> Change:
    return Change(
        "Topic",
        name,
        Action.DELETE,
        Risk.DESTRUCTIVE,
        (FieldDiff("partitions", 3, None),),
        ("deleting a topic deletes its data",),
    )


def shrink(name: str) -> Change:
    return Change(
        "Topic",
        name,
        Action.UPDATE,
        Risk.IMPOSSIBLE,
        (FieldDiff("partitions", 6, 3, Risk.IMPOSSIBLE, "Kafka cannot remove partitions"),),
        ("create a new topic and migrate",),
    )


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_summary_line_is_exact_and_last() -> None:
    out = render_text(plan(create("a"), create("b"), grow("c")), color=False)
    assert lines_of(out)[-1] == "Plan: 2 to create, 1 to update, 0 to delete."
    assert out.endswith("\n")


def test_summary_appends_impossible_and_orphaned_only_when_nonzero() -> None:
    orphan = Orphan("Topic", "legacy", "in no spec")
    out = render_text(plan(grow("a"), shrink("b"), orphans=(orphan, orphan)), color=False)
    # the blocked update is counted as impossible, not as an update that will happen
    expected = "Plan: 0 to create, 1 to update, 0 to delete, 1 impossible, 2 orphaned."
    assert lines_of(out)[-1] == expected
    replace = Change("Topic", "r", Action.REPLACE, Risk.DESTRUCTIVE, ())
    assert lines_of(render_text(plan(replace), color=False))[-1] == (
        "Plan: 0 to create, 0 to update, 0 to delete, 1 to replace."
    )


def test_empty_plan_says_no_changes() -> None:
    out = render_text(plan(), color=False)
    assert lines_of(out) == ["Environment: prod", "", "No changes. The cluster matches the specs."]


def test_one_symbol_per_change_and_blocked_wins_over_action() -> None:
    replace = Change("Topic", "r", Action.REPLACE, Risk.DESTRUCTIVE, ())
    out = render_text(plan(create("c"), grow("u"), delete("d"), replace, shrink("x")), color=False)
    headers = [line for line in lines_of(out) if line.startswith("  ") and " Topic " in line]
    assert headers == [
        "  + Topic c",
        "  ~ Topic u",
        "  - Topic d (destructive)",
        "  -/+ Topic r (destructive)",
        "  ! Topic x (update, impossible)",
    ]


def test_field_diffs_are_indented_under_their_change() -> None:
    out = lines_of(render_text(plan(create("c"), grow("u"), delete("d")), color=False))
    assert out[out.index("  + Topic c") + 1 : out.index("  + Topic c") + 3] == [
        "      partitions: 6",
        "      replicationFactor: 2",
    ]
    assert out[out.index("  ~ Topic u") + 1] == "      partitions: 3 -> 6"
    assert out[out.index("  - Topic d (destructive)") + 1] == "      partitions: 3"


def test_unset_before_value() -> None:
    change = Change(
        "Topic", "t", Action.UPDATE, Risk.SAFE, (FieldDiff("config.compression.type", None, "lz4"),)
    )
    out = render_text(plan(change), color=False)
    assert "      config.compression.type: (unset) -> lz4\n" in out


def test_unit_values_show_raw_and_friendly_forms() -> None:
    change = Change(
        "Topic",
        "t",
        Action.UPDATE,
        Risk.DESTRUCTIVE,
        (
            FieldDiff("config.retention.ms", str(WEEK), str(DAY), Risk.DESTRUCTIVE, "shorter"),
            FieldDiff("config.retention.bytes", "1073741824", "-1"),
        ),
    )
    out = render_text(plan(change), color=False)
    week, day = format_duration_ms(WEEK), format_duration_ms(DAY)
    assert (
        f"      config.retention.ms: {WEEK} ({week}) -> {DAY} ({day})  [destructive: shorter]\n"
        in out
    )
    gib = format_bytes(1_073_741_824)
    assert f"      config.retention.bytes: 1073741824 ({gib}) -> -1 (unlimited)\n" in out


def test_special_values_carry_their_meaning_from_the_catalog() -> None:
    long_max = str(2**63 - 1)
    change = Change(
        "Topic",
        "t",
        Action.UPDATE,
        Risk.SAFE,
        (
            FieldDiff("config.local.retention.ms", "-2", "3600000"),
            FieldDiff("config.max.compaction.lag.ms", "86400000", long_max),
        ),
    )
    out = render_text(plan(change), color=False)
    same = SPECIAL_VALUES["local.retention.ms"]["-2"]
    no_limit = SPECIAL_VALUES["max.compaction.lag.ms"][long_max]
    hour, day = format_duration_ms(3_600_000), format_duration_ms(DAY)
    assert f"config.local.retention.ms: -2 ({same}) -> 3600000 ({hour})\n" in out
    assert f"config.max.compaction.lag.ms: {DAY} ({day}) -> {long_max} ({no_limit})\n" in out


def test_values_without_unit_are_raw() -> None:
    change = Change(
        "Topic", "t", Action.UPDATE, Risk.SAFE, (FieldDiff("config.min.insync.replicas", "1", "2"),)
    )
    assert "config.min.insync.replicas: 1 -> 2\n" in render_text(plan(change), color=False)


def test_risk_and_reasons_are_shown_for_risky_changes() -> None:
    out = render_text(plan(delete("d"), shrink("x")), color=False)
    assert "      reason: deleting a topic deletes its data\n" in out
    assert "      partitions: 6 -> 3  [impossible: Kafka cannot remove partitions]\n" in out
    assert "      reason: create a new topic and migrate\n" in out


def test_a_reason_repeated_by_a_field_is_printed_once() -> None:
    why = "shrinking retention deletes data"
    change = Change(
        "Topic",
        "t",
        Action.UPDATE,
        Risk.DESTRUCTIVE,
        (FieldDiff("config.retention.ms", str(WEEK), str(DAY), Risk.DESTRUCTIVE, why),),
        (why,),
    )
    assert render_text(plan(change), color=False).count(why) == 1


def test_orphans_and_warnings_have_their_own_sections() -> None:
    out = lines_of(
        render_text(
            plan(orphans=(Orphan("Topic", "legacy.events", "matches legacy.*"),), warnings=("w1",)),
            color=False,
        )
    )
    start = out.index("Orphans (managed resources in no spec):")
    assert out[start + 1] == "  * Topic legacy.events: matches legacy.*"
    assert out[out.index("Warnings:") + 1] == "  * w1"
    assert out[-1] == "Plan: 0 to create, 0 to update, 0 to delete, 1 orphaned."


def test_no_colour_codes_unless_asked() -> None:
    everything = plan(create("c"), grow("u"), delete("d"), shrink("x"))
    assert "\x1b" not in render_text(everything, color=False)
    out = render_text(everything, color=True)
    assert "\x1b[32m+ Topic c\x1b[0m" in out
    assert "\x1b[33m~ Topic u\x1b[0m" in out
    assert "\x1b[31m- Topic d (destructive)\x1b[0m" in out
    assert "\x1b[1;31m! Topic x (update, impossible)\x1b[0m" in out


def test_control_characters_in_reasons_cannot_inject_escapes_or_lines() -> None:
    change = Change(
        "Topic", "t", Action.DELETE, Risk.DESTRUCTIVE, (), ("\x1b[2Jcleared\nPlan: fake",)
    )
    out = render_text(plan(change), color=False)
    assert "\x1b" not in out
    assert "      reason: \\x1b[2Jcleared\\nPlan: fake\n" in out
    assert lines_of(out)[-1] == "Plan: 0 to create, 0 to update, 1 to delete."


def test_sensitive_values_never_shown() -> None:
    """Render masks what the kind marks (any field name), and both sides of a half-masked
    diff; it does not guess from names or catalogs."""
    change = Change(
        "Topic",
        "t",
        Action.UPDATE,
        Risk.SAFE,
        (
            FieldDiff("config.fake.secret", "old-secret-1", "new-secret-1", sensitive=True),
            FieldDiff("config.other", "(sensitive)", "new-secret-2"),
            FieldDiff("config.ssl.key.password", None, "new-secret-3", sensitive=True),
            FieldDiff("users.app.password", "old-secret-4", None, sensitive=True),
        ),
    )
    out = render_text(plan(change), color=False)
    assert "secret-" not in out
    assert "config.fake.secret: (sensitive) -> (sensitive)\n" in out
    assert "config.other: (sensitive) -> (sensitive)\n" in out
    assert "config.ssl.key.password: (unset) -> (sensitive)\n" in out
    assert "users.app.password: (sensitive) -> (unset)\n" in out


def test_summary_counts_partition_the_changes() -> None:
    changes = (create("a"), grow("b"), delete("c"), shrink("d"), shrink("e"))
    summary = summarize(plan(*changes, orphans=(Orphan("Topic", "o", "r"),)))
    assert summary.as_dict() == {
        "create": 1,
        "update": 1,
        "delete": 1,
        "replace": 0,
        "orphans": 1,
        "impossible": 2,
        "destructive": 1,
    }
