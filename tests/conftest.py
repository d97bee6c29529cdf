"""Shared fixtures: one real local Kafka cluster per test session.

Tests isolate themselves by topic-name prefix (``topic_prefix``), never by restarting
brokers, so the ~5s cluster start is paid once.

Environment knobs:

* ``RECONCILER_TEST_CLUSTER_DIR`` -- state dir of the session cluster (default
  ``<cache>/test-cluster``; a concurrent session takes ``test-cluster-2`` and so on).
* ``RECONCILER_TEST_KEEP_CLUSTER=1`` -- leave the cluster running after the session; the
  next session reuses it (``up`` is idempotent), which makes quick re-runs faster.
* ``RECONCILER_TEST_KAFKA_VERSION`` -- the Kafka version the brokers run (default
  ``DEFAULT_KAFKA_VERSION``), so the suite can run against each version MSK offers.
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

from reconciler.local.kafka.cluster import down, up
from reconciler.local.kafka.distribution import DEFAULT_KAFKA_VERSION, cache_dir
from reconciler.local.kafka.errors import ClusterMismatchError
from reconciler.local.kafka.state import LocalCluster

TEST_KAFKA_VERSION = os.environ.get("RECONCILER_TEST_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION


def claim_state_dir(suffix: str = "") -> tuple[Path, IO[str]]:
    """A fixed state dir that no other running pytest session is using.

    Fixed dirs (``test-cluster``, ``test-cluster-2``, ...) rather than temp dirs: brokers
    orphaned by a killed session are found again, and reused or cleaned up, by the next
    session that claims the same dir. Concurrent sessions (two terminals, xdist workers)
    each get their own cluster instead of tearing down each other's. The claim is an
    advisory lock the OS releases when the session ends, however it ends.
    """
    explicit = os.environ.get("RECONCILER_TEST_CLUSTER_DIR")
    base = Path(explicit) if explicit else cache_dir() / "test-cluster"
    base = base.with_name(base.name + suffix)  # another cluster of the session: its own dirs
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 100):
        state_dir = base if n == 1 else base.with_name(f"{base.name}-{n}")
        handle = state_dir.with_name(f"{state_dir.name}.session.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return state_dir, handle
    raise RuntimeError(f"99 pytest sessions already hold a cluster next to {base}")


@pytest.fixture(scope="session")
def kafka_version() -> str:
    """The Kafka version of the session cluster (``RECONCILER_TEST_KAFKA_VERSION``)."""
    return TEST_KAFKA_VERSION


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[LocalCluster]:
    """A 3-broker local cluster (one rack each, plus an SSL listener) for the session, on
    ``TEST_KAFKA_VERSION``."""
    state_dir, session_lock = claim_state_dir()
    keep = os.environ.get("RECONCILER_TEST_KEEP_CLUSTER") == "1"
    try:
        try:
            cluster = up(state_dir, brokers=3, version=TEST_KAFKA_VERSION, tls=True)
        except ClusterMismatchError:  # e.g. kept running by an older checkout: replace it
            down(state_dir)
            cluster = up(state_dir, brokers=3, version=TEST_KAFKA_VERSION, tls=True)
        try:
            yield cluster
        finally:
            if not keep:
                down(state_dir)
    finally:
        session_lock.close()


@pytest.fixture(scope="session")
def bootstrap_servers(kafka_cluster: LocalCluster) -> str:
    """Bootstrap servers of the cluster under test."""
    return kafka_cluster.bootstrap_servers


@pytest.fixture(scope="session")
def admin(bootstrap_servers: str) -> Iterator[AdminClient]:
    """An AdminClient on the cluster under test, shared by the session.

    librdkafka's own log lines go to Python logging (shown by pytest only on failure).
    """
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "logger": logging.getLogger("librdkafka"),
    }
    yield AdminClient(config)  # released at teardown, before the session cluster stops


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A unique topic-name prefix per test, e.g. ``t-rf3-topic-spreads-a1b2c3-``."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    name = name.removeprefix("test-")[:24].strip("-") or "test"
    return f"t-{name}-{secrets.token_hex(3)}-"
