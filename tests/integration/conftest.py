"""Fixtures for tests that change the cluster out of band and must wait for every broker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from reconciler.local import LocalCluster

Check = Callable[[AdminClient], bool]
WaitUntil = Callable[..., None]


@pytest.fixture(scope="session")
def each_broker(kafka_cluster: LocalCluster) -> Iterator[list[AdminClient]]:
    """One client per broker: each answers from its own copy of the cluster metadata."""
    quiet = logging.getLogger("librdkafka")
    configs: list[dict[str, Any]] = [
        {"bootstrap.servers": b.address, "logger": quiet} for b in kafka_cluster.brokers
    ]
    clients = [AdminClient(config) for config in configs]
    yield clients
    clients.clear()  # disconnect before the session's cluster stops


@pytest.fixture
def wait_until(each_broker: list[AdminClient]) -> WaitUntil:
    """Wait until every broker sees an out-of-band change (metadata spreads in moments)."""

    def wait(check: Check, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not all(check(client) for client in each_broker):
            assert time.monotonic() < deadline, "the brokers never all saw the change"
            time.sleep(0.2)

    return wait
