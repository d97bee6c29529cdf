"""Placement in the plan, as pure functions: moves, their risk and estimate, in-flight moves,
throttles left behind, and how the renderers show long partition lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.model import Action, Plan, Risk
from reconciler.engine.saved import check_saved_plan
from reconciler.kinds.topic.model import (
    DEFAULT_THROTTLE,
    Moving,
    ObservedConfig,
    ObservedPlacement,
    ObservedTopic,
    ObservedTopics,
    PlacementPolicy,
    Topics,
    TopicSpec,
)
from reconciler.kinds.topic.placement import CANCEL_COMMAND, THROTTLE_CHANGE
from reconciler.render.markdown import render_markdown
from reconciler.render.plan_json import plan_from_json, render_json
from tests.planning import desired_of, observed_of, plan_of

THREE = tuple(Broker(i, "127.0.0.1", 9000 + i, f"az-{i}") for i in (1, 2, 3))
FOUR = (*THREE, Broker(4, "127.0.0.1", 9004, "az-1"))


def plan(
    rf: int,
    replicas: Mapping[int, tuple[int, ...]],
    *,
    brokers: tuple[Broker, ...] = THREE,
    policy: PlacementPolicy | None = None,
    placement: ObservedPlacement | None = None,
    configs: dict[str, ObservedConfig] | None = None,
    spec_config: dict[str, str] | None = None,
) -> Plan:
    spec = TopicSpec("t", len(replicas), rf, spec_config or {})
    desired = Topics({"t": spec}, ("*",), placement=policy or PlacementPolicy())
    live_rf = min(len(r) for r in replicas.values())
    live = ObservedTopic("t", len(replicas), live_rf, replicas, configs or {})
    observed = ObservedTopics({"t": live}, placement=placement or ObservedPlacement())
    return plan_of(
        desired_of(Topic=desired), observed_of(ClusterView("c", brokers), Topic=observed)
    )


def fields(plan: Plan) -> dict[str, tuple[object, object]]:
    [change] = plan.changes
    return {d.field: (d.before, d.after) for d in change.diff}


def test_rf_increase_is_a_disruptive_move_of_every_partition_under_the_default_throttle() -> None:
    result = plan(3, {0: (1,), 1: (2,)})
    [change] = result.changes
    assert (change.action, change.risk) == (Action.UPDATE, Risk.DISRUPTIVE) and not result.errors
    found = fields(result)
    assert set(found) == {"replicationFactor", "replicationThrottle", "replicas[0]", "replicas[1]"}
    assert found["replicationFactor"] == (1, 3)
    assert found["replicationThrottle"] == (None, DEFAULT_THROTTLE)
    for partition, leader in ((0, 1), (1, 2)):
        before, after = found[f"replicas[{partition}]"]
        assert before == [leader] and after[0] == leader  # type: ignore[index]
        assert sorted(after) == [1, 2, 3]  # type: ignore[call-overload]
    assert "copies every partition to 2 more broker(s)" in " ".join(change.reasons)


def test_rf_decrease_is_supported_and_rf_above_the_brokers_is_impossible() -> None:
    down = plan(2, {0: (1, 2, 3)})
    assert fields(down)["replicas[0]"] == ([1, 2, 3], [1, 2]) and not down.errors
    up = plan(4, {0: (1, 2, 3)})
    [change] = up.errors
    assert "needs at least 4 brokers; the cluster has 3. Way out" in change.reasons[0]


def test_replicas_sharing_a_rack_are_drift_unless_rack_awareness_is_off() -> None:
    shared = plan(2, {0: (1, 4), 1: (2, 3)}, brokers=FOUR)
    [change] = shared.changes
    assert set(fields(shared)) == {"replicationThrottle", "replicas[0]"}
    assert "partition 0 has two replicas in one rack" in " ".join(change.reasons)
    off = plan(2, {0: (1, 4)}, brokers=FOUR, policy=PlacementPolicy(rack_aware=False))
    assert off.changes == ()


def test_a_new_broker_gets_replicas_only_when_the_policy_balances() -> None:
    settled = {p: ((p % 3) + 1, ((p + 1) % 3) + 1) for p in range(6)}
    assert plan(2, settled, brokers=FOUR).changes == ()
    balanced = plan(2, settled, brokers=FOUR, policy=PlacementPolicy(balance=True))
    after = [v[1] for k, v in fields(balanced).items() if k.startswith("replicas[")]
    assert sum(4 in replicas for replicas in after) == 3  # type: ignore[operator]


def test_a_move_in_flight_to_the_planned_target_is_waited_for_another_is_refused() -> None:
    target = plan(3, {0: (1,)})
    planned = fields(target)["replicas[0]"][1]
    moving = ObservedPlacement(moving={"t": {0: Moving((1,), tuple(planned))}})  # type: ignore[arg-type]
    waiting = plan(3, {0: tuple(planned)}, placement=moving)  # type: ignore[arg-type]
    [change] = waiting.changes
    assert not waiting.errors and fields(waiting)["replicas[0]"] == ([1], planned)
    assert "already being reassigned to these replicas: apply waits" in " ".join(change.reasons)
    elsewhere = ObservedPlacement(moving={"t": {0: Moving((1,), (1, 2))}})
    refused = plan(3, {0: (1, 2)}, placement=elsewhere)
    [blocked] = refused.errors
    assert f"`{CANCEL_COMMAND} --topic t`" in blocked.reasons[0]


def test_throttles_left_behind_are_removed_as_safe_changes() -> None:
    left = ObservedConfig("0:1", "DYNAMIC_TOPIC_CONFIG")
    topic = plan(1, {0: (1,)}, configs={"leader.replication.throttled.replicas": left})
    [change] = topic.changes
    assert change.risk is Risk.SAFE
    assert fields(topic) == {"config.leader.replication.throttled.replicas": ("0:1", None)}
    rates = {2: {"leader.replication.throttled.rate": "1000"}}
    brokers = plan(1, {0: (1,)}, placement=ObservedPlacement(broker_throttles=rates))
    [change] = brokers.changes
    assert (change.name, change.operation) == (THROTTLE_CHANGE, "remove throttles")
    assert [(d.field, d.after) for d in change.diff] == [
        ("broker.2.leader.replication.throttled.rate", None)
    ]
    busy = ObservedPlacement(moving={"other": {0: Moving((1,), (1, 2))}}, broker_throttles=rates)
    assert plan(1, {0: (1,)}, placement=busy).changes == ()  # someone else's move needs them


def test_a_spec_declaring_throttled_replicas_cannot_move() -> None:
    result = plan(3, {0: (1,)}, spec_config={"leader.replication.throttled.replicas": "*"})
    [change] = result.errors
    assert "which a reassignment sets and removes itself. Way out" in change.reasons[0]


def test_the_estimate_is_a_note_from_the_sizes_and_not_part_of_a_saved_plan() -> None:
    sizes = ObservedPlacement(sizes={"t": {0: 10 * 1024 * 1024, 1: 10 * 1024 * 1024}})
    first = plan(3, {0: (1,), 1: (2,)}, placement=sizes, policy=PlacementPolicy(throttle=1 << 20))
    [change] = first.changes
    assert change.notes == (
        "2 partition(s) gain replicas: about 40.0 MiB to copy (partition sizes from "
        "DescribeLogDirs when planned); at 1.0 MiB/s per broker at least 20 s",
    )
    grown = ObservedPlacement(sizes={"t": {0: 11 * 1024 * 1024, 1: 10 * 1024 * 1024}})
    later = plan(3, {0: (1,), 1: (2,)}, placement=grown, policy=PlacementPolicy(throttle=1 << 20))
    assert later.changes[0].notes != change.notes
    digest = "sha256:" + "0" * 64
    saved = plan_from_json(render_json(replace(first, specs_digest=digest)))
    check_saved_plan(saved, replace(later, specs_digest=digest))  # the estimate moved: still ok
    refused = ObservedPlacement(sizes_refused="DescribeLogDirs failed: ClusterAuthorization")
    unknown = plan(3, {0: (1,)}, placement=refused)
    assert "their size is unknown: DescribeLogDirs failed" in unknown.changes[0].notes[0]


def test_markdown_collapses_long_partition_lists_and_json_has_them_all() -> None:
    result = plan(3, {p: ((p % 3) + 1,) for p in range(100)})
    markdown = render_markdown(result)
    assert "replicas[5]" in markdown and "replicas[99]" not in markdown
    assert "90 more fields not shown; the full plan is in the job's plan.json artifact" in markdown
    document = json.loads(render_json(result))
    assert sum(d["field"].startswith("replicas[") for d in document["changes"][0]["diff"]) == 100
