"""The GitOps loop end to end: the real local Kafka cluster, a fake GitHub, the real CLI.

A pull request is planned (comment created, then edited on the next push), merged, and
applied only after the digest check (refused once because the cluster changed in between);
then someone changes the cluster by hand, the drift check opens an issue, the change is
undone, and the drift check closes the issue. The same steps the workflows run, in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from reconciler.cli import main
from reconciler.engine.plan import build_plan, plan_environment
from reconciler.engine.snapshot import Snapshot, dump_snapshot, load_snapshot
from reconciler.github.bodies import DRIFT_LABEL
from reconciler.github.cli import github
from reconciler.github.markers import parse_plan_marker, plan_marker
from tests.fake_github import FakeGitHub, serve
from tests.integration.conftest import WaitUntil

pytestmark = pytest.mark.integration

BOT = "github-actions[bot]"
PR = 7
Run = Callable[..., Result]


def topic(name: str, partitions: int, **config: str) -> str:
    body = {k.replace("_", "."): v for k, v in config.items()}
    return (
        f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {name}}}\n"
        f"spec: {{partitions: {partitions}, replicationFactor: 2, config: {json.dumps(body)}}}\n"
        "---\n"
    )


def write_specs(env_dir: Path, prefix: str, *topics: str) -> list[str]:
    """The environment directory as a push leaves it; returns the changed paths."""
    env_dir.mkdir(parents=True, exist_ok=True)
    (env_dir / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: it}\nspec:\n"
        "  kafka: {bootstrapServers: '${KAFKA_BOOTSTRAP_SERVERS}', securityProtocol: PLAINTEXT}\n"
        f"  topics: {{manage: ['{prefix}*']}}\n",
        encoding="utf-8",
    )
    (env_dir / "topics.yaml").write_text("".join(topics), encoding="utf-8")
    return ["specs/it/topics.yaml"]


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    tokens = {"t-bot": BOT, "t-alice": "alice", "t-mallory": "mallory"}
    with serve(FakeGitHub(tokens=tokens, max_per_page=2)) as server:
        yield server


@pytest.fixture
def runs(fake: FakeGitHub, bootstrap_servers: str, tmp_path: Path) -> tuple[Run, Run]:
    """(reconciler, reconciler github) with the environment a workflow job would have."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "GITHUB_TOKEN": "t-bot",
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "1001",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
    }

    def reconciler(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env)

    def gh(*args: str) -> Result:
        return CliRunner().invoke(github, list(args), env=env)

    return reconciler, gh


def ok(result: Result, code: int = 0) -> str:
    assert result.exit_code == code, result.output
    return result.output


def bot_comments(fake: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in fake.comments_on(PR) if c["user"]["login"] == BOT]


def alter(admin: AdminClient, name: str, key: str, value: str) -> None:
    entry = ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result()


def config_value(admin: AdminClient, name: str, key: str) -> str | None:
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name)]).values()
    value: str | None = future.result()[key].value
    return value


def create_topic(admin: AdminClient, name: str, partitions: int) -> None:
    for future in admin.create_topics([NewTopic(name, partitions, 2)]).values():
        future.result()


def delete_topic(admin: AdminClient, name: str) -> None:
    for future in admin.delete_topics([name]).values():
        future.result()


def has_topic(name: str) -> Callable[[AdminClient], bool]:
    return lambda a: name in a.list_topics(timeout=10).topics


