"""Pure diff and plan: phantom-diff freedom, ownership, and the risk of every kind of change."""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

import pytest

from reconciler.core.cluster import ClusterView
from reconciler.core.model import Action, Plan, Risk
from reconciler.core.ownership import matches
from reconciler.kinds.topic.diff import diff_topics
from reconciler.kinds.topic.model import (
    ObservedConfig,
    ObservedTopic,
    ObservedTopics,
    TopicNames,
    TopicPolicy,
    Topics,
    TopicSpec,
)
from tests.planning import BROKERS, desired_of, observed_of, plan_of


def env(manage: tuple[str, ...] = ("*",), allow_delete: bool = False) -> Topics:
    """The Environment's topic ownership and policy, with no topics declared yet."""
    return Topics({}, manage, policy=TopicPolicy(allow_delete=allow_delete))


def spec(name: str, partitions: int = 3, rf: int = 2, **config: str) -> TopicSpec:
    return TopicSpec(name, partitions, rf, {k.replace("_", "."): v for k, v in config.items()})


def live(name: str, partitions: int = 3, rf: int = 2, **configs: ObservedConfig) -> ObservedTopic:
    defaults = {
        "retention.ms": ObservedConfig("604800000", "DEFAULT_CONFIG"),
        "cleanup.policy": ObservedConfig("delete", "DEFAULT_CONFIG"),
        "min.insync.replicas": ObservedConfig("1", "DEFAULT_CONFIG"),
        "compression.type": ObservedConfig("producer", "DEFAULT_CONFIG"),
        "retention.bytes": ObservedConfig("-1", "DEFAULT_CONFIG"),
    }
    defaults.update({k.replace("_", "."): v for k, v in configs.items()})
    replicas = {p: tuple(range(1, rf + 1)) for p in range(partitions)}
    return ObservedTopic(name, partitions, rf, replicas, defaults)


def topics(*live_topics: ObservedTopic, **defaults: str) -> ObservedTopics:
    return ObservedTopics({t.name: t for t in live_topics}, defaults)


def plan_for(
    specs: list[TopicSpec], live_topics: list[ObservedTopic], environment: Topics | None = None
) -> Plan:
    owner = env() if environment is None else environment
    desired = replace(owner, topics={s.name: s for s in specs})
    return plan_of(desired_of(Topic=desired), observed_of(Topic=topics(*live_topics)))


def override(value: str, inherited: str | None = None) -> ObservedConfig:
    return ObservedConfig(value, "DYNAMIC_TOPIC_CONFIG", inherited=inherited)


def test_inherited_broker_values_never_show_as_drift() -> None:
    broker_default = ObservedConfig("86400000", "DYNAMIC_DEFAULT_BROKER_CONFIG")
    static = ObservedConfig("lz4", "STATIC_BROKER_CONFIG")
    plan = plan_for([spec("a")], [live("a", retention_ms=broker_default, compression_type=static)])
    assert plan.changes == ()


def test_declared_value_equal_to_inherited_value_is_no_change() -> None:
    plan = plan_for([spec("a", min_insync_replicas="1")], [live("a")])
    assert plan.changes == ()


def test_out_of_band_override_is_exactly_one_destructive_change() -> None:
    plan = plan_for([spec("a")], [live("a", retention_ms=override("3600000", "604800000"))])
    [change] = plan.changes
    [field] = change.diff
    assert (field.field, field.before, field.after) == ("config.retention.ms", "3600000", None)
    assert change.risk is Risk.DESTRUCTIVE
    assert "falls back to the inherited value 7d" in change.reasons[0]


def test_create_is_safe_and_lists_fields() -> None:
    plan = plan_for([spec("new", 6, 2, retention_ms="604800000")], [])
    [change] = plan.changes
    assert (change.action, change.risk) == (Action.CREATE, Risk.SAFE)
    assert {d.field: d.after for d in change.diff} == {
        "partitions": 6,
        "replicationFactor": 2,
        "config.retention.ms": "604800000",
    }


