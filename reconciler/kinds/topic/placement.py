"""Which replicas move, and why: the placement half of the topic diff. Pure.

For every declared topic that exists, the assigner (`assign.RackAwareAssigner`) computes the
target replicas from the effective ones (a partition being reassigned counts at its
target), under the Environment's `placement` policy. A partition whose target differs is a
move; one already moving to a target the policy accepts is waited for, one moving elsewhere
is a conflict the plan refuses with the way out. Throttles found with nothing moving were
left behind (an interrupted apply, a manual kafka-reassign-partitions run): removing them
is a change of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.core.cluster import ClusterView
from reconciler.core.model import Action, Change, FieldDiff, Risk
from reconciler.kinds.topic.assign import RackAwareAssigner
from reconciler.kinds.topic.model import (
    KIND,
    THROTTLE_RATES,
    THROTTLED_REPLICAS,
    Moving,
    ObservedTopic,
    ObservedTopics,
    PlacementPolicy,
    Topics,
)

#: The name of the change that removes throttle rates left on brokers.
THROTTLE_CHANGE = "(replication throttle)"
REMOVE_THROTTLES = "remove throttles"
#: A moved partition's field: `replicas[3]`, before -> after.
REPLICAS = "replicas["
#: The rate (bytes per second per broker) a move runs under, in the reviewed plan.
THROTTLE_FIELD = "replicationThrottle"
CANCEL_COMMAND = "reconciler reassignments ENV_DIR --cancel"


def replicas_field(partition: int) -> str:
    return f"{REPLICAS}{partition}]"


def partition_of(field: str) -> int | None:
    """3 for `replicas[3]`, None for any other field."""
    if field.startswith(REPLICAS) and field.endswith("]"):
        return int(field[len(REPLICAS) : -1])
    return None


@dataclass(frozen=True)
class Move:
    partition: int
    before: tuple[int, ...]
    after: tuple[int, ...]
    #: Already being reassigned to `after` (started earlier): apply waits for it.
    in_flight: bool = False


@dataclass(frozen=True)
class TopicMoves:
    """One topic's placement change: its moves, why, and what blocks them."""

    topic: str
    replication_factor: int  # before the moves (in-flight partitions at their original)
    moves: tuple[Move, ...] = ()
    reasons: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()


def too_few_brokers(replication_factor: int, brokers: int) -> str:
    return (
        f"replicationFactor {replication_factor} needs at least {replication_factor} brokers; "
        f"the cluster has {brokers}. Way out: lower replicationFactor to at most {brokers} or "
        "add brokers first"
    )


def rack_map(cluster: ClusterView, policy: PlacementPolicy) -> dict[int, str | None]:
    """Each live broker's rack, or None for all when rack awareness is off."""
    aware = policy.rack_aware is not False and any(b.rack for b in cluster.brokers)
    return {b.node_id: b.rack if aware else None for b in cluster.brokers}


def _list(partitions: Sequence[int], verb: tuple[str, str] | None = None) -> str:
    """`partition 2 has` / `partitions 0, 3 and 5 more have` (verb: singular, plural)."""
    shown = ", ".join(map(str, partitions[:10]))
    shown += f" and {len(partitions) - 10} more" if len(partitions) > 10 else ""
    one = len(partitions) == 1
    said = f"partition {shown}" if one else f"partitions {shown}"
    return f"{said} {verb[0] if one else verb[1]}" if verb else said


def _shares_rack(replicas: Sequence[int], racks: Mapping[int, str | None], count: int) -> bool:
    """Two replicas in one rack while the partition could use another."""
    used = {racks.get(b) for b in replicas}
    return None not in used and len(used) < min(len(replicas), count)


def _effective(live: ObservedTopic, moving: Mapping[int, Moving]) -> dict[int, tuple[int, ...]]:
    """Each partition's replicas, a partition being reassigned at its target."""
    effective = dict(live.replicas)
    for partition, move in moving.items():
        if partition in effective:
            effective[partition] = move.target
    return effective


def _needs_assigner(
    current: Mapping[int, tuple[int, ...]],
    rf: int,
    racks: Mapping[int, str | None],
    policy: PlacementPolicy,
) -> bool:
    """Cheap test first, so a plan of 10,000 settled topics runs no assigner at all."""
    if policy.balance:
        return True
    count = len(set(racks.values()))
    return any(len(r) != rf or _shares_rack(r, racks, count) for r in current.values())


