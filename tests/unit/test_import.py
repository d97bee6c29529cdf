"""`reconciler import` end to end but for the cluster: the Topic kind's discover reads a
fixed set of live topics, everything else (adoption, files, the Environment edit, the load
and the check, the rollback) is the real code. The first plan is checked by loading the
directory and diffing it against the same live topics."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.core.cluster import ClusterView
from reconciler.engine import importer
from reconciler.engine.load import load
from reconciler.kinds.base import Adopting, Discovered, KindPlan
from reconciler.kinds.msk_cluster.model import MskObserved
from reconciler.kinds.registry import KINDS
from reconciler.kinds.topic.diff import diff_topics
from reconciler.kinds.topic.discover import discovered
from reconciler.kinds.topic.model import ObservedTopic, ObservedTopics, Topics, TopicSpec
from tests.planning import BROKERS
from tests.unit.test_adopt import DAY, live

HEADER = "# Imported from localhost:9092 by `reconciler import`: review it, then commit it.\n"
Discover = Callable[[Any, Adopting[Topics]], Discovered[Topics, ObservedTopics]]


class FakeClients:
    """No broker is contacted: the kinds' discovers are replaced, the check asks the shape."""

    def __init__(self, *args: object) -> None:
        pass

    def cluster(self) -> tuple[ClusterView, dict[str, Any]]:
        return ClusterView("cluster", BROKERS), {}


def with_discover(monkeypatch: pytest.MonkeyPatch, **discovers: Any) -> None:
    kinds = tuple(replace(k, discover=discovers.get(k.name, k.discover)) for k in KINDS)
    monkeypatch.setattr(importer, "KINDS", kinds)
    monkeypatch.setattr(importer, "connect", FakeClients)


def cluster_discover(topics: dict[str, ObservedTopic]) -> Discover:
    def discover(clients: object, adopting: Adopting[Topics]) -> Any:
        return discovered(ObservedTopics(dict(topics)), adopting)

    return discover


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> dict[str, ObservedTopic]:
    """The live topics, by name: tests add, change and delete them out of band."""
    topics: dict[str, ObservedTopic] = {}
    with_discover(monkeypatch, Topic=cluster_discover(topics))
    return topics


def add(cluster: dict[str, ObservedTopic], *topics: ObservedTopic) -> None:
    cluster.update({t.name: t for t in topics})


def env_dir(root: Path, spec: str = "") -> Path:
    directory = root / "specs" / "dev"
    directory.mkdir(parents=True)
    (root / ".git").mkdir()
    (directory / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\nspec:\n"
        "  kafka: {bootstrapServers: 'localhost:9092', securityProtocol: PLAINTEXT}\n"
        + textwrap.indent(textwrap.dedent(spec), "  "),
        encoding="utf-8",
    )
    return directory


def run(directory: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["import", str(directory), *args])


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    return result.output


def first_plan(directory: Path, cluster: dict[str, ObservedTopic]) -> KindPlan:
    return diff_topics(load(directory).kinds["Topic"], ObservedTopics(dict(cluster)), None)


def files(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): p.read_text()
        for p in sorted(directory.rglob("*.yaml"))
        if p.name != "environment.yaml"
    }


def names(text: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("  name: ")]


