"""What the Topic kind asks of a topic API, and the plain values it gets back.

Two APIs reach a cluster's topics: Kafka's admin protocol (`clients.kafka.KafkaAdmin`, over
the network to the brokers) and MSK's control plane (`clients.msk_topics.MskTopicAdmin`,
over HTTPS with IAM alone). Both satisfy `TopicAdmin`, so the Topic kind plans and applies
through either without knowing which; what only one of them can do is said by `Abilities`,
and the kind plans accordingly (a change the API cannot make is refused in the plan, with
the way out). Importing this module loads no client library.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from reconciler.core.cluster import Broker, ClusterView


@dataclass(frozen=True)
class ConfigValue:
    """One config as the API reports it; a sensitive value is never kept."""

    value: str | None
    source: str
    sensitive: bool


@dataclass(frozen=True)
class NewTopicRequest:
    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]


@dataclass(frozen=True)
class PartitionState:
    leader: int
    replicas: tuple[int, ...]
    in_sync: tuple[int, ...]


@dataclass(frozen=True)
class Abilities:
    """What a topic API can do beyond creating topics, altering configs, adding partitions
    and deleting topics, and what its answers leave out."""

    #: `kafka.api` in the Environment, and the name observed state records.
    key: str
    #: Its name in plans and errors.
    name: str
    #: Writes can be checked without writing (validate-only).
    validates: bool = True
    #: Replica placement can be read and changed (reassignments, throttles, log dirs).
    moves_replicas: bool = True
    #: Each config says where its value comes from (a topic override, a broker default...).
    config_sources: bool = True
    #: Each broker can be asked on its own, so a read-back sees what every one serves.
    per_broker: bool = True
    #: How long a write may take to show in reads, at most (beyond the brokers' moments).
    lag_seconds: float = 0.0


KAFKA_API = Abilities("kafka", "the Kafka admin API")
#: MSK serves topic data it refreshes about once a minute (AWS: "Amazon MSK updates ... topic
#: information approximately every minute"), so reads after a write wait up to two rounds.
MSK_API = Abilities(
    "msk",
    "the MSK topic API",
    validates=False,
    moves_replicas=False,
    config_sources=False,
    per_broker=False,
    lag_seconds=150.0,
)
APIS = {api.key: api for api in (KAFKA_API, MSK_API)}


#: The source given to every value of an API that names none (MSK's DescribeTopic).
UNNAMED_SOURCE = "MSK_DESCRIBE_TOPIC"
#: A config change: the key, and its new value (None: remove the override).
ConfigOp = tuple[str, str | None]
#: One result per item of a batched call: None for success, else the service's error text.
Results = dict[str, str | None]


def _none(topic: str) -> Collection[str]:
    return ()


@dataclass(frozen=True)
class Keep:
    """Which config entries a read keeps: those whose source is one of `sources`, and the
    keys `declared` names for their topic whatever their source (or all, `everything`).

    A rule, not a callback, so a client filters the ~360,000 entries of 10,000 topics as
    they arrive with a set lookup each, instead of a Python call each (that was a fifth of
    a plan's CPU); filtering as they arrive keeps time and memory flat.
    """

    sources: frozenset[str] = frozenset()
    declared: Callable[[str], Collection[str]] = _none
    everything: bool = False

    def keeps(self, topic: str, key: str, source: str) -> bool:
        """The rule for one entry (clients that see few entries use it as it is)."""
        return self.everything or source in self.sources or key in self.declared(topic)


#: Every entry: a caller that needs a topic's whole configuration.
KEEP_ALL = Keep(everything=True)
#: Every topic's partitions and their replicas.
TopicMetadata = dict[str, dict[int, tuple[int, ...]]]


class TopicAdmin(Protocol):
    """The topic calls the Topic kind makes, each bounded by `timeout` seconds."""

    timeout: float
    abilities: Abilities

    def on_broker(self, broker: Broker) -> TopicAdmin: ...

    def topic_metadata(self, only: Collection[str] | None = None) -> TopicMetadata:
        """Every topic's partitions and replicas (`only`: just these topics, if they exist)."""
        ...

    def cluster(self, topics: Mapping[str, Mapping[int, Sequence[int]]]) -> ClusterView: ...

    def broker_configs(self, broker_id: int) -> dict[str, str] | None: ...

    def topic_configs(
        self, names: Collection[str], keep: Keep
    ) -> Iterator[tuple[str, dict[str, ConfigValue] | None]]: ...

    def create_topics(
        self, topics: Sequence[NewTopicRequest], *, validate_only: bool
    ) -> Results: ...

    def alter_topic_configs(
        self, changes: Mapping[str, Sequence[ConfigOp]], *, validate_only: bool
    ) -> Results: ...

    def create_partitions(self, counts: Mapping[str, int], *, validate_only: bool) -> Results: ...

    def delete_topics(self, names: Sequence[str]) -> Results: ...