@dataclass
class Loop:
    """One repository's loop: its specs, its pull request, the cluster, the two CLIs."""

    reconciler: Run
    gh: Run
    fake: FakeGitHub
    admin: AdminClient
    wait_until: WaitUntil
    prefix: str
    root: Path

    @property
    def env_dir(self) -> Path:
        return self.root / "specs" / "it"

    def plan(self, name: str, code: int = 2, *extra: str) -> str:
        """`reconciler plan` as a workflow runs it; returns the saved plan's path."""
        path = str(self.root / "out" / f"{name}.json")
        ok(self.reconciler("plan", str(self.env_dir), "--out", path, *extra), code)
        return path

    def comment(self, plan: str) -> str:
        return ok(self.gh("comment-plan", str(self.env_dir), "--pr", str(PR), "--plan", plan))

    def record(self, outcome: str, plan: str, *extra: str) -> None:
        args = ("--pr", str(PR), "--outcome", outcome, "--plan", plan, *extra)
        ok(self.gh("record-apply", str(self.env_dir), *args))

    def pull_request(self) -> dict[str, Any]:
        """Two pushes: the comment is created, edited in place, then left alone."""
        p = self.prefix
        self.fake.add_pull(PR, commits=("a1a1a1",))
        self.fake.add_comment(PR, "alice", "Bitte prüfen 🙏 — 確認お願いします")
        digest = "sha256:" + "0" * 64
        forged = self.fake.add_comment(PR, "mallory", f"LGTM\n{plan_marker('it', digest, digest)}")
        for index in range(3):
            self.fake.add_comment(PR, "alice", f"Kommentar Nr. {index} ✓")

        changed = write_specs(self.env_dir, p, topic(f"{p}orders", 3, retention_ms="7d"))
        (self.root / "changed.txt").write_text("\n".join(changed))
        found = self.gh("affected", "--changed-files", "changed.txt", "--environments", '["it"]')
        assert json.loads(ok(found)) == ["it"]
        assert self.comment(self.plan("push-1", 2, "--detailed-exitcode")).startswith(
            "created the it plan comment on #7"
        )
        [first] = bot_comments(self.fake)
        assert f"{p}orders" in first["body"]

        write_specs(
            self.env_dir, p, topic(f"{p}orders", 3, retention_ms="7d"), topic(f"{p}events", 3)
        )
        second_plan = self.plan("push-2", 2, "--detailed-exitcode")
        assert self.comment(second_plan).startswith("updated")
        writes = len(self.fake.writes())
        assert self.comment(second_plan).startswith("unchanged")
        assert len(self.fake.writes()) == writes
        [second] = bot_comments(self.fake)
        assert second["id"] == first["id"]
        assert f"{p}events" in second["body"]
        assert len(self.fake.comments_on(PR)) == 6
        assert self.fake.comments[forged]["body"].startswith("LGTM")
        return second

    def merge_and_apply(self, reviewed: dict[str, Any]) -> None:
        """Refused while the cluster differs from the review; applied after a new review."""
        p = self.prefix
        self.fake.merge(PR, "b2b2b2")
        assert ok(self.gh("merged-pr", "--commit", "b2b2b2", "--branch", "main")) == f"{PR}\n"
        create_topic(self.admin, f"{p}events", 1)  # someone made it by hand, with 1 partition
        self.wait_until(has_topic(f"{p}events"))
        again = self.plan("apply-1", 0)
        refused = self.gh("check-approved", "--plan", again, "--pr", str(PR))
        assert "cluster changed since the plan on pull request #7" in ok(refused, 1)
        self.record("refused", again)
        [comment] = bot_comments(self.fake)
        assert "### Apply refused" in comment["body"]
        assert parse_plan_marker(comment["body"]) == parse_plan_marker(reviewed["body"])
        assert not has_topic(f"{p}orders")(self.admin)

        self.comment(self.plan("re-run", 2, "--detailed-exitcode"))  # re-run the PR's plan
        [replanned] = bot_comments(self.fake)
        assert "Apply refused" not in replanned["body"]
        again = self.plan("apply-2", 0)
        ok(self.gh("check-approved", "--plan", again, "--pr", str(PR)))
        applied = ok(self.reconciler("apply", str(self.env_dir), "--plan", again, "--auto-approve"))
        assert "the plan is now empty" in applied
        log = self.root / "out" / "apply.log"
        log.write_text(applied)
        self.record("applied", again, "--log", str(log))
        [done] = bot_comments(self.fake)
        assert "### Applied" in done["body"]
        assert "Apply complete" in done["body"]
        assert parse_plan_marker(done["body"]) == parse_plan_marker(replanned["body"])
        self.plan("after-apply", 0, "--detailed-exitcode")

    def drift_and_fix(self) -> None:
        """An edit by hand and a typo'd topic open the issue; undoing them closes it."""
        p = self.prefix
        alter(self.admin, f"{p}orders", "retention.ms", "3600000")
        create_topic(self.admin, f"{p}ordres", 1)
        self.wait_until(lambda a: config_value(a, f"{p}orders", "retention.ms") == "3600000")
        self.wait_until(has_topic(f"{p}ordres"))
        drifted = self.plan("drift-1", 2, "--detailed-exitcode")
        assert ok(self.gh("drift", "--plan", drifted)).startswith("created the drift issue of it")
        [issue] = [i for i in self.fake.issues.values() if "pull_request" not in i]
        assert issue["state"] == "open"
        assert [label["name"] for label in issue["labels"]] == [DRIFT_LABEL]
        assert f"- Topic `{p}orders`: update of config.retention.ms" in issue["body"]
        assert f"- Topic `{p}ordres`: on the cluster, in no spec" in issue["body"]
        writes = len(self.fake.writes())
        drifted = self.plan("drift-2", 2, "--detailed-exitcode")
        assert ok(self.gh("drift", "--plan", drifted)).startswith("unchanged")
        assert len(self.fake.writes()) == writes

        delete_topic(self.admin, f"{p}ordres")
        self.wait_until(lambda a: not has_topic(f"{p}ordres")(a))
        ok(self.reconciler("apply", str(self.env_dir), "--auto-approve"))
        clean = self.plan("drift-3", 0, "--detailed-exitcode")
        assert ok(self.gh("drift", "--plan", clean)).startswith("closed the drift issue of it")
        assert issue["state"] == "closed"
        assert "The drift is gone" in self.fake.comments_on(issue["number"])[-1]["body"]


