"""The Kafka cluster's shape as one observation saw it: its id and brokers.

Read once per observation (DescribeCluster), shared by every kind's diff (a replication
factor needs brokers, MSK's partition limits need the replica count per broker) and by the
observed digest, which names the cluster so a plan never applies to another one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Broker:
    node_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True)
class ClusterView:
    cluster_id: str | None
    brokers: tuple[Broker, ...]
    #: Partition replicas each broker holds, over every topic (internal ones included).
    replicas_per_broker: Mapping[int, int] = field(default_factory=dict)

    @property
    def identity(self) -> dict[str, object]:
        """What a plan's observed digest records of the cluster itself."""
        return {"clusterId": self.cluster_id, "brokers": [b.node_id for b in self.brokers]}

    @property
    def most_replicas_on_a_broker(self) -> int:
        return max(self.replicas_per_broker.values(), default=0)
