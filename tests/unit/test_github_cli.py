"""`reconciler github ...` as the workflows call it, against the fake GitHub (no cluster)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.core.model import Action, Change, FieldDiff, Orphan, Plan, Risk
from reconciler.github.cli import github
from reconciler.github.markers import parse_plan_marker
from reconciler.render.plan_json import render_json
from tests.fake_github import FakeGitHub, serve

BOT = "github-actions[bot]"
SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64
CHANGE = Change("Topic", "orders", Action.CREATE, Risk.SAFE, (FieldDiff("partitions", None, 3),))

Run = Callable[..., Result]


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub(tokens={"t-bot": BOT}, max_per_page=2)) as server:
        server.add_pull(7, commits=("c0ffee",))
        yield server


@pytest.fixture
def run(fake: FakeGitHub, tmp_path: Path) -> Run:
    env = {
        "GITHUB_TOKEN": "t-bot",
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "42",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(github, list(args), env=env)

    return invoke


def write_plan(path: Path, plan: Plan) -> Path:
    path.write_text(render_json(plan), encoding="utf-8")
    return path


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "specs" / "prod"
    directory.mkdir(parents=True)
    (directory / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: prod}\nspec: {}\n"
    )
    return directory


def test_affected_prints_and_sets_the_step_output(
    run: Run, env_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "changed.txt").write_text("specs/prod/topics.yaml\nREADME.md\n")
    result = run(
        "affected",
        "--changed-files",
        "changed.txt",
        "--environments",
        '["dev", "prod"]',
        "--github-output",
        "environments",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ["prod"]
    assert (tmp_path / "output").read_text() == 'environments=["prod"]\n'
    bad = run("affected", "--changed-files", "changed.txt", "--environments", "{}")
    assert bad.exit_code == 1
    assert "must be a JSON list" in bad.output


def test_comment_plan_posts_the_plan_then_the_error_in_the_same_comment(
    run: Run, fake: FakeGitHub, env_dir: Path, tmp_path: Path
) -> None:
    plan_file = write_plan(tmp_path / "plan.json", Plan("prod", SPECS, OBSERVED, (CHANGE,)))
    posted = run(
        "comment-plan", str(env_dir), "--pr", "7", "--plan", str(plan_file), "--commit", "c0ffee"
    )
    assert posted.exit_code == 0, posted.output
    assert posted.stdout.startswith("created the prod plan comment on #7")
    [comment] = fake.comments_on(7)
    assert "[this run](https://github.example/acme/kafka-specs/actions/runs/42)" in comment["body"]
    assert "`plan-prod` artifact" not in comment["body"]  # small plan: nothing left out

    (tmp_path / "plan.err").write_text("error: cannot reach the brokers ```\n")
    failed = run(
        "comment-plan",
        str(env_dir),
        "--pr",
        "7",
        "--plan",
        str(tmp_path / "none.json"),
        "--error-file",
        str(tmp_path / "plan.err"),
    )
    assert failed.exit_code == 0, failed.output
    assert failed.stdout.startswith("updated the prod plan comment on #7")
    [comment] = fake.comments_on(7)
    assert "cannot reach the brokers" in comment["body"]
    marker = parse_plan_marker(comment["body"])
    assert marker is not None
    assert not marker.planned


def test_an_error_comment_is_keyed_by_the_directory_never_by_what_the_specs_say(
    run: Run, fake: FakeGitHub, env_dir: Path, tmp_path: Path
) -> None:
    """A pull request that names specs/dev `prod` gets a failed plan (the loader refuses the
    name) whose comment is dev's: prod's reviewed comment is left alone, and no YAML is
    parsed for the name (the file may be what made the plan fail)."""
    prod = write_plan(tmp_path / "plan.json", Plan("prod", SPECS, OBSERVED, (CHANGE,)))
    assert run("comment-plan", str(env_dir), "--pr", "7", "--plan", str(prod)).exit_code == 0
    dev = tmp_path / "specs" / "dev"
    dev.mkdir()
    (dev / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: prod}\nspec: {}\n"
    )
    (tmp_path / "plan.err").write_text("error: metadata.name: is 'prod' ...\n")
    failed = run("comment-plan", str(dev), "--pr", "7", "--error-file", str(tmp_path / "plan.err"))
    assert failed.exit_code == 0, failed.output
    assert failed.stdout.startswith("created the dev plan comment on #7")
    markers = [parse_plan_marker(c["body"]) for c in fake.comments_on(7)]
    assert [(m.environment, m.planned) for m in markers if m] == [("prod", True), ("dev", False)]


def test_plan_body_is_the_comment_without_posting(
    run: Run, fake: FakeGitHub, env_dir: Path, tmp_path: Path
) -> None:
    plan_file = write_plan(tmp_path / "plan.json", Plan("prod", SPECS, OBSERVED, (CHANGE,)))
    result = run("plan-body", str(env_dir), "--plan", str(plan_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## Reconciler plan for `prod`")
    assert fake.writes() == []


def test_merged_pr_and_check_approved(
    run: Run, fake: FakeGitHub, env_dir: Path, tmp_path: Path
) -> None:
    plan = Plan("prod", SPECS, OBSERVED, (CHANGE,))
    plan_file = write_plan(tmp_path / "plan.json", plan)
    not_merged = run("merged-pr", "--commit", "c0ffee")
    assert not_merged.exit_code == 1
    assert "not the merge of a pull request" in not_merged.output

    fake.merge(7, "beef01")
    merged = run("merged-pr", "--commit", "beef01", "--branch", "main", "--github-output", "pr")
    assert (merged.exit_code, merged.stdout) == (0, "7\n")
    assert (tmp_path / "output").read_text() == "pr=7\n"

    unreviewed = run("check-approved", "--plan", str(plan_file), "--pr", "7")
    assert unreviewed.exit_code == 1
    assert "has no plan comment for environment 'prod'" in unreviewed.output
    run("comment-plan", str(env_dir), "--pr", "7", "--plan", str(plan_file))
    approved = run("check-approved", "--plan", str(plan_file), "--pr", "7")
    assert approved.exit_code == 0, approved.output
    changed = write_plan(tmp_path / "now.json", Plan("prod", SPECS, "sha256:" + "c" * 64, ()))
    refused = run("check-approved", "--plan", str(changed), "--pr", "7")
    assert refused.exit_code == 1
    assert "cluster changed since the plan" in refused.output


def test_record_apply_adds_the_result_and_keeps_the_reviewed_marker(
    run: Run, fake: FakeGitHub, env_dir: Path, tmp_path: Path
) -> None:
    plan_file = write_plan(tmp_path / "plan.json", Plan("prod", SPECS, OBSERVED, (CHANGE,)))
    run("comment-plan", str(env_dir), "--pr", "7", "--plan", str(plan_file))
    [before] = fake.comments_on(7)
    before_body = before["body"]
    (tmp_path / "apply.log").write_text("done create Topic orders\nApply complete\n")
    result = run(
        "record-apply",
        str(env_dir),
        "--pr",
        "7",
        "--outcome",
        "applied",
        "--plan",
        str(plan_file),
        "--log",
        str(tmp_path / "apply.log"),
    )
    assert result.exit_code == 0, result.output
    [after] = fake.comments_on(7)
    assert "### Applied" in after["body"]
    assert "Apply complete" in after["body"]
    assert parse_plan_marker(after["body"]) == parse_plan_marker(before_body)
    missing = run(
        "record-apply",
        str(env_dir),
        "--pr",
        "7",
        "--outcome",
        "failed",
        "--plan",
        str(write_plan(tmp_path / "d.json", Plan("dev", SPECS, OBSERVED, ()))),
    )
    assert missing.exit_code == 1
    assert "has no dev plan comment" in missing.output


def test_drift_opens_then_closes_the_issue(run: Run, fake: FakeGitHub, tmp_path: Path) -> None:
    drifted = Plan("prod", SPECS, OBSERVED, (CHANGE,), (Orphan("Topic", "ordres", "no spec"),))
    opened = run("drift", "--plan", str(write_plan(tmp_path / "a.json", drifted)))
    assert opened.exit_code == 0, opened.output
    assert opened.stdout.startswith("created the drift issue of prod")
    clean = write_plan(tmp_path / "b.json", Plan("prod", SPECS, OBSERVED, ()))
    closed = run("drift", "--plan", str(clean))
    assert closed.stdout.startswith("closed the drift issue of prod")
    assert run("drift", "--plan", str(clean)).stdout == "no drift in prod\n"
    no_plan = run("drift", "--plan", str(tmp_path / "missing.json"))
    assert no_plan.exit_code == 1
    assert "no plan was made" in no_plan.output
