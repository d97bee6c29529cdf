"""The REST client: Link pagination, errors that say why, the token kept to the API root."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from reconciler.github.client import GitHub, GitHubError, Repo, next_link
from tests.fake_github import FakeGitHub, serve

REPO = Repo("acme", "kafka-specs")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub(tokens={"t-bot": "reconciler[bot]"}, max_per_page=2)) as server:
        server.add_pull(7)
        yield server


def test_next_link_picks_rel_next_among_others() -> None:
    header = (
        '<https://api.github.com/x?page=1>; rel="prev", '
        '<https://api.github.com/x?page=3>; rel="next", '
        '<https://api.github.com/x?page=9>; rel="last"'
    )
    assert next_link(header) == "https://api.github.com/x?page=3"
    assert next_link('<https://api.github.com/x?page=1>; rel="first"') is None
    assert next_link(None) is None


def test_paginate_follows_every_page(fake: FakeGitHub) -> None:
    for index in range(7):
        fake.add_comment(7, "alice", f"comment {index}")
    gh = GitHub(fake.url, "t-bot")
    bodies = [c["body"] for c in gh.paginate(f"{REPO.path}/issues/7/comments")]
    assert bodies == [f"comment {i}" for i in range(7)]
    assert fake.log.count(("GET", "/repos/acme/kafka-specs/issues/7/comments")) == 4


def test_multibyte_text_round_trips(fake: FakeGitHub) -> None:
    text = "Grüße aus Köln 🚀 — 日本語のコメント"
    gh = GitHub(fake.url, "t-bot")
    created = gh.request("POST", f"{REPO.path}/issues/7/comments", {"body": text})
    [listed] = gh.paginate(f"{REPO.path}/issues/7/comments")
    assert created["body"] == listed["body"] == text


def test_http_errors_name_the_call_status_and_hint(fake: FakeGitHub) -> None:
    with pytest.raises(GitHubError) as bad_token:
        GitHub(fake.url, "wrong").request("GET", f"{REPO.path}/issues/7/comments")
    assert bad_token.value.status == 401
    assert "Bad credentials" in str(bad_token.value)
    assert "token" in str(bad_token.value)
    with pytest.raises(GitHubError) as missing:
        GitHub(fake.url, "t-bot").request("GET", f"{REPO.path}/issues/99/comments")
    assert missing.value.status == 404
    assert "/repos/acme/kafka-specs/issues/99/comments" in str(missing.value)


def test_an_unreachable_api_is_a_clear_error() -> None:
    gh = GitHub("http://127.0.0.1:9", "t", timeout=2, retries=0)
    with pytest.raises(GitHubError, match="cannot connect"):
        gh.request("GET", "/rate_limit")


class _ForeignLink(GitHub):
    def _send(
        self, method: str, url: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, Mapping[str, str]]:
        return [1], {"Link": '<https://evil.example/steal?page=2>; rel="next"'}


def test_a_next_page_outside_the_api_root_is_refused() -> None:
    pages = _ForeignLink("https://api.github.com", "secret").paginate("/repos/a/b/issues")
    assert next(pages) == 1
    with pytest.raises(GitHubError, match="outside the API root"):
        next(pages)


def test_token_and_api_url_come_from_the_environment() -> None:
    gh = GitHub.from_env({"GITHUB_TOKEN": "abc", "GITHUB_API_URL": "http://127.0.0.1:1"})
    assert (gh.api_url, gh.token) == ("http://127.0.0.1:1", "abc")
    assert GitHub.from_env({"GITHUB_TOKEN": "abc"}).api_url == "https://api.github.com"
    with pytest.raises(GitHubError, match="GITHUB_TOKEN is not set"):
        GitHub.from_env({})


def test_repo_parsing() -> None:
    assert Repo.parse("acme/kafka-specs") == REPO
    assert REPO.path == "/repos/acme/kafka-specs"
    for bad in ("acme", "/x", "a/b/c", ""):
        with pytest.raises(GitHubError, match="OWNER/NAME"):
            Repo.parse(bad)
