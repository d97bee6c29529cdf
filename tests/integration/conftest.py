"""Fixtures for tests that change the cluster out of band and must wait for every broker, and
moto's server for the AWS services it fakes faithfully (CloudWatch Logs, EC2)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from confluent_kafka.admin import AdminClient, ClusterMetadata, ConfigResource, ResourceType
from moto.server import ThreadedMotoServer

from reconciler.clients.kafka import answered_by
from reconciler.core.polling import attempts
from reconciler.local.kafka.cluster import down, up
from reconciler.local.kafka.errors import ClusterMismatchError
from reconciler.local.kafka.state import LocalCluster
from reconciler.local.msk.endpoint import ensure_cluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.conftest import TEST_KAFKA_VERSION, claim_state_dir

Check = Callable[[AdminClient], bool]
WaitUntil = Callable[..., None]


class _OneBroker:
    """An AdminClient whose Metadata and DescribeConfigs answers come from one broker.

    A client bootstrapped from one broker learns the others from its first answer and may
    send the next request to any of them, so a broker minutes behind (one still deleting
    the logs of a thousand deleted topics on a busy machine) would go unnoticed: Metadata
    is asked of fresh clients until that broker is the one that answered, and every
    DescribeConfigs also names the broker's own configs, which only it answers.
    """

    def __init__(self, node_id: int, address: str) -> None:
        self.node_id, self.address = node_id, address
        self.client = self._fresh()

    def _fresh(self) -> AdminClient:
        quiet = logging.getLogger("librdkafka")
        config: dict[str, Any] = {"bootstrap.servers": self.address, "logger": quiet}
        return AdminClient(config)

    def list_topics(self, *args: Any, **kwargs: Any) -> ClusterMetadata:
        for _ in attempts(10, 0.05):
            metadata = self.client.list_topics(*args, **kwargs)
            if answered_by(metadata, self.node_id, self.address):
                return metadata
            self.client = self._fresh()
        raise AssertionError(f"broker {self.node_id} never answered a Metadata request")

    def describe_configs(self, resources: list[ConfigResource], **kwargs: Any) -> dict[Any, Any]:
        own = ConfigResource(ResourceType.BROKER, str(self.node_id))
        futures = self.client.describe_configs([*resources, own], **kwargs)
        return {r: f for r, f in futures.items() if r != own}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def each_broker(cluster: LocalCluster | AdminClient) -> Iterator[AdminClient]:
    """A client per broker (of the local cluster, or that a client lists) whose
    `list_topics` that broker answers (see `_OneBroker`)."""
    if isinstance(cluster, LocalCluster):
        brokers = [(b.node_id, b.address) for b in cluster.brokers]
    else:
        listed = cluster.list_topics(timeout=10).brokers.values()
        brokers = [(b.id, f"{b.host}:{b.port}") for b in listed]
    for node_id, address in brokers:
        yield cast(AdminClient, _OneBroker(node_id, address))


@pytest.fixture
def wait_until(kafka_cluster: LocalCluster) -> WaitUntil:
    """Wait until every broker sees an out-of-band change (metadata spreads in moments)."""

    def wait(check: Check, seconds: float = 20) -> None:
        for _ in attempts(seconds, 0.2):
            if all(check(client) for client in each_broker(kafka_cluster)):
                return
        raise AssertionError("the brokers never all saw the change")

    return wait


#: How old the local MSK endpoint's topic answers may be in these tests (MSK: about a minute).
TOPIC_REFRESH_SECONDS = 0.5


@pytest.fixture(scope="session")
def msk_topic_endpoint(bootstrap_servers: str) -> Iterator[MskServer]:
    """The local MSK endpoint on the session cluster, with MSK cluster `local` (Kafka 3.9.x)
    ACTIVE: what `kafka.api: msk` specs reach."""
    server = start_msk_server(
        kafka_bootstrap=bootstrap_servers,
        operation_seconds=0.2,
        topic_refresh_seconds=TOPIC_REFRESH_SECONDS,
    )
    ensure_cluster(server.endpoint_url, brokers=3)
    yield server
    server.stop()


@dataclass(frozen=True)
class TopicApi:
    """How a test's specs reach topics: `kafka` (the brokers) or `msk` (MSK's topic API)."""

    name: str
    #: The Environment's `spec.kafka` block (and `spec.msk` for the MSK API), indented.
    kafka_block: str
    #: Seconds until a change made behind the reconciler's back shows in its reads.
    lag: float

    @property
    def msk(self) -> bool:
        return self.name == "msk"

    def settle(self) -> None:
        """Wait until the API serves what the brokers already agree on."""
        time.sleep(self.lag)


KAFKA_BLOCK = (
    "  kafka:\n    bootstrapServers: ${KAFKA_BOOTSTRAP_SERVERS}\n    securityProtocol: PLAINTEXT\n"
)
MSK_BLOCK = "  kafka: {api: msk}\n  msk: {region: eu-central-1, clusterName: local}\n"


@pytest.fixture
def topic_api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> TopicApi:
    """Parametrised by `pytest_generate_tests` of the module: each test runs both ways."""
    if request.param == "msk":
        endpoint: MskServer = request.getfixturevalue("msk_topic_endpoint")
        monkeypatch.setenv("AWS_ENDPOINT_URL_KAFKA", endpoint.endpoint_url)
        return TopicApi("msk", MSK_BLOCK, TOPIC_REFRESH_SECONDS + 0.2)
    return TopicApi("kafka", KAFKA_BLOCK, 0.0)


def both_topic_apis(metafunc: pytest.Metafunc) -> None:
    """A module's `pytest_generate_tests`: its tests that take `topic_api` run through
    Kafka's admin API and MSK's topic API, but those marked `kafka_api_only`."""
    if "topic_api" not in metafunc.fixturenames:
        return
    only_kafka = metafunc.definition.get_closest_marker("kafka_api_only") is not None
    apis = ["kafka"] if only_kafka else ["kafka", "msk"]
    metafunc.parametrize("topic_api", apis, indirect=True)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on loopback for the module (its state: reset it where a test needs to)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def secured_cluster() -> Iterator[LocalCluster]:
    """One broker with a SASL_PLAINTEXT SCRAM-SHA-512 listener and Kafka's StandardAuthorizer
    (`up(sasl=True)`): SCRAM users have what their ACLs give; the plaintext listener and the
    SCRAM user `reconciler` are super users. For the access kinds' tests."""
    state_dir, session_lock = claim_state_dir("-secured")
    try:
        try:
            cluster = up(state_dir, brokers=1, version=TEST_KAFKA_VERSION, sasl=True)
        except ClusterMismatchError:
            down(state_dir)
            cluster = up(state_dir, brokers=1, version=TEST_KAFKA_VERSION, sasl=True)
        try:
            yield cluster
        finally:
            down(state_dir)
    finally:
        session_lock.close()
