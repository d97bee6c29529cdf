"""Topics read back through every broker, with one client per broker.

Each broker answers from its own copy of the metadata, which it learns a moment after the
controller commits a change; so two clients asking two brokers can briefly disagree. Apply
is verified through each of them, so the next `plan`, whichever broker it asks, sees the
applied state; a saved plan is checked against a view every broker agrees on. Reads are
narrowed to the changed topics, so verifying one change among 10,000 topics costs what one
change costs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import repeat
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

    def read(
        self,
        index: int,
        desired: Topics,
        only: set[str] | None,
        metadata: TopicMetadata | None = None,
    ) -> ObservedTopics:
        """What broker `index` reports for `desired` (its `only` topics, when given), from
        `metadata` it answered just now, else from its Metadata read afresh."""
        admin, broker = self.admins[index], self.brokers[index]
        if metadata is None:
            metadata = admin.topic_metadata(only)
        return observe_with(admin, desired, metadata, broker.node_id, only=only)


def agreed(clients: Clients, desired: Topics, settle_seconds: float) -> ObservedTopics:
    """The topics as every broker reports them, once they agree.

    A change made moments ago may not have reached every broker yet; a saved plan's digest
    compared with one broker's stale view could let a stale plan through (invariant 4).
    """
    each = _EachBroker(clients)
    for _ in attempts(settle_seconds, 0.2):
        views = [each.read(i, desired, None) for i in range(len(each.admins))]
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


def _settled(
    admin: TopicAdmin, names: Collection[str], changes: Sequence[Change]
) -> TopicMetadata | None:
    """Cheap first check: this broker's Metadata of the changed topics `names`, once it
    lists created topics, not deleted ones, new counts (None: not yet)."""
    topics = admin.topic_metadata(names)
    for change in changes:
        expected = _expected_partitions(change)
        listed = topics.get(change.name)
        if expected is None and listed is not None:
            return None
        if expected is not None and (listed is None or expected not in (-1, len(listed))):
            return None
    return topics


def _shares(changed: Collection[str], altered: set[str], brokers: int) -> list[set[str]]:
    """The topics each broker reads back: an altered topic on every broker (each learns a
    config change for itself); any other changed topic on one broker, in turn, so the
    reads spread over the brokers (every broker's Metadata has already shown it, and a
    created topic's configs arrive in the same metadata record batch as the topic)."""
    once = sorted(set(changed) - altered)
    return [set(once[index::brokers]) | altered for index in range(brokers)]


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

    First the cheap Metadata of the changed topics on every broker (creates, deletes,
    partition counts); then, from the same Metadata, the full read-back of the changed
    topics, spread over the brokers (`_shares`), every broker at once. A read-back after
    replica moves or other updates carries the placement state read afresh (reassignments,
    broker throttles), so moved replicas and removed throttles are verified too; creates
    alone cannot have moved anything. Failed changes stay in the plan.
    """
    failed = {o.change.name for o in outcomes if not o.done}
    changes = [o.change for o in outcomes if o.done]
    changed = {o.change.name for o in outcomes}
    altered = {c.name for c in changes if c.action is Action.UPDATE}
    each = _EachBroker(clients)
    shares = _shares(changed, altered, len(each.admins))
    placed = clients.topics().abilities.moves_replicas
    moves = placed and any(c.action is not Action.CREATE for c in changes)
    remaining = KindPlan()

    def read_back(
        index: int, placement: ObservedPlacement, metadata: TopicMetadata | None
    ) -> KindPlan:
        narrowed = desired.only(shares[index])
        read = each.read(index, narrowed, shares[index], metadata)
        observed = replace(read, placement=placement)
        return diff_topics(narrowed, observed, each.cluster, guard_wipe=False)

    with ThreadPoolExecutor(len(each.admins), "reconciler-verify") as pool:
        pause = 0.2 if not each.lag else 2.0
        for attempt in attempts(max(options.settle_seconds, each.lag), pause):
            views = list(pool.map(_settled, each.admins, repeat(changed), repeat(changes)))
            if not (all(view is not None for view in views) or attempt.last):
                continue
            placement = (
                read_placement(clients, each.cluster, read_moving(clients))
                if moves
                else ObservedPlacement()
            )
            readers = [index for index, share in enumerate(shares) if share]
            answers = [views[index] for index in readers]
            remaining = _together(list(pool.map(read_back, readers, repeat(placement), answers)))
            if {c.name for c in remaining.changes} <= failed:  # failures stay
                break
    return KindPlan(remaining.changes, remaining.orphans)
