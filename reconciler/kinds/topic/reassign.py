"""Replica moves: throttled, waited for, elected, and never leaving a throttle behind.

One run of the state machine, for every partition the plan moves:

    throttled -> started (a bounded number in flight) -> completed -> leader elected
        -> in sync under its preferred leader                      (then: throttles removed)

- Before anything starts, the controller's list of reassignments is read again: a
  partition already moving to the planned target is waited for, not started twice; one
  moving elsewhere (started since the plan) is refused, never overridden.
- The throttle (`placement.throttle`, bytes per second) is set first: the rate on every
  broker a moved partition leaves or joins, the throttled replicas on its topic (sources
  as leader replicas, new replicas as followers), as kafka-reassign-partitions does.
- Moves start at most MAX_IN_FLIGHT at a time, so partitions complete one by one (and an
  interruption loses little); progress says partitions done / total and bytes copied.
- When apply fails, runs out of `--wait-timeout`, loses a broker of the move or is
  interrupted (SIGINT, SIGTERM), the moves it started that are still in flight are
  cancelled (Kafka puts those partitions back on their replicas from before the move;
  completed ones stay moved), and in every case the throttles are removed. The next apply
  plans again from what is there; throttles it finds with nothing moving (this process
  was killed outright) are removed as a change of their own.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.clients.topics import Keep
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Change
from reconciler.kinds.base import ApplyOptions
from reconciler.kinds.topic.model import THROTTLE_RATES, THROTTLED_REPLICAS, Topics
from reconciler.kinds.topic.model import TOPIC_OVERRIDE as OVERRIDE
from reconciler.kinds.topic.placement import THROTTLE_FIELD, approx_bytes, partition_of

if TYPE_CHECKING:
    from reconciler.clients.replicas import Partition, ReplicaAdmin
    from reconciler.clients.session import Clients

#: Partitions moving at once: small enough that each completes soon (an interrupted apply
#: keeps what completed), large enough that a throttle, not the round trips, sets the pace.
MAX_IN_FLIGHT = 50
#: How often the controller is asked which moves are still running.
TICK_SECONDS = 0.5
#: A topic's own overrides (where the throttled-replica lists live).
_OVERRIDES = Keep(frozenset({OVERRIDE}))


@dataclass(frozen=True)
class PlannedMove:
    topic: str
    partition: int
    before: tuple[int, ...]
    after: tuple[int, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.topic, self.partition)


def planned_moves(changes: Iterable[Change]) -> list[PlannedMove]:
    """The `replicas[p]` fields of the changes, in plan order."""
    moves = []
    for change in changes:
        for diff in change.diff:
            partition = partition_of(diff.field)
            if partition is not None:
                before, after = tuple(diff.before), tuple(diff.after)
                moves.append(PlannedMove(change.name, partition, before, after))
    return moves


def planned_throttle(changes: Iterable[Change]) -> int | None:
    """The rate the reviewed plan moves replicas under (None: unthrottled)."""
    for change in changes:
        for diff in change.diff:
            if diff.field == THROTTLE_FIELD and isinstance(diff.after, int):
                return diff.after
    return None


def _entries(pairs: Iterable[tuple[int, int]]) -> str:
    return ",".join(f"{p}:{b}" for p, b in sorted(set(pairs)))


def throttle_configs(
    moves: Sequence[PlannedMove], rate: int
) -> tuple[dict[int, dict[str, str | None]], dict[str, dict[str, str | None]]]:
    """The broker rates and topic throttled-replica lists a throttled move sets. Pure."""
    brokers: dict[int, dict[str, str | None]] = {}
    leaders: dict[str, set[tuple[int, int]]] = {}
    followers: dict[str, set[tuple[int, int]]] = {}
    for move in moves:
        added = set(move.after) - set(move.before)
        if not added:
            continue  # a replica only leaves: nothing is copied
        leaders.setdefault(move.topic, set()).update((move.partition, b) for b in move.before)
        followers.setdefault(move.topic, set()).update((move.partition, b) for b in added)
        for broker in (*move.before, *added):
            brokers[broker] = dict.fromkeys(THROTTLE_RATES, str(rate))
    topics: dict[str, dict[str, str | None]] = {
        topic: {
            THROTTLED_REPLICAS[0]: _entries(leaders[topic]),
            THROTTLED_REPLICAS[1]: _entries(pairs),
        }
        for topic, pairs in followers.items()
    }
    return brokers, topics


def _cleared(
    configs: tuple[Mapping[int, Mapping[str, str | None]], Mapping[str, Mapping[str, str | None]]],
) -> tuple[dict[int, dict[str, str | None]], dict[str, dict[str, str | None]]]:
    brokers, topics = configs
    return (
        {b: dict.fromkeys(THROTTLE_RATES) for b in brokers},
        {t: dict.fromkeys(THROTTLED_REPLICAS) for t in topics},
    )


class Moving:
    """One run: what started, what completed, what failed (per topic), and the reports."""

    def __init__(
        self, clients: Clients, moves: Sequence[PlannedMove], options: ApplyOptions
    ) -> None:
        self.clients = clients
        self.admin: ReplicaAdmin = clients.replicas()
        self.moves = {m.key: m for m in moves}
        self.options = options
        self.failed: dict[str, list[str]] = {}
        self.started: set[Partition] = set()
        self.waiting: set[Partition] = set()  # moved by an earlier start, not ours to cancel
        self.running: set[Partition] = set()
        self.completed: set[Partition] = set()
        self.sizes: dict[Partition, int] = {}
        self._last_report = 0.0

    def fail(self, key: Partition, reason: str) -> None:
        self.failed.setdefault(key[0], []).append(f"partition {key[1]}: {reason}")

    # -- the steps -----------------------------------------------------------------------------

    def sort_out(self) -> list[Partition]:
        """Which partitions to start, wait for, or refuse, from the controller's list now."""
        in_flight = self.admin.reassignments()
        to_start = []
        for key, move in self.moves.items():
            flight = in_flight.get(key)
            if flight is None:
                to_start.append(key)
            elif flight.target == move.after:
                self.waiting.add(key)
                self.running.add(key)
            else:
                self.fail(
                    key,
                    f"is being reassigned to {list(flight.target)} since the plan was made; left "
                    "alone. Wait for that move, or cancel it, then plan again",
                )
        return to_start

    def start(self, queue: list[Partition]) -> None:
        room = MAX_IN_FLIGHT - len(self.running)
        batch, queue[:] = queue[:room], queue[room:]
        results = self.admin.reassign({key: self.moves[key].after for key in batch})
        for key in batch:
            error = results.get(key, "the controller did not answer for it")
            if error:
                self.fail(key, f"AlterPartitionReassignments refused it: {error}")
            else:
                self.started.add(key)
                self.running.add(key)

    def poll(self) -> None:
        listed = self.admin.reassignments()
        finished = {key for key in self.running if key not in listed}
        self.running -= finished
        self.completed |= finished

    def check_brokers(self) -> None:
        involved = {b for key in self.running for b in self.moves[key].after}
        missing = involved - self.admin.live_brokers()
        if missing:
            raise ReconcilerError(
                f"broker {', '.join(map(str, sorted(missing)))} left the cluster during the move"
            )

    def report(self, final: bool = False) -> None:
        now = time.monotonic()
        status = self.options.status
        every = 1.0 if status is not None else self.options.poll_seconds
        if not final and now - self._last_report < every:
            return
        self._last_report = now
        total = len(self.moves) - sum(len(v) for v in self.failed.values())
        line = f"moving replicas: {len(self.completed)}/{total} partitions done"
        if self.sizes:
            wanted = {
                (key[0], key[1], b): size
                for key, size in self.sizes.items()
                for b in set(self.moves[key].after) - set(self.moves[key].before)
            }
            found = self.admin.replica_sizes(wanted) if not final else wanted
            copied = sum(
                wanted[r] if (r[0], r[1]) in self.completed else min(found.get(r, 0), wanted[r])
                for r in wanted
            )
            line += f", {approx_bytes(copied)} of {approx_bytes(sum(wanted.values()))} copied"
        (self.options.progress if final or status is None else status)(line)

    def cancel_ours(self) -> int:
        """Cancel the moves this run started that still run; how many were cancelled."""
        ours = sorted(self.started & self.running)
        if not ours:
            return 0
        results = self.admin.reassign(dict.fromkeys(ours))
        return sum(1 for key in ours if not results.get(key))

    def elect_and_settle(self) -> None:
        """Preferred leaders for the moved partitions, then wait until each has exactly its
        target replicas, all in sync, led by the first."""
        done = sorted(self.completed)
        for key, error in self.admin.elect_preferred(done).items():
            if error:
                self.fail(key, f"preferred-leader election failed: {error}")
        settle = self.options.settle_seconds
        deadline = time.monotonic() + settle
        topics = {key[0] for key in done}
        while True:
            states = self.admin.partitions(topics)
            unsettled = []
            for key in done:
                target, state = self.moves[key].after, states.get(key)
                if state is None or state.replicas != target or set(state.isr) != set(target):
                    unsettled.append((key, "not every target replica is in sync"))
                elif state.leader != target[0]:
                    unsettled.append((key, f"led by broker {state.leader}, not {target[0]}"))
            if not unsettled:
                return
            if time.monotonic() > deadline:
                for key, why in unsettled:
                    self.fail(key, f"{why} after {settle:g}s")
                return
            time.sleep(TICK_SECONDS)


