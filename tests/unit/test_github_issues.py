"""The drift issue: one per environment, labelled and marked; updated on change; closed after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.github.bodies import DRIFT_LABEL
from reconciler.github.client import GitHub, Repo
from reconciler.github.comments import Upsert
from reconciler.github.issues import close_drift_issue, upsert_drift_issue
from reconciler.github.markers import drift_marker
from tests.fake_github import FakeGitHub, serve

BOT = "github-actions[bot]"
REPO = Repo("acme", "kafka-specs")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub(tokens={"t-bot": BOT, "t-bob": "bob"}, max_per_page=2)) as server:
        yield server


def body(env: str, text: str) -> str:
    return f"## Drift in {env}\n\n{text}\n\n{drift_marker(env)}\n"


def test_open_update_leave_alone_close(fake: FakeGitHub) -> None:
    gh = GitHub(fake.url, "t-bot")
    bob = GitHub(fake.url, "t-bob")
    for index in range(3):  # other open issues, one with the label and a copied marker
        bob.request("POST", f"{REPO.path}/issues", {"title": f"bug {index}", "body": "Fehler ü"})
    bob.request(
        "POST",
        f"{REPO.path}/issues",
        {"title": "copied", "body": body("dev", "copy"), "labels": [DRIFT_LABEL]},
    )
    opened = upsert_drift_issue(gh, REPO, "dev", title="Drift", body=body("dev", "a"), bot=BOT)
    edited = upsert_drift_issue(gh, REPO, "dev", title="Drift", body=body("dev", "b"), bot=BOT)
    writes = len(fake.writes())
    same = upsert_drift_issue(gh, REPO, "dev", title="Drift", body=body("dev", "b"), bot=BOT)
    assert [opened[0], edited[0], same[0]] == [Upsert.CREATED, Upsert.UPDATED, Upsert.UNCHANGED]
    assert opened[1].number == edited[1].number == same[1].number
    assert len(fake.writes()) == writes
    issue = fake.issues[opened[1].number]
    assert [label["name"] for label in issue["labels"]] == [DRIFT_LABEL]

    closed = close_drift_issue(gh, REPO, "dev", "gone ✔", BOT)
    assert closed is not None
    assert issue["state"] == "closed"
    assert issue["state_reason"] == "completed"
    assert [c["body"] for c in fake.comments_on(issue["number"])] == ["gone ✔"]
    assert close_drift_issue(gh, REPO, "dev", "gone", BOT) is None
    assert fake.issues[4]["state"] == "open"  # bob's look-alike is never touched


def test_environments_have_separate_issues_and_the_label_is_created_once(
    fake: FakeGitHub,
) -> None:
    gh = GitHub(fake.url, "t-bot")
    upsert_drift_issue(gh, REPO, "dev", title="dev", body=body("dev", "x"), bot=BOT)
    upsert_drift_issue(gh, REPO, "prod", title="prod", body=body("prod", "x"), bot=BOT)
    assert [i["title"] for i in fake.issues.values()] == ["dev", "prod"]
    assert fake.writes().count(("POST", "/repos/acme/kafka-specs/labels")) == 1
    assert fake.labels[DRIFT_LABEL]["description"].startswith("The cluster differs")
