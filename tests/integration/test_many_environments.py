"""`reconciler plan DIR...` on the real local cluster: several environments planned at once in
one process, one whole output per environment in the order given, a combined exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import AdminClient, NewTopic

from reconciler.cli import main
from tests.integration.conftest import WaitUntil

pytestmark = pytest.mark.integration

Write = Callable[..., Path]


def topic_doc(name: str, retention_ms: int = 86_400_000) -> str:
    return (
        f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {name}}}\n"
        "spec:\n  partitions: 1\n  replicationFactor: 1\n"
        f"  config: {{retention.ms: {retention_ms}}}\n---\n"
    )


@pytest.fixture
def write_env(tmp_path: Path, bootstrap_servers: str) -> Write:
    """An environment directory named NAME that owns `manage` on the test cluster (or on
    `servers`), declaring `topics` and including `include`."""

    def write(name: str, manage: str, *topics: str, servers: str = "", include: str = "") -> Path:
        directory = tmp_path / "specs" / name
        directory.mkdir(parents=True)
        (directory / "environment.yaml").write_text(
            f"apiVersion: reconciler/v1\nkind: Environment\nmetadata: {{name: {name}}}\nspec:\n"
            f'  kafka: {{bootstrapServers: "{servers or bootstrap_servers}", '
            "securityProtocol: PLAINTEXT, timeoutSeconds: 5}\n"
            f'  topics: {{manage: ["{manage}"]}}\n'
            + (f"  include: [{include}]\n" if include else ""),
            encoding="utf-8",
        )
        (directory / "topics.yaml").write_text("".join(topics), encoding="utf-8")
        return directory

    return write


def plan(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["plan", *map(str, args)])


def listed(admin: AdminClient, prefix: str) -> set[str]:
    return {n for n in admin.list_topics(timeout=10).topics if n.startswith(prefix)}


def test_each_environment_gets_its_own_plan_and_the_worst_exit_code(
    write_env: Write, admin: AdminClient, topic_prefix: str, wait_until: WaitUntil
) -> None:
    """One environment to create in, one in step with the cluster, one unreachable: each is
    planned (in the order given), JSON holds each plan as `plan DIR -o json` would, and one
    failure makes the exit code 1 without hiding the others' plans. Nothing is written."""
    alpha, beta = f"{topic_prefix}a-", f"{topic_prefix}b-"
    admin.create_topics([NewTopic(f"{beta}1", 1, 1, config={"retention.ms": "86400000"})])[
        f"{beta}1"
    ].result()
    wait_until(lambda each: f"{beta}1" in each.list_topics(timeout=10).topics)
    dirs = [
        write_env("alpha", f"{alpha}*", topic_doc(f"{alpha}1"), topic_doc(f"{alpha}2")),
        write_env("beta", f"{beta}*", topic_doc(f"{beta}1")),
        write_env("gamma", "g-*", servers="127.0.0.1:1"),
    ]

    result = plan(*dirs, "-o", "json", "--detailed-exitcode")

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["formatVersion"] == 1
    entries = document["environments"]
    assert [e["directory"] for e in entries] == [str(d) for d in dirs]
    assert [e["exitCode"] for e in entries] == [2, 0, 1]
    assert [c["name"] for c in entries[0]["plan"]["changes"]] == [f"{alpha}1", f"{alpha}2"]
    assert {c["action"] for c in entries[0]["plan"]["changes"]} == {"create"}
    assert entries[1]["plan"]["changes"] == [] and entries[1]["plan"]["environment"] == "beta"
    assert "plan" not in entries[2] and "cannot reach Kafka at 127.0.0.1:1" in entries[2]["error"]
    assert "error: " in result.stderr and str(dirs[2]) in result.stderr
    assert listed(admin, alpha) == set()  # planning writes nothing

    single = plan(dirs[0], "-o", "json", "--detailed-exitcode")
    assert single.exit_code == 2
    assert json.loads(single.stdout)["changes"] == entries[0]["plan"]["changes"]


def test_a_shared_change_shows_in_every_environment_that_includes_it(
    write_env: Write, tmp_path: Path, topic_prefix: str
) -> None:
    """Text output: one whole section per environment, in the order given (never
    interleaved), and exit 2 when any environment has changes."""
    shared = tmp_path / "specs" / "shared"
    shared.mkdir(parents=True)
    (shared / "topics.yaml").write_text(topic_doc(f"{topic_prefix}shared"), encoding="utf-8")
    dirs = [
        write_env(name, f"{topic_prefix}shared", include="../shared")
        for name in ("one", "two", "three")
    ]

    result = plan(*reversed(dirs), "--detailed-exitcode", "--no-color")

    assert result.exit_code == 2, result.output
    sections = result.stdout.split("==> ")[1:]
    assert [s.split(" <==")[0] for s in sections] == [str(d) for d in reversed(dirs)]
    for section in sections:
        assert f"{topic_prefix}shared" in section and "1 to create" in section

    assert plan(*dirs, "--out", tmp_path / "plan.json").exit_code == 1  # which one?
    assert not (tmp_path / "plan.json").exists()
    saved = plan(*dirs, "--out", tmp_path / "out" / "{environment}" / "plan.json")
    assert saved.exit_code == 0, saved.output
    for name in ("one", "two", "three"):
        document = json.loads((tmp_path / "out" / name / "plan.json").read_text())
        assert document["environment"] == name
        assert [c["name"] for c in document["changes"]] == [f"{topic_prefix}shared"]


def test_a_name_colliding_with_a_topic_another_environment_owns_is_refused_alike(
    write_env: Write, admin: AdminClient, topic_prefix: str, wait_until: WaitUntil
) -> None:
    """Each environment holds only its own topics, the others' as names: a create that
    collides with a topic the other environment owns ('.' and '_' alike) is still refused,
    exactly as when planned alone, and an owned one planned together stays the same."""
    dotted, underscored = f"{topic_prefix}m.cpu", f"{topic_prefix}m_cpu"
    admin.create_topics([NewTopic(dotted, 1, 1, config={"retention.ms": "86400000"})])[
        dotted
    ].result()
    wait_until(lambda each: dotted in each.list_topics(timeout=10).topics)
    dirs = [
        write_env("under", f"{topic_prefix}m_*", topic_doc(underscored)),
        write_env("dots", f"{topic_prefix}m.*", topic_doc(dotted, retention_ms=3_600_000)),
    ]

    together = plan(*dirs, "-o", "json", "--detailed-exitcode")

    entries = json.loads(together.stdout)["environments"]
    [refused] = entries[0]["plan"]["changes"]
    assert refused["name"] == underscored and refused["risk"] == "impossible"
    assert f"collides with existing topic {dotted!r}" in " ".join(refused["reasons"])
    [updated] = entries[1]["plan"]["changes"]
    assert (updated["name"], updated["action"]) == (dotted, "update")
    for directory, entry in zip(dirs, entries, strict=True):
        alone = json.loads(plan(directory, "-o", "json").stdout)
        assert alone["changes"] == entry["plan"]["changes"]
        assert alone["digests"] == entry["plan"]["digests"]
    assert listed(admin, f"{topic_prefix}m") == {dotted}  # planning writes nothing