def _set_throttles(
    admin: ReplicaAdmin,
    configs: tuple[Mapping[int, Mapping[str, str | None]], Mapping[str, Mapping[str, str | None]]],
) -> list[str]:
    results = admin.set_configs(*configs)
    return [f"{name}: {error}" for name, error in sorted(results.items()) if error]


def move_replicas(
    clients: Clients, changes: Sequence[Change], options: ApplyOptions
) -> dict[str, str | None]:
    """Run the moves of `changes`; per topic None (done) or what failed. Cleans up (cancel
    what it started, remove throttles) however it ends, then re-raises an interruption."""
    moves = planned_moves(changes)
    if not moves:
        return {}
    admin = clients.replicas()
    rate = planned_throttle(changes)
    run = Moving(clients, moves, options)
    throttles = throttle_configs(moves, rate) if rate else ({}, {})
    failure: str | None = None
    try:
        queue = run.sort_out()
        found = admin.sizes({k[0] for k in run.moves}, {b for m in moves for b in m.before})
        run.sizes = {key: size for key, size in found.items() if key in run.moves}
        if rate:
            refused = _set_throttles(admin, throttles)
            if refused:
                raise ReconcilerError(
                    "setting the replication throttle failed: " + "; ".join(refused)
                )
            brokers = ", ".join(map(str, sorted(throttles[0])))
            options.progress(f"throttle: {approx_bytes(rate)}/s on brokers {brokers}")
        deadline = time.monotonic() + options.wait_seconds
        while queue or run.running:
            if queue:
                run.start(queue)
            time.sleep(TICK_SECONDS)
            run.poll()
            run.report()
            if run.running:
                run.check_brokers()
            if time.monotonic() > deadline and run.running:
                raise ReconcilerError(
                    f"the move did not finish within --wait-timeout {options.wait_seconds:g}s"
                )
        run.report(final=True)
        run.elect_and_settle()
    except ReconcilerError as exc:
        failure = str(exc)
    except BaseException:  # interrupted: undo what is unfinished, then let it through
        _clean_up(run, throttles, options, "interrupted")
        raise
    if failure is not None:
        _clean_up(run, throttles, options, failure)
    else:
        refused = _set_throttles(admin, _cleared(throttles))  # the read-back verifies it
        if refused:
            failure = "removing the replication throttle failed: " + "; ".join(refused)
        elif rate:
            options.progress("throttle removed")
    return _results(run, failure)


