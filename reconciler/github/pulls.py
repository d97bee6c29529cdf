"""Which pull request a pushed commit came from, and whether its reviewed plan still holds.

Apply runs on the push to the default branch; what was reviewed is the plan comment on the
merged pull request. Its marker's digests must equal those of a plan made now, else the
specs or the cluster changed since the review and nothing is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Plan
from reconciler.github.client import GitHub, Repo
from reconciler.github.markers import PlanMarker


class NotApproved(ReconcilerError):
    """The plan made now is not the plan that was reviewed; nothing may be applied."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    merged: bool
    merge_commit_sha: str | None
    base_ref: str
    url: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]),
            merged=bool(data.get("merged_at")),
            merge_commit_sha=data.get("merge_commit_sha"),
            base_ref=str((data.get("base") or {}).get("ref", "")),
            url=str(data.get("html_url", "")),
        )


def pulls_of_commit(gh: GitHub, repo: Repo, sha: str) -> list[PullRequest]:
    return [PullRequest.from_api(p) for p in gh.paginate(f"{repo.path}/commits/{sha}/pulls")]


def merged_pull(pulls: Iterable[PullRequest], sha: str, branch: str | None = None) -> PullRequest:
    """The pull request whose merge made `sha`; with several candidates, the one it names.

    A commit pushed without a merged pull request was never reviewed, so that is an error.
    """
    merged = [p for p in pulls if p.merged and (branch is None or p.base_ref == branch)]
    exact = [p for p in merged if p.merge_commit_sha == sha]
    if exact:
        return exact[0]
    if len(merged) == 1:
        return merged[0]
    if not merged:
        raise NotApproved(
            f"commit {sha[:12]} is not the merge of a pull request; only reviewed plans are "
            "applied. Open a pull request with the change"
        )
    numbers = ", ".join(f"#{p.number}" for p in merged)
    raise NotApproved(f"commit {sha[:12]} belongs to several merged pull requests ({numbers})")


def check_approved(plan: Plan, marker: PlanMarker | None, number: int) -> None:
    """Raises NotApproved unless `plan` was made from what the comment's plan was made from."""
    where = f"pull request #{number}"
    if marker is None:
        raise NotApproved(
            f"{where} has no plan comment for environment {plan.environment!r} by the bot; "
            "nothing was reviewed for it, so nothing was applied"
        )
    if not marker.planned:
        raise NotApproved(
            f"the last plan of {plan.environment!r} on {where} failed; nothing was applied"
        )
    if marker.specs_digest != plan.specs_digest:
        raise NotApproved(
            f"the specs of {plan.environment!r} differ from the ones reviewed on {where} "
            f"({marker.specs_digest[:19]} reviewed, {plan.specs_digest[:19]} now; was another "
            "pull request merged after it was planned?). Nothing was applied"
        )
    if marker.observed_digest != plan.observed_digest:
        raise NotApproved(
            f"the {plan.environment!r} cluster changed since the plan on {where} was made "
            f"({marker.observed_digest[:19]} reviewed, {plan.observed_digest[:19]} now). "
            "Nothing was applied"
        )
