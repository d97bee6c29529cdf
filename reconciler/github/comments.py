"""The bot's one comment per environment on a pull request: found, created, or edited in place.

A comment is ours only when the bot wrote it AND its last line is the marker of the
environment; anyone can paste a marker into a comment, nobody else can post as the bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.github.client import GitHub, Repo
from reconciler.github.markers import parse_plan_marker


@dataclass(frozen=True)
class Comment:
    id: int
    user: str
    body: str
    url: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Comment:
        user = data.get("user") or {}
        return cls(
            int(data["id"]),
            str(user.get("login", "")),
            data.get("body") or "",
            str(data.get("html_url", "")),
        )


class Upsert(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def same_body(old: str, new: str) -> bool:
    """GitHub may store CRLF and trims trailing whitespace; neither is a change."""
    return old.replace("\r\n", "\n").rstrip() == new.replace("\r\n", "\n").rstrip()


def find_plan_comment(comments: Iterable[Comment], environment: str, bot: str) -> Comment | None:
    """The oldest comment by the bot whose marker names the environment."""
    for comment in comments:
        marker = parse_plan_marker(comment.body)
        if comment.user == bot and marker is not None and marker.environment == environment:
            return comment
    return None


def list_comments(gh: GitHub, repo: Repo, number: int) -> list[Comment]:
    return [Comment.from_api(c) for c in gh.paginate(f"{repo.path}/issues/{number}/comments")]


def plan_comment_of(
    gh: GitHub, repo: Repo, number: int, environment: str, bot: str
) -> Comment | None:
    return find_plan_comment(list_comments(gh, repo, number), environment, bot)


def upsert_plan_comment(
    gh: GitHub, repo: Repo, number: int, *, environment: str, body: str, bot: str
) -> tuple[Upsert, Comment]:
    """Edit the environment's comment in place, create it if missing, or leave it alone."""
    existing = plan_comment_of(gh, repo, number, environment, bot)
    return write_comment(gh, repo, number, existing, body)


def write_comment(
    gh: GitHub, repo: Repo, number: int, existing: Comment | None, body: str
) -> tuple[Upsert, Comment]:
    if existing is None:
        created = gh.request("POST", f"{repo.path}/issues/{number}/comments", {"body": body})
        return Upsert.CREATED, Comment.from_api(created)
    if same_body(existing.body, body):
        return Upsert.UNCHANGED, existing
    edited = gh.request("PATCH", f"{repo.path}/issues/comments/{existing.id}", {"body": body})
    return Upsert.UPDATED, Comment.from_api(edited)
