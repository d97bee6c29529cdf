"""Affected environments: own directory or includes; broken specs still count; names checked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.core.errors import ReconcilerError
from reconciler.github.affected import affected, discover

ENV = "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {{name: {name}}}\nspec:\n{rest}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    for name, rest in {
        "dev": "  include: [../shared]\n",
        "prod": "  include: [../shared, ../extra/prod-only.yaml]\n",
        "local": "  topics: {manage: ['*']}\n",
    }.items():
        (specs / name).mkdir(parents=True)
        (specs / name / "environment.yaml").write_text(ENV.format(name=name, rest=rest))
    (specs / "shared" / "team").mkdir(parents=True)
    (specs / "shared" / "team" / "topics.yaml").write_text("kind: Topic\n")
    (specs / "extra").mkdir()
    (specs / "extra" / "prod-only.yaml").write_text("kind: Topic\n")
    return tmp_path


def run(repo: Path, *changed: str, names: tuple[str, ...] = ("dev", "prod", "local")) -> list[str]:
    return affected(changed, repo / "specs", names, repo)


def test_own_directory_and_includes(repo: Path) -> None:
    assert run(repo, "specs/local/topics.yaml") == ["local"]
    assert run(repo, "specs/shared/team/topics.yaml") == ["dev", "prod"]
    assert run(repo, "specs/shared/team/deleted.yaml") == ["dev", "prod"]  # gone from disk
    assert run(repo, "specs/extra/prod-only.yaml") == ["prod"]
    assert run(repo, "specs/extra/other.yaml", "README.md", "") == []


def test_only_the_managed_environments_in_their_order(repo: Path) -> None:
    assert run(repo, "specs", names=("prod", "dev")) == ["prod", "dev"]
    assert run(repo, "specs/gone/x.yaml", names=("gone",)) == []


def test_broken_specs_still_count(repo: Path) -> None:
    (repo / "specs" / "dev" / "environment.yaml").write_text("kind: [unclosed\n")
    assert run(repo, "specs/dev/environment.yaml") == ["dev"]
    assert run(repo, "specs/shared/team/topics.yaml") == ["prod"]  # dev's includes unreadable


def test_unsafe_names_are_refused(repo: Path) -> None:
    with pytest.raises(ReconcilerError, match="not allowed"):
        run(repo, "specs", names=("dev$(id)",))


def test_discover_finds_environment_directories_only(repo: Path) -> None:
    assert discover(repo / "specs") == ["dev", "local", "prod"]


def test_hostile_yaml_is_read_within_the_spec_limits(repo: Path) -> None:
    """The pull request's YAML, read on the runners: 5,000 `[` (PyYAML's own reader recursed
    into a RecursionError) and a 100 MB file are refused by the spec limits at once; the
    Environment after them is still found, so the environment still counts."""
    dev = repo / "specs" / "dev"
    (dev / "0.yaml").write_text("[" * 5000)
    with (dev / "1.yaml").open("wb") as huge:
        huge.truncate(100 * 2**20)  # sparse: costs no disk
    started = time.monotonic()
    assert run(repo, "specs/shared/team/topics.yaml") == ["dev", "prod"]
    assert discover(repo / "specs") == ["dev", "local", "prod"]
    assert time.monotonic() - started < 2