def plan_moves(
    desired: Topics, observed: ObservedTopics, cluster: ClusterView
) -> dict[str, TopicMoves]:
    """Every declared topic's placement change (topics with none are left out).

    Topics are placed in name order through one assigner, so its cluster-wide load carries
    from one topic to the next and the result does not depend on dictionary order.
    """
    racks = rack_map(cluster, desired.placement)
    assigner = RackAwareAssigner(racks, balance=desired.placement.balance)
    assigner.load.cluster.update(cluster.replicas_per_broker)
    planned: dict[str, TopicMoves] = {}
    for name in sorted(desired.topics):
        live = observed.topics.get(name)
        if live is None or not live.replicas:
            continue
        spec = desired.topics[name]
        moving = observed.placement.moving.get(name, {})
        original = {p: moving[p].original if p in moving else r for p, r in live.replicas.items()}
        before_rf = min(len(r) for r in original.values())
        if spec.replication_factor > len(racks):
            planned[name] = TopicMoves(
                name, before_rf, blockers=(too_few_brokers(spec.replication_factor, len(racks)),)
            )
            continue
        current = _effective(live, moving)
        if not moving and not _needs_assigner(
            current, spec.replication_factor, racks, desired.placement
        ):
            continue
        target = assigner.assign(current, spec.replication_factor)
        moves, blockers, conflicts = [], [], []
        for partition in sorted(target):
            after = target[partition]
            if partition in moving:
                if after != current[partition]:
                    conflicts.append(partition)
                moves.append(Move(partition, original[partition], current[partition], True))
            elif after != current[partition]:
                moves.append(Move(partition, current[partition], after))
            elif len(after) != spec.replication_factor:
                absent = sorted(b for b in after if b not in racks)
                blockers.append(
                    f"partition {partition} has a replica on broker "
                    f"{', '.join(map(str, absent))}, which is not in the cluster (offline?). Way "
                    "out: bring the broker back, then plan again"
                )
        declared = sorted(set(spec.config) & set(THROTTLED_REPLICAS))
        if declared and any(not m.in_flight for m in moves):
            blockers.append(
                f"the topic declares {', '.join(declared)}, which a reassignment sets and "
                "removes itself. Way out: remove it from the spec (throttles are managed "
                "during moves), or keep the current placement"
            )
        if conflicts:
            blockers.append(
                f"{_list(conflicts, ('is', 'are'))} being reassigned to other replicas than the "
                "specs ask for (a move started outside this plan). Way out: wait for it to "
                "finish and plan again, or cancel it with "
                f"`{CANCEL_COMMAND} --topic {name}`"
            )
        if moves or blockers:
            reasons = _reasons(moves, current, racks, desired.placement, spec.replication_factor)
            planned[name] = TopicMoves(name, before_rf, tuple(moves), reasons, tuple(blockers[:3]))
    return planned


def _reasons(
    moves: Sequence[Move],
    current: Mapping[int, tuple[int, ...]],
    racks: Mapping[int, str | None],
    policy: PlacementPolicy,
    rf: int,
) -> tuple[str, ...]:
    reasons = []
    rack_count = len(set(racks.values()))
    waiting = [m.partition for m in moves if m.in_flight]
    started = [m for m in moves if not m.in_flight]
    shared = [m.partition for m in started if _shares_rack(current[m.partition], racks, rack_count)]
    if shared:
        reasons.append(
            f"{_list(shared, ('has', 'have'))} two replicas in one rack (AZ): a replica moves so "
            "each sits in its own rack (placement.rackAware)"
        )
    rebalanced = [m.partition for m in started if len(m.before) == rf and m.partition not in shared]
    if rebalanced and policy.balance:
        reasons.append(
            f"{_list(rebalanced, ('moves', 'move'))} to brokers holding fewer of the topic's "
            "replicas (placement.balance)"
        )
    if waiting:
        reasons.append(
            f"{_list(waiting, ('is', 'are'))} already being reassigned to these replicas: apply "
            "waits for that move instead of starting another"
        )
    if started or waiting:
        throttle = (
            f"under a replication throttle of {approx_bytes(policy.throttle)}/s per broker "
            "(placement.throttle), removed afterwards"
            if policy.throttle
            else "without a replication throttle (placement.throttle: none)"
        )
        reasons.append(
            f"replicas move with AlterPartitionReassignments {throttle}, then the moved "
            "partitions elect their preferred leader"
        )
    return tuple(reasons)