def _throttles_gone(
    clients: Clients, topics: Collection[str], live: Collection[int], seconds: float
) -> list[str]:
    """Wait until every `live` broker reports the topics' throttled replicas gone. Each
    answers from its own copy of the metadata, a moment behind the controller; the read-back
    of a normal apply checks the same through every broker."""
    if not topics:
        return []
    admins = [clients.kafka_on(b) for b in clients.cluster()[0].brokers if b.node_id in live]
    deadline = time.monotonic() + seconds
    while True:
        left = {
            name
            for admin in admins
            for name, kept in admin.topic_configs(topics, _OVERRIDES)
            if kept and any(key in THROTTLED_REPLICAS for key in kept)
        }
        if not left or time.monotonic() > deadline:
            return [f"topic {name}: a broker still reports its throttle" for name in sorted(left)]
        time.sleep(TICK_SECONDS)


def _clean_up(
    run: Moving,
    throttles: tuple[
        Mapping[int, Mapping[str, str | None]], Mapping[str, Mapping[str, str | None]]
    ],
    options: ApplyOptions,
    why: str,
) -> None:
    """Cancel our unfinished moves and remove the throttles; say what happened. Never raises:
    it runs while something else already went wrong."""
    try:
        cancelled = run.cancel_ours()
    except ReconcilerError as exc:
        cancelled = 0
        options.progress(f"cancelling the unfinished moves failed: {exc}")
    try:
        refused = _set_throttles(run.admin, _cleared(throttles))
        # The topics' throttles are gone once every broker still here says so, also when a
        # broker that left kept its own rates (it refuses until it is back).
        removed = [t for t in throttles[1] if not any(r.startswith(f"topic {t}:") for r in refused)]
        live = run.admin.live_brokers()
        refused += _throttles_gone(run.clients, removed, live, options.settle_seconds)
    except ReconcilerError as exc:
        refused = [str(exc)]
    left = (
        "; throttles removed"
        if not refused
        else f"; removing throttles failed ({'; '.join(refused)}): the next apply removes them"
    )
    options.progress(
        f"{why}: {len(run.completed)} partitions had moved (they stay moved), "
        f"{cancelled} unfinished moves cancelled (back on their replicas from before){left}"
    )