def test_partition_increase_is_disruptive_and_decrease_impossible() -> None:
    up = plan_for([spec("a", partitions=6)], [live("a", partitions=3)])
    assert up.changes[0].risk is Risk.DISRUPTIVE and not up.errors
    down = plan_for([spec("a", partitions=2)], [live("a", partitions=3)])
    assert down.changes[0].risk is Risk.IMPOSSIBLE
    assert down.errors and "Kafka cannot remove partitions" in down.errors[0].reasons[0]


def test_retention_shrink_and_policy_flip_are_destructive_growth_is_safe() -> None:
    shrink = plan_for([spec("a", retention_ms="86400000")], [live("a")])
    assert shrink.changes[0].risk is Risk.DESTRUCTIVE
    grow = plan_for([spec("a", retention_ms="1209600000")], [live("a")])
    assert grow.changes[0].risk is Risk.SAFE
    unlimited = plan_for([spec("a", retention_bytes="1073741824")], [live("a")])
    assert unlimited.changes[0].risk is Risk.DESTRUCTIVE  # -1 (unlimited) -> 1GiB
    flip = plan_for([spec("a", cleanup_policy="compact")], [live("a")])
    assert flip.changes[0].risk is Risk.DESTRUCTIVE


def test_orphans_reported_not_deleted_unless_allowed() -> None:
    topics = [live("keep"), live("stray"), live("__consumer_offsets"), live("_schemas")]
    kept = plan_for([spec("keep")], topics)
    assert [o.name for o in kept.orphans] == ["stray"] and kept.changes == ()
    allowed = plan_for([spec("keep")], topics, env(allow_delete=True))
    [delete] = allowed.changes
    assert (delete.name, delete.action, delete.risk) == ("stray", Action.DELETE, Risk.DESTRUCTIVE)


def test_unmanaged_topics_are_never_touched() -> None:
    plan = plan_for([spec("orders.a")], [live("orders.a"), live("other")], env(("orders.*",), True))
    assert plan.changes == () and plan.orphans == ()


def test_deleting_every_managed_topic_is_refused() -> None:
    plan = plan_for([], [live("a"), live("b")], env(allow_delete=True))
    assert len(plan.errors) == 2
    assert "refusing to delete every managed topic" in plan.errors[0].reasons[0]


def test_create_needing_more_brokers_or_colliding_is_impossible() -> None:
    plan = plan_for([spec("big", rf=4), spec("metrics_cpu")], [live("metrics.cpu")])
    reasons = {c.name: c.reasons for c in plan.errors}
    assert "needs at least 4 brokers; the cluster has 3" in reasons["big"][0]
    assert "collides with existing topic 'metrics.cpu'" in reasons["metrics_cpu"][0]


def test_a_create_colliding_with_a_topic_another_environment_owns_is_impossible() -> None:
    """The observation holds only the environment's own topics; the others are names, and
    a new name colliding with one of them is refused as if it were held."""
    desired = replace(env(("metrics_*",)), topics={"metrics_cpu": spec("metrics_cpu")})
    names = TopicNames.of(["metrics.cpu", "orders"])
    plan = diff_topics(desired, ObservedTopics({}, names=names), None)
    [change] = plan.changes
    assert change.risk is Risk.IMPOSSIBLE
    assert "collides with existing topic 'metrics.cpu'" in change.reasons[-1]
    assert plan.orphans == ()  # names alone are never orphans


PATTERNS = ("orders.*", "a?c", "[x-z]*q", "d[!e]f", "*", "", "a|b", "(x)", "e[]]g", "[")
NAMES = ("orders.eu", "orders", "abc", "ac", "yq", "zzq", "dff", "def", "a|b", "(x)", "e]g", "[")