def test_an_import_under_the_environments_defaults_plans_empty(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    """The review's reproduction: an earlier import wrote overrides only; re-importing
    under `topics.defaults` writes what the default would change."""
    directory = env_dir(tmp_path, "topics:\n  defaults: {config: {retention.ms: 7d}}\n")
    (directory / "topics.yaml").write_text(
        HEADER + "---\napiVersion: reconciler/v1\nkind: Topic\nmetadata:\n  name: orders\n"
        "spec:\n  partitions: 6\n  replicationFactor: 2\n  config: {}\n"
    )
    add(cluster, live("orders", 6, inherited={"retention.ms": DAY}), live("payments"))
    assert first_plan(directory, cluster).changes != ()  # what the review found
    ok(run(directory, "--force"))
    assert "    retention.ms: 1d\n" in files(directory)["topics.yaml"]
    assert first_plan(directory, cluster) == KindPlan()


def test_a_forced_import_removes_what_vanished_and_the_files_left_empty(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path)
    add(cluster, live("payments.a"), live("payments.b"), live("orders.a"), live("orders.b"))
    ok(run(directory, "--layout", "prefix"))
    assert sorted(files(directory)) == ["topics/orders.yaml", "topics/payments.yaml"]
    del cluster["payments.a"], cluster["payments.b"]
    out = ok(run(directory, "--layout", "prefix", "--force"))
    assert f"removed {directory / 'topics' / 'payments.yaml'}" in out
    assert sorted(files(directory)) == ["topics/orders.yaml"]
    assert first_plan(directory, cluster) == KindPlan()
    cluster.clear()
    out = ok(run(directory, "--layout", "prefix", "--force"))
    assert "imported nothing into no file" in out
    assert files(directory) == {} and not (directory / "topics").exists()


def test_a_forced_import_owns_its_files_under_another_layout(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path)
    add(cluster, live("payments.a"), live("orders.a"))
    ok(run(directory, "--layout", "prefix"))
    ok(run(directory, "--force"))
    assert list(files(directory)) == ["topics.yaml"]
    assert names(files(directory)["topics.yaml"]) == ["orders.a", "payments.a"]


def test_a_forced_import_removes_the_file_of_a_vanished_msk_cluster(
    tmp_path: Path, cluster: dict[str, ObservedTopic], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = env_dir(tmp_path)
    (directory / "cluster.yaml").write_text(
        HEADER + "---\napiVersion: reconciler/v1\nkind: MskCluster\nmetadata: {name: gone}\n"
    )

    def vanished(clients: object, adopting: object) -> Discovered[None, MskObserved]:
        return Discovered(None, MskObserved(None), ("MSK has no cluster 'gone': not imported",))

    with_discover(monkeypatch, Topic=cluster_discover(cluster), MskCluster=vanished)
    add(cluster, live("orders"))
    result = ok(run(directory, "--force"))
    assert "removed" in result and "cluster.yaml" in result
    assert list(files(directory)) == ["topics.yaml"]


def test_a_selection_keeps_the_documents_outside_it(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path)
    add(cluster, live("orders.a"), live("orders.b"), live("payments.a", retention_ms=DAY))
    ok(run(directory))
    before = files(directory)["topics.yaml"]
    add(cluster, live("orders.a", 12), live("payments.a"))  # both changed out of band
    del cluster["orders.b"]
    out = ok(run(directory, "--select", "orders.*", "--force"))
    after = files(directory)["topics.yaml"]
    assert names(after) == ["orders.a", "payments.a"]  # orders.b vanished, payments.a kept
    assert "partitions: 12" in after
    assert after.split("name: payments.a")[1] == before.split("name: payments.a")[1]
    assert "the first plan still changes Topic payments.a" in out  # drift outside --select


def test_nothing_is_overwritten_without_force_and_a_users_file_never(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path)
    add(cluster, live("orders"), live("payments"), live("refunds"))
    ok(run(directory))
    written = files(directory)
    assert "written by an earlier import" in refused(run(directory))
    assert "names outside --select/--exclude stay as they are" in refused(run(directory))
    mine = written["topics.yaml"].replace(HEADER, "").split("---\n")[1]  # orders only
    (directory / "topics.yaml").write_text(mine)
    out = refused(run(directory, "--force"))  # it would write payments there
    assert "topics.yaml already exists (not written by `reconciler import`: no header" in out
    assert files(directory)["topics.yaml"] == mine
    out = ok(run(directory, "--force", "--layout", "prefix"))  # elsewhere, then
    assert names(files(directory)["topics.yaml"]) == ["orders"]


def test_topics_declared_in_the_users_files_are_left_alone(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path)
    (directory / "mine.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: orders}\n"
        "spec: {partitions: 3, replicationFactor: 2}\n"
    )
    add(cluster, live("orders"), live("payments"))
    out = ok(run(directory, "--force"))
    assert "left as written" in out
    assert names(files(directory)["topics.yaml"]) == ["payments"]
    assert first_plan(directory, cluster) == KindPlan()


def test_ignored_and_policy_blocked_topics_are_skipped_and_named_ones_refused(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(
        tmp_path,
        """\
        topics: {manage: ['*'], ignore: ['connect-*']}
        policy: {minReplicationFactor: 2}
        """,
    )
    add(cluster, live("connect-offsets"), live("orders-rf1", rf=1), live("orders"))
    out = refused(run(directory, "--select", "orders-rf1", "--select", "orders"))
    assert "orders-rf1: replicationFactor 1 is below the environment's" in out
    assert files(directory) == {}  # nothing was written
    result = run(directory)
    assert result.exit_code == 0, result.output
    assert "orders-rf1: not imported: replicationFactor 1 is below" in result.output
    assert names(files(directory)["topics.yaml"]) == ["orders"]
    assert "lists them as orphans" in result.output
    assert [o.name for o in first_plan(directory, cluster).orphans] == ["orders-rf1"]


def test_an_import_that_would_arm_deletions_is_refused(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path, "topics: {manage: ['*']}\npolicy: {allowDelete: true}\n")
    add(cluster, live("x.a"), live("y.a"))
    out = refused(run(directory, "--select", "x.*"))
    assert "- Topic y.a (destructive)" in out and "this import leaves it out" in out
    assert files(directory) == {}
    ok(run(directory))  # all of it: nothing left to delete
    assert first_plan(directory, cluster) == KindPlan()


def test_the_check_refuses_documents_that_are_not_the_live_state(
    tmp_path: Path, cluster: dict[str, ObservedTopic], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a kind ever write what loads to something else, nothing is kept."""
    directory = env_dir(tmp_path)
    add(cluster, live("orders", 6), live("payments"))

    def off_by_one(clients: object, adopting: Adopting[Topics]) -> Any:
        found = discovered(ObservedTopics(dict(cluster)), adopting)
        spec = found.desired.topics["orders"]
        wrong = {**found.desired.topics, "orders": TopicSpec("orders", 7, 2, spec.config)}
        return replace(found, desired=replace(found.desired, topics=wrong))

    with_discover(monkeypatch, Topic=off_by_one)
    out = refused(run(directory))
    assert "would not plan empty, so nothing was kept" in out
    assert "~ Topic orders (disruptive): partitions: 6 -> 7" in out
    assert files(directory) == {}


def test_factored_defaults_land_in_the_environment_and_stay_exact(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path, "topics:\n  manage: ['*']\n")
    add(cluster, live("a", retention_ms=DAY), live("b", retention_ms=DAY), live("c"))
    ok(run(directory, "--factor-defaults"))
    environment = (directory / "environment.yaml").read_text()
    assert "  topics:\n    defaults:\n      config:\n        retention.ms: 1d\n" in environment
    assert "    retention.ms: 7d\n" in files(directory)["topics.yaml"]  # c declares its own
    assert first_plan(directory, cluster) == KindPlan()


def test_factored_defaults_into_a_flow_style_spec_are_refused_with_the_lines_to_paste(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = tmp_path / "specs" / "dev"
    directory.mkdir(parents=True)
    text = (
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\n"
        'spec: {kafka: {bootstrapServers: "localhost:9092", securityProtocol: PLAINTEXT}}\n'
    )
    (directory / "environment.yaml").write_text(text)
    add(cluster, live("a", retention_ms=DAY), live("b", retention_ms=DAY))
    out = refused(run(directory, "--factor-defaults", "--allow-outside-repo"))
    assert "spec is written in flow style, which this command does not edit" in out
    assert "  topics:\n    defaults:\n      config:\n        retention.ms: 1d" in out
    assert "has no Environment document" not in out
    assert (directory / "environment.yaml").read_text() == text
    assert files(directory) == {}


def test_factoring_that_would_change_a_users_own_spec_is_refused(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    directory = env_dir(tmp_path, "topics:\n  manage: ['*']\n")
    (directory / "mine.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: own}\n"
        "spec: {partitions: 3, replicationFactor: 2}\n"
    )
    add(cluster, live("own"), live("a", retention_ms=DAY), live("b", retention_ms=DAY))
    out = refused(run(directory, "--factor-defaults"))
    assert "Topic own (destructive): config.retention.ms: 604800000 (7d) -> 86400000 (1d)" in out
    assert "whose meaning it changes" in out
    assert "defaults" not in (directory / "environment.yaml").read_text()
    ok(run(directory))  # without factoring, their spec keeps its meaning


def test_what_the_environments_placement_moves_is_said(
    tmp_path: Path, cluster: dict[str, ObservedTopic], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Specs cannot say where replicas live: a rack-aware Environment on a topic whose
    replicas share a rack plans a move, which import cannot prevent but says."""
    racks = tuple(replace(b, rack="az-1" if b.node_id < 3 else "az-2") for b in BROKERS)
    monkeypatch.setattr(FakeClients, "cluster", lambda self: (ClusterView("c", racks), {}))
    directory = env_dir(tmp_path)
    add(cluster, live("orders"))  # replicas on brokers 1 and 2, both in az-1
    out = ok(run(directory))
    assert "the Environment's settings (replica placement) make the first plan change" in out
    assert "Topic orders" in out


def test_a_failed_validation_also_says_what_was_left_out(
    tmp_path: Path, cluster: dict[str, ObservedTopic]
) -> None:
    """A glob override whose only topic is skipped then matches nothing, which validate
    refuses: the refusal says why that topic was left out."""
    directory = env_dir(
        tmp_path, "topics:\n  overrides:\n    'logs.*': {config: {retention.ms: 1d}}\n"
    )
    add(cluster, live("logs.app"), live("orders"))
    out = refused(run(directory))
    assert "override 'logs.*' matches no declared topic" in out
    assert (
        "and what this import left out:\n  logs.app: not imported: topics.overrides.logs.*" in out
    )
    assert files(directory) == {}
