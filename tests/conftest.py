"""Shared fixtures: one real local Kafka cluster per test session.

Tests isolate themselves by topic-name prefix (``topic_prefix``), never by restarting
brokers, so the ~5s cluster start is paid once.

Environment knobs:

* ``RECONCILER_TEST_BOOTSTRAP`` -- use this existing cluster instead of starting one
  (tests that need the managed cluster itself, e.g. pids or TLS files, are skipped).
* ``RECONCILER_TEST_CLUSTER_DIR`` -- state dir of the session cluster
  (default ``<cache>/test-cluster``).
* ``RECONCILER_TEST_KEEP_CLUSTER=1`` -- leave the cluster running after the session; the
  next session reuses it (``up`` is idempotent), which makes quick re-runs faster.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from confluent_kafka.admin import AdminClient

from reconciler.local import ClusterMismatchError, LocalCluster, cache_dir, down, up

TEST_BOOTSTRAP_ENV = "RECONCILER_TEST_BOOTSTRAP"


def _claim_state_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IO[str] | None]:
    """The shared test-cluster dir, unless another pytest session is using it.

    A fixed dir (rather than a temp dir) means brokers orphaned by a killed session are
    found and reused or cleaned up by the next one. Concurrent sessions (two terminals,
    xdist workers) each get their own cluster instead of tearing down each other's.
    """
    explicit = os.environ.get("RECONCILER_TEST_CLUSTER_DIR")
    state_dir = Path(explicit) if explicit else cache_dir() / "test-cluster"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        state_dir = state_dir.with_name(f"{state_dir.name}-{worker}")
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    handle = state_dir.with_name(f"{state_dir.name}.session.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return tmp_path_factory.mktemp("kafka-cluster"), None
    return state_dir, handle


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A 3-broker local cluster (one rack each, plus an SSL listener) for the session."""
    if os.environ.get(TEST_BOOTSTRAP_ENV):
        pytest.skip(f"needs the managed local cluster; {TEST_BOOTSTRAP_ENV} is set")
    state_dir, session_lock = _claim_state_dir(tmp_path_factory)
    keep = os.environ.get("RECONCILER_TEST_KEEP_CLUSTER") == "1" and session_lock is not None
    try:
        try:
            cluster = up(state_dir, brokers=3, tls=True)
        except ClusterMismatchError:  # e.g. kept running by an older checkout: replace it
            down(state_dir)
            cluster = up(state_dir, brokers=3, tls=True)
        try:
            yield cluster
        finally:
            if not keep:
                down(state_dir)
    finally:
        if session_lock is not None:
            session_lock.close()


@pytest.fixture(scope="session")
def bootstrap_servers(request: pytest.FixtureRequest) -> str:
    """Bootstrap servers of the cluster under test (``RECONCILER_TEST_BOOTSTRAP`` wins)."""
    external = os.environ.get(TEST_BOOTSTRAP_ENV)
    if external:
        return external
    cluster: LocalCluster = request.getfixturevalue("kafka_cluster")
    return cluster.bootstrap_servers


@pytest.fixture(scope="session")
def admin(bootstrap_servers: str) -> Iterator[AdminClient]:
    """An AdminClient on the cluster under test, shared by the session.

    librdkafka's own log lines go to Python logging (shown by pytest only on failure).
    """
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "logger": logging.getLogger("librdkafka"),
    }
    client = AdminClient(config)
    yield client
    del client  # disconnect before the session cluster stops, not at interpreter exit


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A unique topic-name prefix per test, e.g. ``t-rf3-topic-spreads-a1b2c3-``."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    name = name.removeprefix("test-")[:24].strip("-") or "test"
    return f"t-{name}-{secrets.token_hex(3)}-"
