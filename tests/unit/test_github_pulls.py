"""Apply's gate: the merged pull request of a commit, and its reviewed digests against now."""

from __future__ import annotations

import pytest

from reconciler.core.model import Plan
from reconciler.github.markers import PlanMarker
from reconciler.github.pulls import NotApproved, PullRequest, check_approved, merged_pull

SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64
OTHER = "sha256:" + "c" * 64
PLAN = Plan("prod", SPECS, OBSERVED, ())


def pull(
    number: int, merged: bool = True, sha: str | None = "m1", base: str = "main"
) -> PullRequest:
    return PullRequest(number, merged, sha, base, f"https://x/pull/{number}")


def test_the_pull_request_whose_merge_made_the_commit_wins() -> None:
    pulls = [pull(3, sha="other"), pull(4, sha="m1"), pull(5, merged=False)]
    assert merged_pull(pulls, "m1").number == 4
    assert merged_pull([pull(3, sha=None)], "m1").number == 3  # the only merged one
    assert merged_pull([pull(3, base="release"), pull(4, sha=None)], "m1", "main").number == 4


def test_a_commit_without_a_merged_pull_request_is_refused() -> None:
    with pytest.raises(NotApproved, match="not the merge of a pull request"):
        merged_pull([pull(5, merged=False)], "abcdef1234567890")
    with pytest.raises(NotApproved, match=r"several merged pull requests \(#3, #4\)"):
        merged_pull([pull(3, sha="x"), pull(4, sha="y")], "m1")


def test_equal_digests_are_approved() -> None:
    check_approved(PLAN, PlanMarker("prod", SPECS, OBSERVED), 4)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (None, "has no plan comment for environment 'prod'"),
        (PlanMarker("prod", "none", "none"), "failed"),
        (PlanMarker("prod", OTHER, OBSERVED), "specs of 'prod' differ"),
        (PlanMarker("prod", SPECS, OTHER), "cluster changed since the plan on pull request #4"),
    ],
)
def test_anything_else_is_refused(marker: PlanMarker | None, message: str) -> None:
    with pytest.raises(NotApproved, match=message) as refused:
        check_approved(PLAN, marker, 4)
    assert "applied" in str(refused.value)
