"""Fixtures for tests that change the cluster out of band and must wait for every broker."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from reconciler.core.polling import attempts
from reconciler.local.kafka.state import LocalCluster

Check = Callable[[AdminClient], bool]
WaitUntil = Callable[..., None]


def each_broker(cluster: LocalCluster) -> Iterator[AdminClient]:
    """A fresh client per broker: connected to that broker only, so it is the one that answers
    (a client that has opened other connections lets librdkafka route requests through them)."""
    quiet = logging.getLogger("librdkafka")
    for broker in cluster.brokers:
        config: dict[str, Any] = {"bootstrap.servers": broker.address, "logger": quiet}
        yield AdminClient(config)


@pytest.fixture
def wait_until(kafka_cluster: LocalCluster) -> WaitUntil:
    """Wait until every broker sees an out-of-band change (metadata spreads in moments)."""

    def wait(check: Check, seconds: float = 20) -> None:
        for _ in attempts(seconds, 0.2):
            if all(check(client) for client in each_broker(kafka_cluster)):
                return
        raise AssertionError("the brokers never all saw the change")

    return wait
