"""The plan comment: one per environment, by the bot only, edited in place, never needlessly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.github.client import GitHub, Repo
from reconciler.github.comments import Upsert, upsert_plan_comment
from reconciler.github.markers import plan_marker
from tests.fake_github import FakeGitHub, serve

BOT = "github-actions[bot]"
REPO = Repo("acme", "kafka-specs")
SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    tokens = {"t-bot": BOT, "t-alice": "alice"}
    with serve(FakeGitHub(tokens=tokens, max_per_page=3)) as server:
        server.add_pull(7)
        yield server


def body(env: str, text: str) -> str:
    return f"## Plan for {env} ✅\n\n{text}\n\n{plan_marker(env, SPECS, OBSERVED)}\n"


def test_created_then_edited_in_place_then_left_alone(fake: FakeGitHub) -> None:
    gh = GitHub(fake.url, "t-bot")
    for index in range(8):  # others' comments, over several pages
        fake.add_comment(7, "alice", f"Kommentar {index}: sieht gut aus 👍")
    first = upsert_plan_comment(gh, REPO, 7, environment="prod", body=body("prod", "1"), bot=BOT)
    second = upsert_plan_comment(gh, REPO, 7, environment="prod", body=body("prod", "2"), bot=BOT)
    writes = len(fake.writes())
    third = upsert_plan_comment(gh, REPO, 7, environment="prod", body=body("prod", "2"), bot=BOT)
    assert [first[0], second[0], third[0]] == [Upsert.CREATED, Upsert.UPDATED, Upsert.UNCHANGED]
    assert first[1].id == second[1].id == third[1].id
    assert len(fake.writes()) == writes  # unchanged: no PATCH
    mine = [c for c in fake.comments_on(7) if c["user"]["login"] == BOT]
    assert [c["body"] for c in mine] == [body("prod", "2")]


def test_each_environment_has_its_own_comment(fake: FakeGitHub) -> None:
    gh = GitHub(fake.url, "t-bot")
    upsert_plan_comment(gh, REPO, 7, environment="dev", body=body("dev", "d"), bot=BOT)
    upsert_plan_comment(gh, REPO, 7, environment="prod", body=body("prod", "p"), bot=BOT)
    upsert_plan_comment(gh, REPO, 7, environment="dev", body=body("dev", "d2"), bot=BOT)
    bodies = sorted(c["body"] for c in fake.comments_on(7))
    assert bodies == [body("dev", "d2"), body("prod", "p")]


def test_a_forged_marker_by_someone_else_is_ignored(fake: FakeGitHub) -> None:
    forged = fake.add_comment(7, "alice", body("prod", "trust me"))
    quoted = fake.add_comment(7, BOT, f"{plan_marker('prod', SPECS, OBSERVED)}\nquoted, not last")
    gh = GitHub(fake.url, "t-bot")
    action, comment = upsert_plan_comment(
        gh, REPO, 7, environment="prod", body=body("prod", "real"), bot=BOT
    )
    assert action is Upsert.CREATED
    assert comment.id not in (forged, quoted)
    assert fake.comments[forged]["body"] == body("prod", "trust me")
