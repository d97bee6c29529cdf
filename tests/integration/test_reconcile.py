"""The invariants of docs/architecture.md (1-5 and 7), proven on the real local Kafka cluster
through the CLI."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
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
from reconciler.core.model import Action
from reconciler.core.polling import attempts
from reconciler.engine.apply import apply_and_verify
from reconciler.engine.plan import plan_environment
from reconciler.kinds.base import ApplyOptions
from reconciler.local.kafka.distribution import classpath, ensure_distribution, find_java
from reconciler.local.kafka.state import LocalCluster
from tests.integration.conftest import TopicApi, WaitUntil, both_topic_apis, each_broker

pytestmark = pytest.mark.integration

Specs = Callable[..., Path]


def topic_doc(name: str, partitions: int = 3, rf: int = 2, **config: Any) -> str:
    body = {k.replace("_", "."): v for k, v in config.items()}
    return (
        f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {name}}}\n"
        f"spec:\n  partitions: {partitions}\n  replicationFactor: {rf}\n"
        f"  config: {json.dumps(body)}\n---\n"
    )


pytest_generate_tests = both_topic_apis


@pytest.fixture
def specs(tmp_path: Path, topic_prefix: str, topic_api: TopicApi) -> Specs:
    """Writes an environment directory that owns `<prefix>*` on the test cluster, reaching
    it the way `topic_api` says (unless `kafka` gives the block's settings)."""

    def write(*topics: str, allow_delete: bool = False, kafka: str = "", manage: str = "") -> Path:
        directory = tmp_path / "it"  # an environment is named after its directory
        directory.mkdir(exist_ok=True)
        for old in directory.glob("*.yaml"):
            old.unlink()
        block = f"  kafka:\n    {kafka}\n" if kafka else topic_api.kafka_block
        (directory / "environment.yaml").write_text(
            "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: it}\nspec:\n"
            f"{block}"
            f'  topics:\n    manage: ["{manage or topic_prefix + "*"}"]\n'
            f"  policy:\n    allowDelete: {str(allow_delete).lower()}\n",
            encoding="utf-8",
        )
        (directory / "topics.yaml").write_text("".join(topics), encoding="utf-8")
        return directory

    return write


@pytest.fixture
def cli(bootstrap_servers: str) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        runner = CliRunner()
        return runner.invoke(main, list(args), env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers})

    return run


@pytest.fixture
def settled(wait_until: WaitUntil, topic_api: TopicApi) -> WaitUntil:
    """`wait_until` every broker sees an out-of-band change, and the topic API serves it."""

    def wait(check: Callable[[AdminClient], bool], seconds: float = 20) -> None:
        wait_until(check, seconds)
        topic_api.settle()

    return wait


def plan_json(cli: Callable[..., Result], env_dir: Path, code: int = 2) -> dict[str, Any]:
    result = cli("plan", str(env_dir), "-o", "json", "--detailed-exitcode")
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def describe(admin: AdminClient, name: str) -> dict[str, Any]:
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name)]).values()
    return dict(future.result())


def set_config(admin: AdminClient, name: str, key: str, value: str | None) -> None:
    op = AlterConfigOpType.DELETE if value is None else AlterConfigOpType.SET
    entry = ConfigEntry(key, value, incremental_operation=op)
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result()


def prefixed(admin: AdminClient, prefix: str) -> dict[str, int]:
    """The topics under `prefix` and their partition counts, as every broker lists them.

    Through the brokers, apply returns once each of them agrees; through MSK's API, once
    MSK's view has the change, and the brokers' metadata follows within moments: a client
    may see the old partition count meanwhile, so this waits (20 s) for the brokers to agree.
    """
    views: list[dict[str, int]] = []
    for _ in attempts(20, 0.2):
        views = []
        for client in each_broker(admin):  # each broker's own answer: none can hide behind another
            topics = client.list_topics(timeout=10).topics
            views.append({n: len(t.partitions) for n, t in topics.items() if n.startswith(prefix)})
        if all(view == views[0] for view in views):
            return views[0]
    raise AssertionError(f"the brokers never agreed on the topics under {prefix}: {views}")


