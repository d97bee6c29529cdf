"""Can the topics the specs declare fill the MSK brokers' disks? A check across two kinds. Pure.

The seed's "disk space issues" come from retention that adds up to more than the brokers
hold. A partition keeps `retention.bytes` and, because Kafka deletes whole segments and never
the active one, up to one more segment (`segment.bytes`) before the oldest goes: that is its
worst case on disk. Each replica is a copy on another broker, so a topic's worst case is
(retention.bytes + segment.bytes) x partitions x replication factor, spread over the brokers.
Topics that do not declare `retention.bytes` inherit the brokers' `log.retention.bytes` (MSK's
serverProperties; unlimited by default); with tiered storage (`remote.storage.enable`) only
`local.retention.bytes` stays on the broker's disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.kinds.base import Context
from reconciler.kinds.msk_cluster.model import MskDesired
from reconciler.kinds.msk_cluster.spec import KIND as MSK_CLUSTER
from reconciler.kinds.msk_cluster.spec import MskClusterSpec
from reconciler.kinds.topic.model import KIND as TOPIC
from reconciler.kinds.topic.model import Topics, TopicSpec

GIB = 2**30
#: Kafka's defaults: retention.bytes unlimited, segment.bytes 1 GiB.
UNLIMITED = -1
DEFAULT_SEGMENT_BYTES = 1_073_741_824
#: Topics named in a warning, largest first.
SHOWN = 3


@dataclass(frozen=True)
class TopicSize:
    name: str
    worst_bytes: int


def _int(value: str | None, default: int) -> int:
    return default if value is None else int(value)


def worst_case(topic: TopicSpec, broker_properties: Mapping[str, str]) -> int | None:
    """A topic's largest size on the brokers' disks, all replicas together; None: unbounded."""
    config = topic.config
    limit = _int(
        config.get("retention.bytes"), _int(broker_properties.get("log.retention.bytes"), -1)
    )
    if config.get("remote.storage.enable") == "true":
        local = _int(config.get("local.retention.bytes"), -2)
        limit = limit if local == -2 else local
    if limit < 0:
        return None
    segment = _int(
        config.get("segment.bytes"),
        _int(broker_properties.get("log.segment.bytes"), DEFAULT_SEGMENT_BYTES),
    )
    return (limit + segment) * topic.partitions * topic.replication_factor


def disk_warnings(topics: Topics, cluster: MskClusterSpec) -> list[str]:
    """A warning when the declared topics' worst case per broker exceeds a broker's volume."""
    properties = cluster.server_properties or {}
    sizes, unbounded = [], 0
    for topic in topics.topics.values():
        worst = worst_case(topic, properties)
        if worst is None:
            unbounded += 1
        else:
            sizes.append(TopicSize(topic.name, worst))
    if not sizes:
        return []
    brokers = cluster.broker_count
    per_broker = sum(s.worst_bytes for s in sizes) / brokers
    volume = cluster.storage.volume_size_gib * GIB
    if per_broker <= volume:
        return []
    largest = sorted(sizes, key=lambda s: (-s.worst_bytes, s.name))[:SHOWN]
    named = ", ".join(f"{s.name} ({_gib(s.worst_bytes)})" for s in largest)
    left_out = f"; {unbounded} topic(s) without a size limit are not counted" if unbounded else ""
    return [
        f"Disk: the {len(sizes)} topic(s) with a size limit can hold up to {_gib(per_broker)} "
        f"per broker (retention.bytes plus one segment, x partitions x replication factor, "
        f"over {brokers} brokers), more than each broker's {cluster.storage.volume_size_gib} GiB "
        "volume: they can fill the disks, and a broker whose disk is full takes its log "
        "directory offline. Way out: lower retention.bytes or partitions, or raise "
        f"brokers.storage.volumeSizeGiB. Largest: {named}{left_out}; topics outside the specs "
        "and internal topics come on top"
    ]


def _gib(size: float) -> str:
    return f"{size / GIB:,.1f} GiB"


def check(desired: Mapping[str, Any], context: Context) -> list[str]:
    """The check as the engine runs it: over every kind's desired state."""
    topics, msk = desired.get(TOPIC), desired.get(MSK_CLUSTER)
    if not isinstance(topics, Topics) or not isinstance(msk, MskDesired):
        return []
    return disk_warnings(topics, msk.spec)
