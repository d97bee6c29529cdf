"""Topics read back through every broker, with one client per broker.

Each broker answers from its own copy of the metadata, which it learns a moment after the
controller commits a change; so two clients asking two brokers can briefly disagree. Apply
is verified through each of them, so the next `plan`, whichever broker it asks, sees the
applied state; a saved plan is checked against a view every broker agrees on. Reads are
narrowed to the changed topics, so verifying one change among 10,000 topics costs what one
change costs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.digests import digest
from reconciler.core.environment import Environment
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Action, Change
from reconciler.core.polling import attempts
from reconciler.kinds.base import ApplyOptions, KindPlan, Outcome
from reconciler.kinds.topic.diff import diff_topics
from reconciler.kinds.topic.fingerprint import fingerprint
from reconciler.kinds.topic.model import ObservedPlacement, ObservedTopics, Topics
from reconciler.kinds.topic.observe import observe_with, read_moving, read_placement

if TYPE_CHECKING:
    from reconciler.clients.session import Clients
    from reconciler.clients.topics import TopicAdmin, TopicMetadata


class _EachBroker:
    """One client per broker in the cluster now (DescribeCluster again: a broker lost during
    apply is not asked), made once per read-back; one client where the topic API has no
    brokers to ask (MSK's answers for the cluster, however stale)."""

    def __init__(self, clients: Clients) -> None:
        self.cluster: ClusterView = clients.topics().cluster(clients.cluster()[1])
        self.brokers: tuple[Broker, ...] = self.cluster.brokers
        api = clients.topics().abilities
        if not api.per_broker:
            self.brokers = self.brokers[:1]
        self.admins: list[TopicAdmin] = [clients.topics_on(b) for b in self.brokers]
        #: How long a read-back may wait for the API to show what was written.
        self.lag = api.lag_seconds
        #: Where each broker can be asked (Kafka's API), its Metadata asked of it alone:
        #: librdkafka sends Metadata to a broker of its choosing, so the replica client
        #: (kafka-python) asks each broker itself.
        self._each = clients.replicas().listed_by if api.per_broker else None

    def listed(
        self, indices: Collection[int], names: Collection[str] | None
    ) -> dict[int, TopicMetadata]:
        """The Metadata of `names` (None: every topic) that brokers `indices` answer now,
        asked of all at once."""
        if self._each is None:
            return {index: self.admins[index].topic_metadata(names) for index in indices}
        ids = {self.brokers[index].node_id: index for index in indices}
        return {ids[node]: topics for node, topics in self._each(list(ids), names).items()}

    def read(
        self, index: int, desired: Topics, only: set[str] | None, metadata: TopicMetadata
    ) -> ObservedTopics:
        """What broker `index` reports for `desired` (its `only` topics, when given), from
        the `metadata` it answered just now (`listed`)."""
        admin, broker = self.admins[index], self.brokers[index]
        return observe_with(admin, desired, metadata, broker.node_id, only=only)


def agreed(clients: Clients, desired: Topics, settle_seconds: float) -> ObservedTopics:
    """The topics as every broker reports them, once they agree.

    A change made moments ago may not have reached every broker yet; a saved plan's digest
    compared with one broker's stale view could let a stale plan through (invariant 4).
    """
    each = _EachBroker(clients)
    for _ in attempts(settle_seconds, 0.2):
        listed = sorted(each.listed(range(len(each.admins)), None).items())
        views = [each.read(index, desired, None, metadata) for index, metadata in listed]
        if len({digest(fingerprint(desired, view)) for view in views}) <= 1:
            return views[0]
    raise ReconcilerError(
        f"the brokers still disagree about the cluster's state after {settle_seconds:g}s; "
        "nothing was applied. Try again in a moment"
    )


def _expected_partitions(change: Change) -> int | None:
    """Partitions a changed topic has once applied (None: it is gone)."""
    if change.action is Action.DELETE:
        return None
    after = {d.field: d.after for d in change.diff}.get("partitions")
    return int(after) if after is not None else -1  # -1: exists, count unchanged


def _settled(topics: TopicMetadata, changes: Sequence[Change]) -> bool:
    """Cheap first check: a broker's Metadata of the changed topics lists created topics,
    not deleted ones, new counts."""
    for change in changes:
        expected = _expected_partitions(change)
        listed = topics.get(change.name)
        if expected is None and listed is not None:
            return False
        if expected is not None and (listed is None or expected not in (-1, len(listed))):
            return False
    return True


#: The fewest other changed topics a broker takes to read back at a time.
CHUNK_TOPICS = 50


class _Shares:
    """What the brokers read back: each altered topic on every broker (each learns a config
    change for itself); the other changed topics once, in chunks taken by whichever broker
    is free first, so a broker that lists the changes sooner reads more. Every broker's
    Metadata shows each of them before the round ends, and a created topic's configs arrive
    in the same metadata record batch as the topic, so one broker's read stands for all."""

    def __init__(self, changed: Collection[str], altered: set[str], brokers: int) -> None:
        once = sorted(set(changed) - altered)
        size = max(CHUNK_TOPICS, -(-len(once) // (2 * brokers)))
        self.altered = altered
        self._chunks = deque(set(once[start : start + size]) for start in range(0, len(once), size))

    def take(self) -> set[str]:
        """The next chunk to read back (empty: none left); safe from any thread."""
        try:
            return self._chunks.popleft()
        except IndexError:
            return set()


def _together(plans: Sequence[KindPlan]) -> KindPlan:
    """What any broker still reports, each topic once (an altered topic is read on each)."""
    changes = {c.name: c for plan in reversed(plans) for c in plan.changes}
    orphans = {o.name: o for plan in reversed(plans) for o in plan.orphans}
    return KindPlan(tuple(sorted(changes.values(), key=lambda c: c.name)), tuple(orphans.values()))


def verify(
    clients: Clients,
    environment: Environment,
    desired: Topics,
    outcomes: Sequence[Outcome],
    options: ApplyOptions,
) -> KindPlan:
    """Read the changed topics back until every broker reports the empty plan.

    First the cheap Metadata of the changed topics, asked of every broker at once (creates,
    deletes, partition counts); as soon as one broker lists every change, it reads back the
    changed topics (`_Shares`) from that Metadata, while the brokers still behind are asked
    again and join in once they list every change too. A read-back after replica moves or
    other updates carries the placement state read afresh (reassignments, broker throttles),
    so moved replicas and removed throttles are verified too; creates alone cannot have
    moved anything. Failed changes stay in the plan.
    """
    failed = {o.change.name for o in outcomes if not o.done}
    changes = [o.change for o in outcomes if o.done]
    changed = {o.change.name for o in outcomes}
    altered = {c.name for c in changes if c.action is Action.UPDATE}
    each = _EachBroker(clients)
    everyone = range(len(each.admins))
    placed = clients.topics().abilities.moves_replicas
    moves = placed and any(c.action is not Action.CREATE for c in changes)
    remaining = KindPlan()

    def read_back(
        index: int, shares: _Shares, placement: ObservedPlacement, metadata: TopicMetadata
    ) -> list[KindPlan]:
        plans = []
        share = shares.altered | shares.take()
        while share:
            narrowed = desired.only(share)
            read = replace(each.read(index, narrowed, share, metadata), placement=placement)
            plans.append(diff_topics(narrowed, read, each.cluster, guard_wipe=False))
            share = shares.take()
        return plans

    with ThreadPoolExecutor(len(each.admins), "reconciler-verify") as pool:
        pause = 0.1 if not each.lag else 2.0
        behind = set(everyone)  # brokers whose Metadata does not show every change yet
        shares = _Shares(changed, altered, len(each.admins))
        reads: list[Future[list[KindPlan]]] = []
        placement: ObservedPlacement | None = None
        for attempt in attempts(max(options.settle_seconds, each.lag), pause):
            for index, topics in each.listed(sorted(behind), changed).items():
                if not (_settled(topics, changes) or attempt.last):
                    continue
                behind.discard(index)
                if placement is None:
                    placement = (
                        read_placement(clients, each.cluster, read_moving(clients))
                        if moves
                        else ObservedPlacement()
                    )
                reads.append(pool.submit(read_back, index, shares, placement, topics))
            if behind:
                continue
            remaining = _together([plan for read in reads for plan in read.result()])
            if {c.name for c in remaining.changes} <= failed:  # failures stay
                break
            behind, reads, placement = set(everyone), [], None  # all again, in a moment
            shares = _Shares(changed, altered, len(each.admins))
    return KindPlan(remaining.changes, remaining.orphans)
