"""One open drift issue per environment: opened on drift, edited when it changes, closed after.

Found by label, author and marker together, like the plan comment: an issue someone else
opens with the same label or marker is never edited or closed by the drift check.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.github.bodies import DRIFT_LABEL
from reconciler.github.client import GitHub, GitHubError, Repo
from reconciler.github.comments import Upsert, same_body
from reconciler.github.markers import parse_drift_marker

LABEL_COLOR = "d93f0b"
LABEL_DESCRIPTION = "The cluster differs from its specs (opened by the drift check)"


@dataclass(frozen=True)
class Issue:
    number: int
    user: str
    title: str
    body: str
    url: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Issue:
        return cls(
            int(data["number"]),
            str((data.get("user") or {}).get("login", "")),
            str(data.get("title", "")),
            data.get("body") or "",
            str(data.get("html_url", "")),
        )


def find_drift_issue(issues: Iterable[Issue], environment: str, bot: str) -> Issue | None:
    for issue in issues:
        if issue.user == bot and parse_drift_marker(issue.body) == environment:
            return issue
    return None


def open_drift_issues(gh: GitHub, repo: Repo) -> list[Issue]:
    """Open issues with the drift label; pull requests share the endpoint and are skipped."""
    params = {"state": "open", "labels": DRIFT_LABEL, "sort": "created", "direction": "asc"}
    return [
        Issue.from_api(item)
        for item in gh.paginate(f"{repo.path}/issues", params)
        if "pull_request" not in item
    ]


def ensure_label(gh: GitHub, repo: Repo) -> None:
    """Create the drift label on first use, so people can filter and subscribe to it."""
    try:
        gh.request("GET", f"{repo.path}/labels/{urllib.parse.quote(DRIFT_LABEL)}")
    except GitHubError as error:
        if error.status != 404:
            raise
        body = {"name": DRIFT_LABEL, "color": LABEL_COLOR, "description": LABEL_DESCRIPTION}
        gh.request("POST", f"{repo.path}/labels", body)


def upsert_drift_issue(
    gh: GitHub, repo: Repo, environment: str, *, title: str, body: str, bot: str
) -> tuple[Upsert, Issue]:
    existing = find_drift_issue(open_drift_issues(gh, repo), environment, bot)
    if existing is None:
        ensure_label(gh, repo)
        created = gh.request(
            "POST", f"{repo.path}/issues", {"title": title, "body": body, "labels": [DRIFT_LABEL]}
        )
        return Upsert.CREATED, Issue.from_api(created)
    if existing.title == title and same_body(existing.body, body):
        return Upsert.UNCHANGED, existing
    edited = gh.request(
        "PATCH", f"{repo.path}/issues/{existing.number}", {"title": title, "body": body}
    )
    return Upsert.UPDATED, Issue.from_api(edited)


def close_drift_issue(
    gh: GitHub, repo: Repo, environment: str, comment: str, bot: str
) -> Issue | None:
    """Say why and close the environment's open drift issue; None when there is none."""
    existing = find_drift_issue(open_drift_issues(gh, repo), environment, bot)
    if existing is None:
        return None
    gh.request("POST", f"{repo.path}/issues/{existing.number}/comments", {"body": comment})
    closed = gh.request(
        "PATCH",
        f"{repo.path}/issues/{existing.number}",
        {"state": "closed", "state_reason": "completed"},
    )
    return Issue.from_api(closed)
