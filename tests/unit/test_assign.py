"""The rack-aware assigner as a pure function: its rules, and that its output is a fixed point."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from itertools import product

import pytest

from reconciler.kinds.topic.assign import Assignment, RackAwareAssigner, moved

THREE_AZ = {1: "az-1", 2: "az-2", 3: "az-3"}
FOUR_OVER_THREE = {1: "az-1", 2: "az-2", 3: "az-3", 4: "az-1"}


def assign(
    racks: Mapping[int, str | None], current: Assignment, rf: int, balance: bool = False
) -> dict[int, tuple[int, ...]]:
    return RackAwareAssigner(racks, balance=balance).assign(current, rf)


def racks_of(racks: Mapping[int, str | None], replicas: tuple[int, ...]) -> set[str | None]:
    return {racks[b] for b in replicas}


def test_rf_1_to_3_keeps_the_leader_and_adds_one_replica_per_other_rack() -> None:
    current = {p: (p % 3 + 1,) for p in range(6)}
    target = assign(THREE_AZ, current, 3)
    for p, replicas in target.items():
        assert replicas[0] == current[p][0]  # preferred leader kept
        assert len(replicas) == 3 and racks_of(THREE_AZ, replicas) == {"az-1", "az-2", "az-3"}
    assert Counter(r[0] for r in target.values()) == {1: 2, 2: 2, 3: 2}


def test_rf_increase_moves_only_the_new_replicas() -> None:
    pairs = [(1, 2), (2, 3), (3, 4), (4, 2), (1, 3), (2, 4), (3, 1), (4, 3)]  # rack-distinct
    current = dict(enumerate(pairs))
    target = assign(FOUR_OVER_THREE, current, 3)
    for p, replicas in target.items():
        assert replicas[:2] == current[p]  # kept, in order
        assert len(racks_of(FOUR_OVER_THREE, replicas)) == 3


def test_rf_decrease_drops_followers_never_the_preferred_leader() -> None:
    current = {p: tuple((p + i) % 3 + 1 for i in range(3)) for p in range(6)}
    target = assign(THREE_AZ, current, 2)
    for p, replicas in target.items():
        assert replicas[0] == current[p][0] and len(replicas) == 2
        assert set(replicas) <= set(current[p])
    counts = Counter(b for r in target.values() for b in r)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_rf_decrease_drops_the_replica_that_shares_a_rack_first() -> None:
    target = assign(FOUR_OVER_THREE, {0: (1, 2, 4)}, 2)
    assert target == {0: (1, 2)}  # 4 shares az-1 with the leader


def test_two_replicas_in_one_rack_are_spread_when_a_rack_is_free() -> None:
    target = assign(FOUR_OVER_THREE, {0: (1, 4), 1: (2, 3)}, 2)
    assert target[0][0] == 1 and target[0][1] in (2, 3)
    assert target[1] == (2, 3)  # already spread: untouched


def test_shared_racks_stay_when_the_racks_do_not_allow_better() -> None:
    two_racks = {1: "az-1", 2: "az-2", 3: "az-1"}
    target = assign(two_racks, {0: (1, 2, 3)}, 3)
    assert target == {0: (1, 2, 3)}


def test_racks_are_ignored_when_brokers_report_none() -> None:
    no_racks: dict[int, str | None] = {1: None, 2: None, 3: None}
    assert assign(no_racks, {0: (1, 2)}, 2) == {0: (1, 2)}
    assert assign(no_racks, {0: (1,)}, 3) == {0: (1, 2, 3)}


def test_a_new_broker_gets_replicas_only_with_balance() -> None:
    current = {p: ((p % 3) + 1, ((p + 1) % 3) + 1) for p in range(6)}
    assert moved(current, assign(FOUR_OVER_THREE, current, 2)) == {}
    balanced = assign(FOUR_OVER_THREE, current, 2, balance=True)
    counts = Counter(b for r in balanced.values() for b in r)
    assert counts[4] == 3 and max(counts.values()) - min(counts.values()) <= 1
    for replicas in balanced.values():
        assert len(racks_of(FOUR_OVER_THREE, replicas)) == 2  # still one rack per replica
    leaders = Counter(r[0] for r in balanced.values())
    assert max(leaders.values()) - min(leaders.get(b, 0) for b in FOUR_OVER_THREE) <= 1


def test_replicas_on_an_absent_broker_are_left_alone() -> None:
    assert assign(THREE_AZ, {0: (1, 9)}, 3) == {0: (1, 9)}


@pytest.mark.parametrize(("rf", "balance"), list(product((1, 2, 3), (False, True))))
def test_the_result_is_deterministic_and_a_fixed_point(rf: int, balance: bool) -> None:
    current = {p: tuple(((p * 7 + i) % 4) + 1 for i in range((p % 3) + 1)) for p in range(12)}
    current = {p: tuple(dict.fromkeys(r)) for p, r in current.items()}
    first = assign(FOUR_OVER_THREE, current, rf, balance)
    assert first == assign(FOUR_OVER_THREE, current, rf, balance)
    assert assign(FOUR_OVER_THREE, first, rf, balance) == first
    for replicas in first.values():
        assert len(replicas) == rf and len(set(replicas)) == rf
        assert len(racks_of(FOUR_OVER_THREE, replicas)) == min(rf, 3)
