"""The local Kafka cluster really runs: brokers, racks, replica placement, lifecycle.

The ``integration`` tests talk to real JVMs; the unmarked ones exercise how the Kafka
jars are located and fetched, using only local files.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import signal
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from reconciler.core.polling import attempts
from reconciler.local.kafka.cluster import down, is_healthy, shell_exports, status, up
from reconciler.local.kafka.distribution import (
    MARKER_FILE,
    distribution_version,
    ensure_distribution,
)
from reconciler.local.kafka.errors import ClusterMismatchError, DistributionError
from reconciler.local.kafka.state import LocalCluster

# --------------------------------------------------------------------------- cluster


@pytest.mark.integration
def test_three_brokers_registered_each_in_its_own_rack(
    kafka_cluster: LocalCluster, admin: AdminClient
) -> None:
    described = admin.describe_cluster(request_timeout=10).result(timeout=15)
    racks = {int(node.id): node.rack for node in described.nodes}

    assert sorted(racks) == [1, 2, 3]
    assert racks == {b.node_id: b.rack for b in kafka_cluster.brokers}
    assert len(set(racks.values())) == 3
    assert None not in racks.values()


@pytest.mark.integration
def test_rf3_topic_places_replicas_on_three_distinct_brokers(
    admin: AdminClient, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}rf3"
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3)])[topic].result(
        timeout=30
    )
    try:
        # Brokers learn about new topics from the controller a moment after creation.
        _wait_for(
            lambda: len(admin.list_topics(topic=topic, timeout=10).topics[topic].partitions) == 3
        )
        partitions = admin.list_topics(topic=topic, timeout=10).topics[topic].partitions
        for partition in partitions.values():
            assert sorted(partition.replicas) == [1, 2, 3]
    finally:
        admin.delete_topics([topic])[topic].result(timeout=30)


@pytest.mark.integration
def test_up_again_returns_the_running_cluster_without_restarting(
    kafka_cluster: LocalCluster, kafka_version: str
) -> None:
    again = up(kafka_cluster.state_dir, brokers=3, version=kafka_version, tls=True, timeout=30)

    assert again == kafka_cluster  # same ports, cluster id and pids
    recorded = status(kafka_cluster.state_dir)
    assert recorded == kafka_cluster
    assert recorded is not None
    assert recorded.alive
    assert all(b.alive for b in recorded.brokers)
    assert is_healthy(recorded)


@pytest.mark.integration
def test_shell_exports_names_the_bootstrap_variable(kafka_cluster: LocalCluster) -> None:
    lines = shell_exports(kafka_cluster).splitlines()

    assert f"export KAFKA_BOOTSTRAP_SERVERS={kafka_cluster.bootstrap_servers}" in lines
    assert kafka_cluster.bootstrap_servers == ",".join(
        f"127.0.0.1:{b.port}" for b in kafka_cluster.brokers
    )


@pytest.mark.integration
def test_ssl_listener_is_trusted_only_with_the_cluster_ca(kafka_cluster: LocalCluster) -> None:
    assert kafka_cluster.ssl_bootstrap_servers is not None
    assert kafka_cluster.ca_file is not None
    quiet = logging.getLogger("tests.librdkafka")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    base: dict[str, Any] = {
        "bootstrap.servers": kafka_cluster.ssl_bootstrap_servers,
        "security.protocol": "SSL",
        "logger": quiet,
    }

    trusted = AdminClient({**base, "ssl.ca.location": str(kafka_cluster.ca_file)})
    assert sorted(trusted.list_topics(timeout=15).brokers) == [1, 2, 3]

    errors: list[KafkaError] = []
    untrusted_config: dict[str, Any] = {**base, "error_cb": errors.append}  # system CAs only
    untrusted = AdminClient(untrusted_config)
    with pytest.raises(KafkaException):
        untrusted.list_topics(timeout=1)
    untrusted.poll(0.5)  # deliver the error callbacks
    assert any("certificate verify failed" in str(e) for e in errors), errors


@pytest.mark.integration
def test_single_broker_cluster_lifecycle(tmp_path: Path, kafka_version: str) -> None:
    state_dir = tmp_path / "one"
    try:
        cluster = up(state_dir, brokers=1, version=kafka_version, timeout=90)
        assert len(cluster.brokers) == 1
        assert cluster.bootstrap_servers == f"127.0.0.1:{cluster.brokers[0].port}"
        assert cluster.kafka_version == kafka_version

        with pytest.raises(ClusterMismatchError, match="local down"):
            up(state_dir, brokers=2, version=kafka_version)

        # A broker that died is noticed, and `up` replaces the stale cluster.
        old_pid = cluster.brokers[0].pid
        os.kill(old_pid, signal.SIGKILL)
        _wait_for(lambda: not _status_alive(state_dir))
        restarted = up(state_dir, brokers=1, version=kafka_version, timeout=90)
        assert restarted.brokers[0].pid != old_pid
        assert restarted.cluster_id != cluster.cluster_id
        assert _status_alive(state_dir)
    finally:
        stopped = down(state_dir)
    assert stopped is True
    assert down(state_dir) is False  # twice is harmless
    assert status(state_dir) is None
    assert not (state_dir / "node-1").exists()
    assert down(tmp_path / "never-created") is False


def _status_alive(state_dir: Path) -> bool:
    recorded = status(state_dir)
    return recorded is not None and recorded.alive


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in attempts(timeout, 0.1):
        if condition():
            return
    raise AssertionError("condition not met in time")


# --------------------------------------------------------------------------- distribution


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache, no KAFKA_HOME, and no ``mvn`` on PATH (so nothing is fetched)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(cache))
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    return cache


def test_kafka_home_without_libs_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path / "does-not-exist"))

    with pytest.raises(DistributionError, match=r"KAFKA_HOME=.*has no libs/"):
        ensure_distribution()


def test_kafka_home_is_used_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "kafka_2.13-3.8.1.jar").touch()
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))

    assert ensure_distribution("3.8.1") == tmp_path
    assert distribution_version(tmp_path) == "3.8.1"


def test_complete_cache_is_reused_without_fetching(isolated_cache: Path) -> None:
    cached = isolated_cache / "kafka-3.8.1"
    (cached / "libs").mkdir(parents=True)
    (cached / MARKER_FILE).touch()

    assert ensure_distribution("3.8.1", urls=["file:///nonexistent/kafka.tgz"]) == cached


def test_no_tarball_and_no_maven_says_what_to_do(isolated_cache: Path) -> None:
    half = isolated_cache / "kafka-3.8.1"  # e.g. copied by hand, never marked complete
    (half / "libs").mkdir(parents=True)

    with pytest.raises(DistributionError) as excinfo:
        ensure_distribution("3.8.1", urls=["file:///nonexistent/kafka.tgz"])

    message = str(excinfo.value)
    assert "install Maven" in message
    assert "KAFKA_HOME" in message
    assert "file:///nonexistent/kafka.tgz" in message
    # Nothing half-done is left behind for the next run to trust.
    assert sorted(p.name for p in isolated_cache.iterdir()) == ["kafka-3.8.1.lock"]


def test_tarball_is_verified_unpacked_and_cached(isolated_cache: Path, tmp_path: Path) -> None:
    url = _fake_release(tmp_path / "mirror", "9.9.9")

    dist = ensure_distribution("9.9.9", urls=[url])

    assert dist == isolated_cache / "kafka-9.9.9"
    assert (dist / MARKER_FILE).is_file()
    assert distribution_version(dist) == "9.9.9"
    assert (dist / "bin" / "kafka-server-start.sh").is_file()
    assert ensure_distribution("9.9.9", urls=[]) == dist  # cached now


def test_tarball_with_wrong_checksum_is_rejected(isolated_cache: Path, tmp_path: Path) -> None:
    url = _fake_release(tmp_path / "mirror", "9.9.9", corrupt_checksum=True)

    with pytest.raises(DistributionError, match="SHA-512 mismatch"):
        ensure_distribution("9.9.9", urls=[url])
    assert not (isolated_cache / "kafka-9.9.9").exists()


def test_version_must_be_a_release_number() -> None:
    with pytest.raises(DistributionError, match=r"like 3\.9\.1"):
        ensure_distribution("latest")


def _fake_release(mirror: Path, version: str, *, corrupt_checksum: bool = False) -> str:
    """A miniature kafka_2.13-<version>.tgz plus Apache-style .sha512, served as file://."""
    mirror.mkdir(parents=True)
    name = f"kafka_2.13-{version}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member, content in {
            f"{name}/libs/kafka_2.13-{version}.jar": b"not really a jar",
            f"{name}/bin/kafka-server-start.sh": b"#!/bin/sh\n",
        }.items():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    archive = mirror / f"{name}.tgz"
    archive.write_bytes(buffer.getvalue())
    digest = hashlib.sha512(b"corrupt" if corrupt_checksum else buffer.getvalue()).hexdigest()
    # Apache's format: "file: HEX HEX ..." in upper-case groups of 8, wrapped over lines.
    groups = " ".join(digest.upper()[i : i + 8] for i in range(0, 128, 8))
    (mirror / f"{name}.tgz.sha512").write_text(f"{name}.tgz: {groups[:60]}\n{groups[60:]}\n")
    return archive.as_uri()
