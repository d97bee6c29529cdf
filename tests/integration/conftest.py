"""Fixtures for tests that change the cluster out of band and must wait for every broker, and
moto's server for the AWS services it fakes faithfully (CloudWatch Logs, EC2)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from moto.server import ThreadedMotoServer

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


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on loopback for the module (its state: reset it where a test needs to)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