@pytest.mark.parametrize("patterns", [(p,) for p in PATTERNS] + [PATTERNS[:3], PATTERNS[4:7]])
def test_the_compiled_globs_match_as_fnmatch_does(patterns: tuple[str, ...]) -> None:
    for name in (*NAMES, "", "a\nb", "orders.eu\n"):
        assert matches(name, patterns) == any(fnmatchcase(name, p) for p in patterns), name


def test_owned_is_owns_over_many_names() -> None:
    """Declared topics outside the globs are owned; internal and ignored ones never are."""
    declared = {n: spec(n) for n in ("extra", "_declared", "orders.skip")}
    owner = Topics(declared, ("orders.*", "pay*"), ("orders.skip", "*.tmp"))
    names = ["orders.eu", "_internal", "orders.skip", "extra", "pay.x.tmp", "pay", "_declared"]
    assert (
        owner.owned(names) == [n for n in names if owner.owns(n)] == ["orders.eu", "extra", "pay"]
    )
    assert Topics().owned(names) == []


def test_config_unknown_to_the_broker_is_impossible() -> None:
    plan = plan_for([spec("a", compression_zstd_level="3")], [live("a")])
    assert plan.errors and "do not know compression.zstd.level" in plan.errors[0].reasons[0]


def test_plan_orders_creates_updates_deletes_and_digests_are_stable() -> None:
    topics = [live("b", partitions=1), live("z")]
    environment = env(allow_delete=True)
    first = plan_for([spec("a"), spec("b")], topics, environment)
    assert [c.action for c in first.changes] == [Action.CREATE, Action.UPDATE, Action.DELETE]
    again = plan_for([spec("a"), spec("b")], list(reversed(topics)), environment)
    assert first.observed_digest == again.observed_digest
    changed = plan_for([spec("a"), spec("b")], [live("b", partitions=2), live("z")], environment)
    assert changed.observed_digest != first.observed_digest


def test_verification_slice_does_not_trip_the_wipe_guard() -> None:
    [change] = diff_topics(
        env(allow_delete=True), topics(live("gone")), ClusterView("c", BROKERS), guard_wipe=False
    ).changes
    assert (change.action, change.risk) == (Action.DELETE, Risk.DESTRUCTIVE)


def test_sensitive_configs_are_never_compared_or_shown() -> None:
    secret = ObservedConfig(None, "DYNAMIC_TOPIC_CONFIG", sensitive=True)
    plan = plan_for([spec("a", retention_ms="604800000")], [live("a", retention_ms=secret)])
    assert plan.changes == ()


def test_the_observed_digest_names_the_cluster() -> None:
    desired = desired_of(Topic=replace(env(), topics={"a": spec("a")}))
    live_a = topics(live("a"))
    here = plan_of(desired, observed_of(ClusterView("cluster-1", BROKERS), Topic=live_a))
    there = plan_of(desired, observed_of(ClusterView("cluster-2", BROKERS), Topic=live_a))
    assert here.observed_digest != there.observed_digest


def test_new_topic_below_the_brokers_min_isr_is_warned_about() -> None:
    declared = {"a": spec("a", rf=1), "b": spec("b", rf=1, min_insync_replicas="1")}
    desired = desired_of(Topic=replace(env(), topics=declared))
    plan = plan_of(desired, observed_of(Topic=topics(**{"min.insync.replicas": "2"})))
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("a: replicationFactor 1 is below the brokers' min.insync")
    assert not plan.errors


def test_secret_configs_are_marked_sensitive_by_the_kind() -> None:
    """Render masks what the kind marks: password configs, by catalog type or by name."""
    plan = plan_for(
        [spec("a", ssl_key_password="hunter2"), spec("b", retention_ms="604800000")], []
    )
    fields = {(c.name, d.field): d.sensitive for c in plan.changes for d in c.diff}
    assert fields[("a", "config.ssl.key.password")]
    assert not fields[("b", "config.retention.ms")]
