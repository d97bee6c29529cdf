"""`reconciler import` on the real cluster: 1,000 topics made by hand become specs whose first
plan is empty; out-of-band changes show up as exactly those changes in the spec files."""

from __future__ import annotations

import difflib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
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
from reconciler.local.msk.endpoint import LOCAL_CLUSTER, ensure_cluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.integration.conftest import WaitUntil
from tests.unit.test_init import check_workflows

pytestmark = pytest.mark.integration

SHAPES: list[dict[str, str]] = [
    {},
    {"cleanup.policy": "compact"},
    {"cleanup.policy": "compact,delete", "min.compaction.lag.ms": "60000"},
    {"retention.bytes": "1073741824", "retention.ms": "604800000"},
    {"retention.ms": "3600000", "compression.type": "zstd"},
    {"retention.ms": "90061000", "segment.bytes": "104857600"},
    {"max.message.bytes": "2097152", "message.timestamp.type": "LogAppendTime"},
    {"min.cleanable.dirty.ratio": "0.3", "cleanup.policy": "compact"},
    {"min.insync.replicas": "2", "retention.ms": "-1"},
]


def shape(prefix: str, index: int) -> NewTopic:
    """Mixed partitions (odd counts too), replication factors and configs."""
    config = SHAPES[index % len(SHAPES)]
    rf = 2 if "min.insync.replicas" in config else 1 + index % 3
    name = f"{prefix}t{index:04}"
    return NewTopic(name, num_partitions=1 + index % 7, replication_factor=rf, config=config)


@pytest.fixture
def made_by_hand(
    admin: AdminClient, topic_prefix: str, wait_until: WaitUntil
) -> Iterator[list[str]]:
    """1,000 topics created out of band with a plain admin client; removed afterwards."""
    topics = [shape(topic_prefix, i) for i in range(1000)]
    for future in admin.create_topics(topics, operation_timeout=60).values():
        future.result()
    names = [t.topic for t in topics]

    def described(client: AdminClient) -> bool:
        listed = client.list_topics(timeout=10).topics
        if not set(names) <= set(listed):
            return False
        probe = [ConfigResource(ResourceType.TOPIC, n) for n in names[::97]]
        return all(f.exception() is None for f in client.describe_configs(probe).values())

    wait_until(described, 60)
    yield names
    listed = admin.list_topics(timeout=10).topics
    gone = [n for n in names if n in listed]  # a test may have deleted some
    for future in admin.delete_topics(gone, operation_timeout=60).values() if gone else ():
        future.result()
    # A broker may take minutes to drop a thousand topics' logs on a busy machine, and lists
    # nothing newer meanwhile: the next test starts once every broker is done.
    wait_until(lambda client: not set(gone) & set(client.list_topics(timeout=10).topics), 300)


def repository(root: Path, prefix: str, bootstrap: str) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    env_dir = root / "specs" / "adopted"
    env_dir.mkdir(parents=True)
    (env_dir / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: adopted}\nspec:\n"
        f"  kafka:\n    bootstrapServers: {bootstrap}\n    securityProtocol: PLAINTEXT\n"
        "  topics:\n"
        f"    manage: ['{prefix}*']\n",
        encoding="utf-8",
    )
    return env_dir


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(result: Result, code: int = 0) -> str:
    assert result.exit_code == code, result.output
    return result.output


def files(env_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(env_dir)): p.read_text() for p in sorted(env_dir.rglob("*.yaml"))}