def replication_diff(before: int, after: int, throttle: int | None) -> FieldDiff:
    """The replication factor's own line: what the change costs the cluster."""
    if after > before:
        how = f"throttled at {approx_bytes(throttle)}/s per broker" if throttle else "unthrottled"
        reason = (
            f"raising the replication factor ({before} -> {after}) copies every partition to "
            f"{after - before} more broker(s): replication load on the brokers until the "
            f"move completes ({how})"
        )
    else:
        reason = (
            f"lowering the replication factor ({before} -> {after}) deletes {before - after} "
            "copy(ies) of every partition: the topic survives fewer broker failures"
        )
    return FieldDiff("replicationFactor", before, after, Risk.DISRUPTIVE, reason)


def move_diffs(planned: TopicMoves, throttle: int | None) -> list[FieldDiff]:
    """Each moved partition's replicas, and the throttle the moves run under (set for the
    move, removed after it: so `(unset) -> rate` is what the reviewer approves)."""
    if not planned.moves:
        return []
    rate = FieldDiff(
        THROTTLE_FIELD,
        None,
        throttle if throttle else "none",
        Risk.SAFE,
        f"{approx_bytes(throttle)}/s per broker while replicas move, removed afterwards"
        if throttle
        else "replicas move without a throttle",
    )
    return [
        rate,
        *(
            FieldDiff(replicas_field(m.partition), list(m.before), list(m.after), Risk.DISRUPTIVE)
            for m in planned.moves
        ),
    ]


def approx_bytes(count: int | None) -> str:
    """48.2 MiB: sizes for reading, not for copying into a spec."""
    value = float(count or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def estimate(
    planned: Mapping[str, TopicMoves],
    observed: ObservedTopics,
    throttle: int | None,
) -> dict[str, str]:
    """Per topic: the bytes its moves copy (from DescribeLogDirs at plan time) and, under a
    throttle, about how long that takes: the busiest broker's bytes in or out / rate."""
    notes: dict[str, str] = {}
    sizes = observed.placement.sizes
    for name, topic in planned.items():
        moves = [m for m in topic.moves if set(m.after) - set(m.before)]
        if not moves:
            continue
        if observed.placement.sizes_refused is not None:
            notes[name] = (
                f"{len(moves)} partition(s) gain replicas; their size is unknown: "
                f"{observed.placement.sizes_refused}"
            )
            continue
        inbound: Counter[int] = Counter()
        outbound: Counter[int] = Counter()
        total = 0
        for move in moves:
            size = sizes.get(name, {}).get(move.partition, 0)
            for broker in set(move.after) - set(move.before):
                inbound[broker] += size
                outbound[move.before[0]] += size
                total += size
        text = (
            f"{len(moves)} partition(s) gain replicas: about {approx_bytes(total)} to copy "
            "(partition sizes from DescribeLogDirs when planned)"
        )
        if throttle and total:
            busiest = max(*inbound.values(), *outbound.values())
            text += (
                f"; at {approx_bytes(throttle)}/s per broker at least {busiest / throttle:.0f} s"
            )
        notes[name] = text
    return notes


def leftover_topic_throttles(
    spec_config: Mapping[str, str], live: ObservedTopic
) -> list[FieldDiff]:
    """Throttled-replica lists on a topic that nothing is moving, which the specs do not
    declare: a throttle left behind, removed (safe: it only ever slows replication)."""
    diffs = []
    for key in THROTTLED_REPLICAS:
        entry = live.configs.get(key)
        if entry is not None and entry.is_override and key not in spec_config:
            diffs.append(
                FieldDiff(
                    "config." + key,
                    entry.value,
                    None,
                    Risk.SAFE,
                    "a replication throttle is left on the topic with no reassignment in "
                    "progress (an interrupted apply or a manual kafka-reassign-partitions "
                    "run): removed, so its followers are not held back",
                )
            )
    return diffs


def broker_throttle_change(observed: ObservedTopics) -> Change | None:
    """Throttle rates on brokers while no reassignment is in flight in the whole cluster."""
    placement = observed.placement
    if placement.moving or not placement.broker_throttles:
        return None
    diffs = tuple(
        FieldDiff(f"broker.{broker}.{key}", rates[key], None)
        for broker, rates in sorted(placement.broker_throttles.items())
        for key in THROTTLE_RATES
        if key in rates
    )
    reason = (
        "replication throttle rates are set on brokers while no reassignment is in progress "
        "(left by an interrupted apply or a manual kafka-reassign-partitions run): removed"
    )
    return Change(
        KIND, THROTTLE_CHANGE, Action.UPDATE, Risk.SAFE, diffs, (reason,), REMOVE_THROTTLES
    )
