"""Observed topics <-> JSON, for snapshots (plans made where the cluster cannot be reached).

Secret values are never written (invariant 6): a sensitive config keeps its key and source,
its value is null. Reading is strict and says where a damaged record is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.clients.topics import APIS
from reconciler.core.record import Reader, decode, encode
from reconciler.kinds.topic.model import (
    ObservedConfig,
    ObservedPlacement,
    ObservedTopic,
    ObservedTopics,
    TopicNames,
)


def _topic(topic: ObservedTopic) -> dict[str, Any]:
    return {
        "partitions": topic.partitions,
        "replicationFactor": topic.replication_factor,
        "replicas": {str(p): list(r) for p, r in sorted(topic.replicas.items())},
        "configs": {
            key: {
                "value": None if c.sensitive else c.value,
                "source": c.source,
                "sensitive": c.sensitive,
                "inherited": None if c.sensitive else c.inherited,
            }
            for key, c in sorted(topic.configs.items())
        },
    }


def dump_observed(observed: ObservedTopics) -> dict[str, Any]:
    """The owned topics whole; of the others (`others`), their names: all a plan asks of
    them is whether a new name collides with one."""
    record: dict[str, Any] = {
        "defaults": dict(sorted(observed.defaults.items())),
        "topics": {name: _topic(t) for name, t in sorted(observed.topics.items())},
        "placement": encode(observed.placement),
        "api": observed.api,
    }
    if observed.names is not None:
        record["others"] = sorted(observed.names.names.difference(observed.topics))
    return record


def _config(read: Reader, value: Any, path: str) -> ObservedConfig:
    c = read.obj(value, path)
    return ObservedConfig(
        value=read.field(c, "value", path, str, null=True),
        source=read.field(c, "source", path, str),
        sensitive=read.field(c, "sensitive", path, bool),
        inherited=read.field(c, "inherited", path, str, null=True),
    )


def _read_topic(read: Reader, name: str, value: Any, path: str) -> ObservedTopic:
    t = read.obj(value, path)
    replicas = read.obj(read.field(t, "replicas", path, dict), f"{path}/replicas")
    placement: dict[int, tuple[int, ...]] = {}
    for partition, nodes in replicas.items():
        where = f"{path}/replicas/{partition}"
        if not partition.isdigit() or not isinstance(nodes, list):
            raise read.fail(where, "expected a partition number and a list of broker ids")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in nodes):
            raise read.fail(where, "expected broker ids")
        placement[int(partition)] = tuple(nodes)
    configs = read.obj(read.field(t, "configs", path, dict), f"{path}/configs")
    return ObservedTopic(
        name=name,
        partitions=read.field(t, "partitions", path, int),
        replication_factor=read.field(t, "replicationFactor", path, int),
        replicas=placement,
        configs={k: _config(read, v, f"{path}/configs/{k}") for k, v in configs.items()},
    )


def load_observed(value: object, path: str) -> ObservedTopics:
    read = Reader()
    data: Mapping[str, Any] = read.obj(value, path)
    topics = read.obj(read.field(data, "topics", path, dict), f"{path}/topics")
    defaults = read.obj(read.field(data, "defaults", path, dict), f"{path}/defaults")
    placement = (
        decode(ObservedPlacement, data["placement"], f"{path}/placement")
        if "placement" in data  # snapshots taken before placement was observed have none
        else ObservedPlacement()
    )
    api = read.field(data, "api", path, str) if "api" in data else "kafka"
    if api not in APIS:
        raise read.fail(f"{path}/api", f"expected one of {', '.join(sorted(APIS))}")
    names = None
    if "others" in data:  # snapshots that held every topic whole have none
        others = read.field(data, "others", path, list)
        if not all(isinstance(name, str) for name in others):
            raise read.fail(f"{path}/others", "expected topic names")
        names = TopicNames.of(sorted({*topics, *others}))
    return ObservedTopics(
        topics={n: _read_topic(read, n, t, f"{path}/topics/{n}") for n, t in topics.items()},
        defaults={str(k): read.field(defaults, k, f"{path}/defaults", str) for k in defaults},
        placement=placement,
        api=api,
        names=names,
    )