def test_pull_request_merge_apply_drift_and_back(
    runs: tuple[Run, Run],
    fake: FakeGitHub,
    admin: AdminClient,
    wait_until: WaitUntil,
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the repository root, as in a workflow
    (tmp_path / "out").mkdir()
    reconciler, gh = runs
    loop = Loop(reconciler, gh, fake, admin, wait_until, topic_prefix, tmp_path)
    reviewed = loop.pull_request()
    loop.merge_and_apply(reviewed)
    loop.drift_and_fix()


def test_a_snapshot_plans_exactly_like_the_live_cluster(
    runs: tuple[Run, Run], topic_prefix: str, tmp_path: Path, bootstrap_servers: str
) -> None:
    reconciler, _gh = runs
    p = topic_prefix
    env_dir = tmp_path / "specs" / "it"
    write_specs(env_dir, p, topic(f"{p}kept", 2, retention_ms="1d"))
    ok(reconciler("apply", str(env_dir), "--auto-approve"))
    write_specs(env_dir, p, topic(f"{p}kept", 4, retention_ms="2d"), topic(f"{p}new", 1))
    planned = plan_environment(env_dir, {"KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers})
    assert planned.observed is not None
    text = dump_snapshot(Snapshot("it", datetime.now(UTC), planned.observed))
    restored = load_snapshot(text)
    assert restored.observed == planned.observed
    assert build_plan(planned.desired, restored.observed) == planned.plan
    assert len(planned.plan.changes) == 2


def test_a_pull_request_that_moves_the_connection_gets_the_change_not_a_plan(
    runs: tuple[Run, Run],
    fake: FakeGitHub,
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As plan.yml runs it: from the workspace, the base branch's checkout beside the pull
    request's (never in it); the comment shows the connection change for review, and nothing
    was contacted."""
    import socket
    import subprocess

    reconciler, gh = runs
    p = topic_prefix
    base, head = tmp_path / "base", tmp_path / "pr"
    for root in (base, head):
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        write_specs(root / "specs" / "it", p, topic(f"{p}orders", 3))
    trap = socket.create_server(("127.0.0.1", 0))
    trap.settimeout(0.5)
    address = f"127.0.0.1:{trap.getsockname()[1]}"
    environment = head / "specs" / "it" / "environment.yaml"
    environment.write_text(
        environment.read_text().replace("${KAFKA_BOOTSTRAP_SERVERS}", address), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)  # the workspace
    (tmp_path / "out").mkdir()
    fake.add_pull(PR, commits=("c3c3c3",))
    result = reconciler("plan", "pr/specs/it", "--trusted-base", "base", "--out", "out/plan.json")
    assert result.exit_code == 1
    (tmp_path / "out" / "plan.err").write_text(result.output, encoding="utf-8")
    assert not (tmp_path / "out" / "plan.json").exists()
    args = ("--pr", str(PR), "--plan", "out/plan.json", "--error-file", "out/plan.err")
    ok(gh("comment-plan", "pr/specs/it", *args))
    [comment] = bot_comments(fake)
    assert "spec.kafka.bootstrapServers" in comment["body"] and address in comment["body"]
    assert "nothing was contacted" in comment["body"]
    with pytest.raises(TimeoutError):
        trap.accept()  # nothing connected
    trap.close()