def _results(run: Moving, failure: str | None) -> dict[str, str | None]:
    unfinished: dict[str, int] = {}
    for key in run.moves:
        if key not in run.completed:
            unfinished[key[0]] = unfinished.get(key[0], 0) + 1
    results: dict[str, str | None] = {}
    for topic in dict.fromkeys(k[0] for k in run.moves):
        errors = run.failed.get(topic, [])
        if failure and unfinished.get(topic):
            errors = [*errors, f"{failure}; {unfinished[topic]} partition(s) did not move"]
        results[topic] = "; ".join(errors) if errors else None
    return results


def throttle_removals(change: Change) -> dict[int, dict[str, str | None]]:
    """The broker configs a `remove throttles` change deletes: `broker.2.<key>` fields."""
    brokers: dict[int, dict[str, str | None]] = {}
    for diff in change.diff:
        _, broker, key = diff.field.split(".", 2)
        brokers.setdefault(int(broker), {})[key] = None
    return brokers


def remove_broker_throttles(clients: Clients, changes: Collection[Change]) -> dict[str, str | None]:
    """Apply the `remove throttles` changes; one result per change."""
    results: dict[str, str | None] = {}
    for change in changes:
        answered = clients.replicas().set_configs(throttle_removals(change), {})
        errors = [f"{name}: {error}" for name, error in sorted(answered.items()) if error]
        results[change.name] = "; ".join(errors) if errors else None
    return results


def managed_in_flight(
    clients: Clients, desired: Topics, topics: Collection[str] = ()
) -> dict[Partition, tuple[tuple[int, ...], tuple[int, ...]]]:
    """(original, target) of every reassignment in flight on a topic this environment
    manages (narrowed to `topics` when given): what `reconciler reassignments` shows."""
    return {
        key: (flight.original, flight.target)
        for key, flight in sorted(clients.replicas().reassignments().items())
        if desired.owns(key[0]) and (not topics or key[0] in topics)
    }


def cancel_in_flight(
    clients: Clients, desired: Topics, topics: Collection[str] = ()
) -> tuple[int, list[str]]:
    """Cancel the managed reassignments in flight (Kafka puts each partition back on its
    replicas from before the move), then remove the throttles of those topics, and the
    brokers' throttle rates once nothing moves any more. Returns (cancelled, errors)."""
    flights = managed_in_flight(clients, desired, topics)
    admin = clients.replicas()
    results = admin.reassign(dict.fromkeys(flights))
    errors = [f"{t} partition {p}: {e}" for (t, p), e in sorted(results.items()) if e]
    still = admin.reassignments()
    moved_topics = {t for t, _ in flights}
    brokers: dict[int, dict[str, str | None]] = {}
    if not still:
        brokers = {b: dict.fromkeys(THROTTLE_RATES) for b in admin.live_brokers()}
    cleared = {t: dict.fromkeys(THROTTLED_REPLICAS) for t in moved_topics}
    answered = admin.set_configs(brokers, cleared)
    errors += [f"{name}: {error}" for name, error in sorted(answered.items()) if error]
    return sum(1 for e in results.values() if not e), errors
