"""A real local Apache Kafka cluster (KRaft) for trying the tool and for the tests."""

from reconciler.local.cluster import (
    BOOTSTRAP_ENV,
    Broker,
    ClusterMismatchError,
    LocalCluster,
    LocalClusterError,
    default_state_dir,
    down,
    is_healthy,
    render_status,
    shell_exports,
    status,
    up,
)
from reconciler.local.distribution import (
    DEFAULT_KAFKA_VERSION,
    DistributionError,
    LocalKafkaError,
    cache_dir,
    ensure_distribution,
)

__all__ = [
    "BOOTSTRAP_ENV",
    "DEFAULT_KAFKA_VERSION",
    "Broker",
    "ClusterMismatchError",
    "DistributionError",
    "LocalCluster",
    "LocalClusterError",
    "LocalKafkaError",
    "cache_dir",
    "default_state_dir",
    "down",
    "ensure_distribution",
    "is_healthy",
    "render_status",
    "shell_exports",
    "status",
    "up",
]
