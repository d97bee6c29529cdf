"""Replica placement as a pure function: current replicas in, target replicas out.

Shaped like topicctl's assigners and pickers: an `Assigner` decides which replicas a
partition must gain or lose (replication factor, racks, balance), a `Picker` decides which
broker among the feasible ones (here: the least loaded), so either can be swapped alone.
The rules, in order, for every partition (sorted, so the result is deterministic):

1. Existing replicas stay (the least data moved), the preferred leader (first replica)
   always: a replication-factor decrease drops followers only.
2. Replicas of a partition sit in distinct racks as far as the racks allow: a follower that
   shares a rack with another replica moves to a rack the partition does not use yet.
3. New replicas go to racks the partition uses least, then to the broker holding the
   fewest replicas of the topic, then of the cluster, then the lowest id.
4. With `balance`, replicas move from the topic's busiest brokers to its idlest (a broker
   that a broker-count increase added) until counts differ by at most one, then preferred
   leaders are rotated the same way; without it, nothing moves for balance alone.

The result is a fixed point: assigning its own output again changes nothing, which is what
makes "after apply, the plan is empty" hold for placement too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: Partition -> replica broker ids, preferred leader first.
Assignment = Mapping[int, tuple[int, ...]]
NO_RACK = "(no rack)"


@dataclass
class Load:
    """How many replicas and preferred leaderships each broker holds, kept current as the
    assigner decides: in the topic being placed, and in the whole cluster."""

    topic: Counter[int] = field(default_factory=Counter)
    leaders: Counter[int] = field(default_factory=Counter)
    cluster: Counter[int] = field(default_factory=Counter)

    def add(self, broker: int) -> None:
        self.topic[broker] += 1
        self.cluster[broker] += 1

    def remove(self, broker: int) -> None:
        self.topic[broker] -= 1
        self.cluster[broker] -= 1

    def key(self, broker: int) -> tuple[int, int, int]:
        return (self.topic[broker], self.cluster[broker], broker)


class Picker(Protocol):
    """Chooses among feasible brokers; the assigner has already applied every constraint."""

    def pick(self, candidates: Iterable[int], load: Load) -> int:
        """The broker to receive a new replica."""
        ...

    def drop(self, candidates: Iterable[int], load: Load) -> int:
        """The replica to give up."""
        ...


class LeastLoaded:
    """New replicas to the broker with the fewest replicas (topic, then cluster, then id);
    removals from the one with the most."""

    def pick(self, candidates: Iterable[int], load: Load) -> int:
        return min(candidates, key=load.key)

    def drop(self, candidates: Iterable[int], load: Load) -> int:
        return max(candidates, key=load.key)


class Assigner(Protocol):
    def assign(self, current: Assignment, replication_factor: int) -> dict[int, tuple[int, ...]]:
        """The target replicas of every partition (unchanged ones included)."""
        ...


@dataclass
class RackAwareAssigner:
    """The rules of the module docstring over one cluster's brokers.

    `racks` maps every live broker to its rack (None: racks are ignored). `load` carries the
    cluster's replica counts across topics, so placing several topics in turn spreads them.
    """

    racks: Mapping[int, str | None]
    balance: bool = False
    picker: Picker = field(default_factory=LeastLoaded)
    load: Load = field(default_factory=Load)

    def _rack(self, broker: int) -> str:
        return self.racks.get(broker) or NO_RACK

    @property
    def _rack_count(self) -> int:
        return len({self._rack(b) for b in self.racks})

    def _rack_aware(self) -> bool:
        return any(rack is not None for rack in self.racks.values())

    def assign(self, current: Assignment, replication_factor: int) -> dict[int, tuple[int, ...]]:
        self.load.topic = Counter()
        self.load.leaders = Counter()
        for held in current.values():
            self.load.topic.update(held)
            if held:
                self.load.leaders[held[0]] += 1
        target: dict[int, list[int]] = {}
        for partition in sorted(current):
            replicas = list(current[partition])
            if any(b not in self.racks for b in replicas):
                target[partition] = replicas  # a replica on an absent broker: leave it be
                continue
            self._shrink(replicas, replication_factor)
            if self._rack_aware():
                self._spread(replicas)
            self._grow(replicas, replication_factor)
            target[partition] = replicas
        if self.balance:
            self._balance_replicas(target)
            self._balance_leaders(target)
        return {p: tuple(r) for p, r in target.items()}

    # -- one partition ----------------------------------------------------------------------

    def _shared(self, replicas: Sequence[int]) -> list[int]:
        """Followers whose rack another replica of the partition already uses."""
        seen: set[str] = set()
        shared = []
        for index, broker in enumerate(replicas):
            rack = self._rack(broker)
            if rack in seen and index > 0:
                shared.append(broker)
            seen.add(rack)
        return shared if self._rack_aware() else []

    def _shrink(self, replicas: list[int], replication_factor: int) -> None:
        while len(replicas) > max(replication_factor, 1):
            followers = self._shared(replicas) or replicas[1:]
            dropped = self.picker.drop(followers, self.load)
            replicas.remove(dropped)
            self.load.remove(dropped)

    def _spread(self, replicas: list[int]) -> None:
        """Move followers out of shared racks while the partition leaves a rack unused."""
        while True:
            shared = self._shared(replicas)
            used = {self._rack(b) for b in replicas}
            free = [b for b in self.racks if self._rack(b) not in used]
            if not shared or not free:
                return
            leaving = self.picker.drop(shared, self.load)
            arriving = self.picker.pick(free, self.load)
            replicas[replicas.index(leaving)] = arriving
            self.load.remove(leaving)
            self.load.add(arriving)

    def _grow(self, replicas: list[int], replication_factor: int) -> None:
        while len(replicas) < replication_factor:
            candidates = [b for b in self.racks if b not in replicas]
            if not candidates:
                return  # more replicas than brokers: the diff refuses it before this
            used = Counter(self._rack(b) for b in replicas)
            fewest = min(used[self._rack(b)] for b in candidates)
            arriving = self.picker.pick(
                (b for b in candidates if used[self._rack(b)] == fewest), self.load
            )
            replicas.append(arriving)
            self.load.add(arriving)

    # -- the whole topic (balance) -----------------------------------------------------------

    def _fits(self, replicas: Sequence[int], leaving: int, arriving: int) -> bool:
        """`arriving` may take `leaving`'s place without two replicas sharing a rack more
        than before."""
        if arriving in replicas:
            return False
        if not self._rack_aware() or self._rack(arriving) == self._rack(leaving):
            return True
        others = {self._rack(b) for b in replicas if b != leaving}
        return self._rack(arriving) not in others

    def _balance_replicas(self, target: dict[int, list[int]]) -> None:
        brokers = sorted(self.racks)
        for _ in range(sum(len(r) for r in target.values())):
            busiest = max(brokers, key=lambda b: (self.load.topic[b], -b))
            idlest = min(brokers, key=self.load.key)
            if self.load.topic[busiest] - self.load.topic[idlest] <= 1:
                return
            moved = False
            # Followers first (the preferred leader stays where it is when it can).
            for partition in sorted(target, key=lambda p: (target[p][:1] == [busiest], p)):
                replicas = target[partition]
                if busiest in replicas and self._fits(replicas, busiest, idlest):
                    replicas[replicas.index(busiest)] = idlest
                    self.load.remove(busiest)
                    self.load.add(idlest)
                    moved = True
                    break
            if not moved:
                return

    def _balance_leaders(self, target: dict[int, list[int]]) -> None:
        leaders = Counter(r[0] for r in target.values() if r)
        brokers = sorted(self.racks)
        for _ in range(len(target)):
            most = max(brokers, key=lambda b: (leaders[b], -b))
            least = min(brokers, key=lambda b: (leaders[b], b))
            if leaders[most] - leaders[least] <= 1:
                return
            for partition in sorted(target):
                replicas = target[partition]
                if replicas and replicas[0] == most and least in replicas:
                    replicas.remove(least)
                    replicas.insert(0, least)
                    leaders[most] -= 1
                    leaders[least] += 1
                    break
            else:
                return


def moved(current: Assignment, target: Assignment) -> dict[int, tuple[tuple[int, ...], ...]]:
    """Partition -> (before, after) for every partition whose replicas change."""
    return {p: (current[p], target[p]) for p in sorted(target) if tuple(current[p]) != target[p]}