def changed_lines(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What `git diff` of the spec files would show: removed lines `-`, added lines `+`."""
    lines: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, "").splitlines(), after.get(name, "").splitlines()
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("delete", "replace"):
                lines.extend(f"-{line}" for line in old[i1:i2])
            if tag in ("insert", "replace"):
                lines.extend(f"+{line}" for line in new[j1:j2])
    return [line for line in lines if "Imported from" not in line]


def test_an_imported_cluster_plans_empty_and_later_changes_are_exactly_the_diff(
    made_by_hand: list[str],
    admin: AdminClient,
    topic_prefix: str,
    bootstrap_servers: str,
    tmp_path: Path,
    wait_until: WaitUntil,
) -> None:
    env_dir = repository(tmp_path / "infra", topic_prefix, bootstrap_servers)
    out = ok(cli("import", str(env_dir)))
    assert "imported 1000 topics into" in out
    ok(cli("validate", str(env_dir)))
    plan = ok(cli("plan", str(env_dir), "--detailed-exitcode"))
    assert "No changes. The cluster matches the specs." in plan
    written = files(env_dir)
    topics = list(yaml.safe_load_all(written["topics.yaml"]))
    assert [t["metadata"]["name"] for t in topics] == sorted(made_by_hand)  # stable order
    by_name = {t["metadata"]["name"]: t["spec"] for t in topics}
    assert by_name[f"{topic_prefix}t0003"]["config"] == {
        "retention.bytes": "1GiB",
        "retention.ms": "7d",
    }
    assert by_name[f"{topic_prefix}t0005"]["config"]["retention.ms"] == "90061s"
    assert by_name[f"{topic_prefix}t0002"]["config"]["cleanup.policy"] == ["compact", "delete"]
    assert by_name[f"{topic_prefix}t0000"] == {
        "partitions": 1,
        "replicationFactor": 1,
        "config": {},
    }

    refused = cli("import", str(env_dir))  # never overwritten without --force
    assert refused.exit_code == 1 and "already exist" in refused.output

    changed, removed = f"{topic_prefix}t0010", f"{topic_prefix}t0020"
    entry = ConfigResource(
        ResourceType.TOPIC,
        changed,
        incremental_configs=[
            ConfigEntry("retention.ms", "172800000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    for future in admin.incremental_alter_configs([entry]).values():
        future.result()
    for future in admin.delete_topics([removed], operation_timeout=30).values():
        future.result()
    wait_until(lambda a: removed not in a.list_topics(timeout=10).topics, 60)
    wait_until(lambda a: describe(a, changed) == "172800000")
    ok(cli("import", str(env_dir), "--force"))
    diff = changed_lines(written, files(env_dir))
    assert [line for line in diff if line.startswith("+")] == ["+    retention.ms: 2d"]
    [block] = [b for b in written["topics.yaml"].split("---\n") if f"name: {removed}\n" in b]
    minus = [line[1:] for line in diff if line.startswith("-")]
    assert [line for line in minus if line != "---"] == block.splitlines()
    assert "No changes" in ok(cli("plan", str(env_dir), "--detailed-exitcode"))


def describe(admin: AdminClient, name: str) -> str | None:
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name)]).values()
    value: str | None = future.result()["retention.ms"].value
    return value


def test_factored_defaults_stay_exact(
    made_by_hand: list[str], topic_prefix: str, bootstrap_servers: str, tmp_path: Path
) -> None:
    env_dir = repository(tmp_path / "infra", topic_prefix, bootstrap_servers)
    ok(cli("import", str(env_dir), "--factor-defaults", "--layout", "prefix"))
    environment = (env_dir / "environment.yaml").read_text()
    assert "    defaults:" in environment and "manage:" in environment  # edited in place
    assert sorted(p.name for p in (env_dir / "topics").iterdir()) == [f"{topic_prefix[:1]}.yaml"]
    assert "No changes" in ok(cli("plan", str(env_dir), "--detailed-exitcode"))


def test_select_and_exclude_narrow_the_import(
    made_by_hand: list[str], topic_prefix: str, bootstrap_servers: str, tmp_path: Path
) -> None:
    env_dir = repository(tmp_path / "infra", topic_prefix, bootstrap_servers)
    out = ok(
        cli(
            "import", str(env_dir),
            "--select", f"{topic_prefix}t00*", "--exclude", f"{topic_prefix}t000*",
        )
    )  # fmt: skip
    assert "imported 90 topics" in out
    names = [
        d["metadata"]["name"] for d in yaml.safe_load_all((env_dir / "topics.yaml").read_text())
    ]
    assert names[0] == f"{topic_prefix}t0010" and len(names) == 90


@pytest.fixture
def endpoint(bootstrap_servers: str) -> Iterator[MskServer]:
    server = start_msk_server(kafka_bootstrap=bootstrap_servers, operation_seconds=0.3)
    ensure_cluster(server.endpoint_url, brokers=3)
    yield server
    server.stop()


def test_init_then_import_adopts_the_msk_cluster_and_its_topics(
    made_by_hand: list[str],
    endpoint: MskServer,
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new infrastructure repository, as the README's adoption steps make it: init, import,
    validate, plan empty; its workflows pass GitHub's schema and zizmor."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_KAFKA", endpoint.endpoint_url)
    root = tmp_path / "infra"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    ok(
        cli(
            "init", str(root), "--environment", "local", "--msk-cluster", LOCAL_CLUSTER,
            "--msk-region", "eu-central-1", "--security-protocol", "PLAINTEXT",
            "--manage", f"{topic_prefix}*",
        )
    )  # fmt: skip
    env_dir = root / "specs" / "local"
    out = ok(cli("import", str(env_dir)))
    assert "imported 1 MSK cluster, 1000 topics into" in out
    cluster = yaml.safe_load((env_dir / "cluster.yaml").read_text().split("---\n", 1)[1])
    assert cluster["kind"] == "MskCluster" and cluster["metadata"]["name"] == LOCAL_CLUSTER
    assert (
        (env_dir / "cluster.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../../schemas/mskcluster.schema.json\n")
    )
    ok(cli("validate", str(env_dir)))
    assert "No changes" in ok(cli("plan", str(env_dir), "--detailed-exitcode"))
    check_workflows(*sorted((root / ".github" / "workflows").glob("*.yml")))


@pytest.fixture
def made(admin: AdminClient, wait_until: WaitUntil) -> Iterator[Callable[..., list[str]]]:
    """Topics created out of band, as many as a test asks for; removed afterwards."""
    names: list[str] = []

    def make(*topics: NewTopic) -> list[str]:
        for future in admin.create_topics(list(topics), operation_timeout=30).values():
            future.result()
        names.extend(t.topic for t in topics)
        wait_until(lambda a: set(names) <= set(a.list_topics(timeout=10).topics), 60)
        return names

    yield make
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()


def test_import_adopts_what_the_environment_owns_exactly_under_its_sections(
    made: Callable[..., list[str]], topic_prefix: str, bootstrap_servers: str, tmp_path: Path
) -> None:
    """The Environment's ignore list, policy, defaults and overrides, on real brokers (whose
    DescribeConfigs says which values are inherited): import writes exactly what loads to
    the live topics, skips what the policy refuses, and fails only for what was named."""
    p = topic_prefix
    made(
        NewTopic(f"{p}orders", num_partitions=6, replication_factor=2),
        NewTopic(f"{p}payments", 3, 2, config={"retention.ms": "86400000"}),
        NewTopic(f"{p}billing", 3, 2, config={"compression.type": "zstd"}),
        NewTopic(f"{p}rf1", 1, 1),
        NewTopic(f"{p}connect-offsets", 1, 2),
    )
    env_dir = repository(tmp_path / "infra", p, bootstrap_servers)
    with (env_dir / "environment.yaml").open("a") as environment:
        environment.write(
            f"    ignore: ['{p}connect-*']\n"
            "    defaults: {config: {retention.ms: 1d}}\n"
            f"    overrides: {{'{p}billing': {{config: {{compression.type: zstd}}}}}}\n"
            "  policy: {minReplicationFactor: 2}\n"
        )
    named = cli("import", str(env_dir), "--select", f"{p}rf1", "--select", f"{p}orders")
    assert named.exit_code == 1 and "replicationFactor 1 is below" in named.output
    assert not (env_dir / "topics.yaml").exists()
    out = ok(cli("import", str(env_dir)))
    assert f"{p}rf1: not imported: replicationFactor 1 is below" in out
    by_name = {
        d["metadata"]["name"]: d["spec"]["config"]
        for d in yaml.safe_load_all((env_dir / "topics.yaml").read_text())
    }
    assert sorted(by_name) == [f"{p}billing", f"{p}orders", f"{p}payments"]
    assert by_name[f"{p}payments"] == {}  # its 1d is the default's
    assert by_name[f"{p}billing"] == {"retention.ms": "7d"}  # zstd is the override's
    assert by_name[f"{p}orders"] == {"retention.ms": "7d"}  # inherited, not the default
    plan = json.loads(ok(cli("plan", str(env_dir), "-o", "json")))
    assert plan["changes"] == []
    assert [o["name"] for o in plan["orphans"]] == [f"{p}rf1"]  # left out, and said