def test_apply_then_plan_reports_no_changes(
    specs: Specs, cli: Callable[..., Result], admin: AdminClient, topic_prefix: str
) -> None:
    p = topic_prefix
    env_dir = specs(
        topic_doc(
            f"{p}orders", 6, 2, retention_ms="7d", compression_type="snappy", min_insync_replicas=1
        ),
        topic_doc(f"{p}state", 3, 3, cleanup_policy=["delete", "compact"], segment_bytes="64MiB"),
        topic_doc(f"{p}plain", 1, 1),
    )
    first = plan_json(cli, env_dir)
    assert first["summary"]["create"] == 3
    applied = cli("apply", str(env_dir), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "the plan is now empty" in applied.output
    assert plan_json(cli, env_dir, code=0)["changes"] == []
    assert prefixed(admin, p) == {f"{p}orders": 6, f"{p}state": 3, f"{p}plain": 1}
    configs = describe(admin, f"{p}orders")
    assert configs["retention.ms"].value == "604800000"
    assert configs["compression.type"].value == "snappy"
    assert describe(admin, f"{p}state")["segment.bytes"].value == str(64 * 1024 * 1024)
    metadata = admin.list_topics(topic=f"{p}state", timeout=10).topics[f"{p}state"]
    assert all(len(set(part.replicas)) == 3 for part in metadata.partitions.values())


def test_out_of_band_change_shows_up_as_exactly_that_change(
    settled: WaitUntil,
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
    topic_api: TopicApi,
) -> None:
    """An undeclared override added by hand is drift through Kafka's API (which names each
    value's source); MSK's names none, so there only declared configs are compared."""
    name = f"{topic_prefix}orders"
    env_dir = specs(topic_doc(name, 3, 2, compression_type="snappy"))
    assert cli("apply", str(env_dir), "--auto-approve").exit_code == 0
    set_config(admin, name, "compression.type", "lz4")  # a declared key, edited by hand
    set_config(admin, name, "retention.ms", "3600000")  # an undeclared override, added by hand
    settled(lambda a: describe(a, name)["retention.ms"].value == "3600000")
    plan = plan_json(cli, env_dir)
    [change] = plan["changes"]
    assert change["name"] == name and change["action"] == "update"
    fields = {d["field"]: (d["before"], d["after"], d["risk"]) for d in change["diff"]}
    expected: dict[str, tuple[str, str | None, str]] = {
        "config.compression.type": ("lz4", "snappy", "safe")
    }
    if not topic_api.msk:
        expected["config.retention.ms"] = ("3600000", None, "destructive")
    assert fields == expected
    assert cli("apply", str(env_dir), "--auto-approve").exit_code == 0
    configs = describe(admin, name)
    assert configs["compression.type"].value == "snappy"
    if topic_api.msk:  # neither compared nor reset, as the plan's warning says
        assert configs["retention.ms"].value == "3600000"
        assert any("neither compared nor reset" in w for w in plan["warnings"])
    else:
        assert configs["retention.ms"].source != 1  # the override is gone (1: DYNAMIC_TOPIC)
    assert plan_json(cli, env_dir, code=0)["changes"] == []


@pytest.fixture
def kafka_configs(kafka_cluster: LocalCluster) -> Iterator[Callable[..., None]]:
    """Kafka's own kafka-configs tool, for the broker-wide defaults confluent-kafka can't set."""
    libs = classpath(ensure_distribution(kafka_cluster.kafka_version))
    bootstrap = kafka_cluster.bootstrap_servers.split(",")[0]

    def run(*args: str) -> None:
        command = [
            find_java(),
            "-cp",
            libs,
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            bootstrap,
            *args,
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    yield run


def test_broker_wide_dynamic_default_causes_no_diff(
    settled: WaitUntil,
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
    kafka_configs: Callable[..., None],
) -> None:
    p = topic_prefix
    env_dir = specs(topic_doc(f"{p}a", 3, 2), topic_doc(f"{p}b", 3, 2, retention_ms="1d"))
    assert cli("apply", str(env_dir), "--auto-approve").exit_code == 0
    default = ["--entity-type", "brokers", "--entity-default", "--alter"]
    per_broker = ["--entity-type", "brokers", "--entity-name", "1", "--alter"]
    kafka_configs(*default, "--add-config", "log.retention.ms=172800000")
    kafka_configs(*per_broker, "--add-config", "log.cleaner.delete.retention.ms=3600000")
    try:
        settled(lambda a: describe(a, f"{p}a")["retention.ms"].value == "172800000")
        assert plan_json(cli, env_dir, code=0)["changes"] == []
    finally:
        kafka_configs(*default, "--delete-config", "log.retention.ms")
        kafka_configs(*per_broker, "--delete-config", "log.cleaner.delete.retention.ms")


def test_partition_decrease_is_refused_and_nothing_is_written(
    specs: Specs, cli: Callable[..., Result], admin: AdminClient, topic_prefix: str
) -> None:
    p = topic_prefix
    assert cli("apply", str(specs(topic_doc(f"{p}a", 3, 2))), "--auto-approve").exit_code == 0
    env_dir = specs(topic_doc(f"{p}a", 2, 2, retention_ms="2d"), topic_doc(f"{p}new", 1, 1))
    plan = cli("plan", str(env_dir))
    assert plan.exit_code == 1
    assert "Kafka cannot remove partitions" in plan.output
    applied = cli("apply", str(env_dir), "--auto-approve")
    assert applied.exit_code == 1
    assert "nothing was applied" in applied.output
    assert prefixed(admin, p) == {f"{p}a": 3}
    assert describe(admin, f"{p}a")["retention.ms"].source != 1


def test_replication_factor_above_the_broker_count_is_refused_with_the_way_out(
    specs: Specs, cli: Callable[..., Result], topic_prefix: str, topic_api: TopicApi
) -> None:
    name = f"{topic_prefix}a"
    assert cli("apply", str(specs(topic_doc(name, 1, 2))), "--auto-approve").exit_code == 0
    created = cli("plan", str(specs(topic_doc(name, 1, 2), topic_doc(f"{name}-new", 1, 4))))
    assert created.exit_code == 1
    assert "needs at least 4 brokers; the cluster has 3. Way out" in created.output
    result = cli("plan", str(specs(topic_doc(name, 1, 4))))
    assert result.exit_code == 1
    if topic_api.msk:  # MSK's UpdateTopic takes configs and a partition count only
        assert "the MSK topic API cannot change a replication factor" in result.output
        assert "kafka.api: kafka" in result.output
    else:
        assert "needs at least 4 brokers; the cluster has 3. Way out" in result.output


def test_unmanaged_topics_are_never_touched_and_orphans_need_permission(
    settled: WaitUntil,
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
) -> None:
    p = topic_prefix
    owned = f"*{p}*"  # also matches the internal-looking topic: it must still be left alone
    outsider = f"{p[:-1]}_outsider"
    internal = f"_{p}internal"
    orphan = f"{p}orphan"
    new = [
        NewTopic(outsider, 1, 1, config={"retention.ms": "1000000"}),
        NewTopic(internal, 1, 1, config={"retention.ms": "1000000"}),
        NewTopic(orphan, 1, 1),
    ]
    for future in admin.create_topics(new, operation_timeout=10).values():
        future.result()
    settled(lambda a: {orphan, outsider, internal} <= set(a.list_topics(timeout=10).topics))
    kept = specs(topic_doc(f"{p}a", 1, 1), manage=owned)
    plan = plan_json(cli, kept)
    assert [o["name"] for o in plan["orphans"]] == [orphan]
    assert cli("apply", str(kept), "--auto-approve").exit_code == 0
    assert orphan in prefixed(admin, p)  # reported, not deleted

    allowed = specs(topic_doc(f"{p}a", 1, 1), allow_delete=True, manage=owned)
    plan = plan_json(cli, allowed)
    assert [(c["name"], c["action"], c["risk"]) for c in plan["changes"]] == [
        (orphan, "delete", "destructive")
    ]
    assert cli("apply", str(allowed), "--auto-approve").exit_code == 0
    assert orphan not in prefixed(admin, p)
    outside = admin.list_topics(timeout=10).topics
    assert outsider in outside and internal in outside
    assert describe(admin, outsider)["retention.ms"].value == "1000000"
    assert describe(admin, internal)["retention.ms"].value == "1000000"


def test_saved_plan_applies_only_to_the_state_it_was_made_from(
    settled: WaitUntil,
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
    tmp_path: Path,
    topic_api: TopicApi,
) -> None:
    """Someone changes what the plan depends on meanwhile: through Kafka's API an undeclared
    override counts; through MSK's (no sources) a declared config does."""
    name = f"{topic_prefix}a"
    base = {"segment_ms": "1h"} if topic_api.msk else {}
    assert cli("apply", str(specs(topic_doc(name, 1, 1, **base))), "--auto-approve").exit_code == 0
    env_dir = specs(topic_doc(name, 1, 1, retention_ms="2d", **base))
    saved = tmp_path / "plan.json"
    assert cli("plan", str(env_dir), "--out", str(saved)).exit_code == 0
    set_config(admin, name, "segment.ms", "7200000")  # someone changes the cluster meanwhile
    settled(lambda a: describe(a, name)["segment.ms"].value == "7200000")
    refused = cli("apply", str(env_dir), "--plan", str(saved), "--auto-approve")
    assert refused.exit_code == 1
    assert "the cluster changed since the plan was made" in refused.output
    assert describe(admin, name)["retention.ms"].source != 1  # nothing written

    set_config(admin, name, "segment.ms", "3600000" if topic_api.msk else None)
    settled(lambda a: describe(a, name)["segment.ms"].value != "7200000")
    assert cli("plan", str(env_dir), "--out", str(saved)).exit_code == 0
    applied = cli("apply", str(env_dir), "--plan", str(saved), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert describe(admin, name)["retention.ms"].value == "172800000"


def test_invalid_specs_write_nothing(
    specs: Specs, cli: Callable[..., Result], admin: AdminClient, topic_prefix: str
) -> None:
    p = topic_prefix
    env_dir = specs(topic_doc(f"{p}good", 1, 1), topic_doc(f"{p}bad", 1, 1, retention_msec=5))
    result = cli("apply", str(env_dir), "--auto-approve")
    assert result.exit_code == 1
    assert "topics.yaml:" in result.output and "did you mean 'retention.ms'" in result.output
    assert prefixed(admin, p) == {}


def refused_by_the_brokers(name: str, kafka_version: str) -> str:
    """A topic valid for the 3.9 catalog that these brokers refuse: tiered storage is off
    here (Kafka 3.9+ refuses it; 3.5 accepts it, but does not know 3.9's remote.log.* keys)."""
    if kafka_version.startswith("3.5."):
        return topic_doc(name, 1, 1, remote_log_copy_disable=True)
    return topic_doc(name, 1, 1, remote_storage_enable=True)


@pytest.mark.kafka_api_only
def test_a_write_the_brokers_refuse_shows_in_the_plan_and_nothing_is_written(
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
    kafka_version: str,
) -> None:
    """The pull request's plan asks the brokers (validate-only), so a refusal shows up in
    review, not after merge; neither plan nor apply writes anything."""
    p = topic_prefix
    env_dir = specs(
        topic_doc(f"{p}good", 1, 1), refused_by_the_brokers(f"{p}tiered", kafka_version)
    )
    data = plan_json(cli, env_dir, code=1)
    by_name = {c["name"]: c for c in data["changes"]}
    assert by_name[f"{p}good"]["risk"] == "safe"
    refused = by_name[f"{p}tiered"]
    assert refused["risk"] == "impossible"
    assert "validate-only" in refused["reasons"][0] and "Way out" in refused["reasons"][0]
    assert data["summary"]["impossible"] == 1
    result = cli("apply", str(env_dir), "--auto-approve")
    assert result.exit_code == 1
    assert "validate-only" in result.output and f"{p}tiered" in result.output
    assert prefixed(admin, p) == {}


def test_partition_increase_and_override_removal_apply(
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
    topic_api: TopicApi,
) -> None:
    name = f"{topic_prefix}a"
    env_dir = specs(topic_doc(name, 2, 2, retention_ms="1d"))
    assert cli("apply", str(env_dir), "--auto-approve").exit_code == 0
    env_dir = specs(topic_doc(name, 4, 2))
    [change] = plan_json(cli, env_dir)["changes"]
    expected = {"partitions": "disruptive", "config.retention.ms": "destructive"}
    if topic_api.msk:  # MSK says no source, so the dropped override is not seen (nor removed)
        del expected["config.retention.ms"]
    else:
        assert change["risk"] == "destructive"  # dropping the retention override
    assert {d["field"]: d["risk"] for d in change["diff"]} == expected
    assert cli("apply", str(env_dir), "--auto-approve").exit_code == 0
    assert prefixed(admin, name) == {name: 4}
    retention = describe(admin, name)["retention.ms"].value
    assert retention == ("86400000" if topic_api.msk else "604800000")
    assert plan_json(cli, env_dir, code=0)["changes"] == []


@pytest.mark.kafka_api_only
def test_unreachable_cluster_fails_fast_with_a_clear_message(
    specs: Specs, cli: Callable[..., Result], topic_prefix: str
) -> None:
    env_dir = specs(
        topic_doc(f"{topic_prefix}a"),
        kafka="bootstrapServers: 127.0.0.1:1\n    securityProtocol: PLAINTEXT\n"
        "    timeoutSeconds: 3",
    )
    started = time.monotonic()
    result = cli("plan", str(env_dir))
    assert result.exit_code == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.output
    assert time.monotonic() - started < 20


@pytest.mark.kafka_api_only
def test_tls_certificates_are_verified_by_default(
    specs: Specs, cli: Callable[..., Result], kafka_cluster: LocalCluster, topic_prefix: str
) -> None:
    assert kafka_cluster.ssl_bootstrap_servers and kafka_cluster.ca_file
    ssl = f"bootstrapServers: {kafka_cluster.ssl_bootstrap_servers}\n    securityProtocol: SSL"
    untrusted = specs(topic_doc(f"{topic_prefix}a", 1, 1), kafka=ssl + "\n    timeoutSeconds: 5")
    refused = cli("plan", str(untrusted))
    assert refused.exit_code == 1
    assert "TLS handshake failed" in refused.output or "certificate" in refused.output
    trusted = specs(
        topic_doc(f"{topic_prefix}a", 1, 1),
        kafka=f"{ssl}\n    caFile: {kafka_cluster.ca_file}",
    )
    result = cli(
        "plan", str(trusted), "-o", "json", "--allow-outside-repo"
    )  # the CA is not in a repo
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["create"] == 1


def test_partial_failure_says_what_was_done_and_rerun_converges(
    settled: WaitUntil,
    specs: Specs,
    cli: Callable[..., Result],
    admin: AdminClient,
    topic_prefix: str,
    bootstrap_servers: str,
    topic_api: TopicApi,
) -> None:
    p = topic_prefix
    first = specs(topic_doc(f"{p}a", 1, 1), topic_doc(f"{p}gone", 1, 1))
    assert cli("apply", str(first), "--auto-approve").exit_code == 0
    env_dir = specs(topic_doc(f"{p}a", 1, 1, retention_ms="2d"), allow_delete=True)
    planned = plan_environment(env_dir, {"KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers})
    assert [(c.name, c.action) for c in planned.plan.changes] == [
        (f"{p}a", Action.UPDATE),
        (f"{p}gone", Action.DELETE),
    ]
    # Someone deletes the topic between plan and apply: that one write fails, the other lands.
    for future in admin.delete_topics([f"{p}gone"], operation_timeout=10).values():
        future.result()
    settled(lambda a: f"{p}gone" not in prefixed(a, p))
    applied = apply_and_verify(planned, ApplyOptions(lambda _: None, settle_seconds=5))
    outcomes = {o.change.name: o for o in applied.outcomes}
    assert outcomes[f"{p}a"].done and outcomes[f"{p}a"].detail == "update config"
    assert not outcomes[f"{p}gone"].done
    missing = "NotFoundException" if topic_api.msk else "UNKNOWN_TOPIC_OR_PART"
    assert f"delete failed: {missing}" in outcomes[f"{p}gone"].detail
    assert applied.remaining.changes == ()  # what is left is nothing: re-running converges
    assert plan_json(cli, env_dir, code=0)["changes"] == []


def test_snapshot_then_plan_offline_says_its_age(
    specs: Specs, cli: Callable[..., Result], topic_prefix: str, tmp_path: Path
) -> None:
    name = f"{topic_prefix}a"
    assert cli("apply", str(specs(topic_doc(name, 1, 1))), "--auto-approve").exit_code == 0
    env_dir = specs(topic_doc(name, 2, 1))
    state = tmp_path / "state.json"
    taken = cli("snapshot", str(env_dir), "-o", str(state))
    assert taken.exit_code == 0, taken.output
    offline = CliRunner().invoke(  # no KAFKA_BOOTSTRAP_SERVERS: the cluster is not needed
        main, ["plan", str(env_dir), "--observed", str(state), "-o", "json"], env={}
    )
    assert offline.exit_code == 0, offline.output
    plan = json.loads(offline.stdout)
    assert [c["name"] for c in plan["changes"]] == [name]
    assert "snapshot" in plan["warnings"][0] and "old" in plan["warnings"][0]
    text = CliRunner().invoke(main, ["plan", str(env_dir), "--observed", str(state)], env={})
    assert "snapshot" in text.output
    # A spec that declares a config the snapshot's specs did not still plans against it.
    declared = specs(topic_doc(name, 1, 1, retention_ms="2d"))
    later = CliRunner().invoke(
        main, ["plan", str(declared), "--observed", str(state), "-o", "json"], env={}
    )
    assert later.exit_code == 0, later.output
    [change] = json.loads(later.stdout)["changes"]
    assert change["diff"][0]["before"] == "604800000" and change["risk"] == "destructive"
