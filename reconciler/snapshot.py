"""Observed state <-> JSON, so a plan can be made where the cluster cannot be reached.

`reconciler snapshot` writes what `observe` saw, where the cluster is reachable (the drift
job); a hosted runner or a fork's pull request plans against it later. A snapshot is old by
nature, so it carries when it was taken and every plan made from it must say its age.
Secret values are never written (DESIGN invariant 6): a sensitive config keeps its key and
source, its value is null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model import Broker, Observed, ObservedConfig, ObservedTopic

FORMAT_VERSION = 1
KIND = "reconciler-snapshot"


class SnapshotError(ReconcilerError):
    """The file is not a snapshot this version can read."""


@dataclass(frozen=True)
class Snapshot:
    """Observed state, the environment it belongs to, and when it was read."""

    environment: str
    taken_at: datetime
    observed: Observed


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    observed = snapshot.observed
    return {
        "formatVersion": FORMAT_VERSION,
        "kind": KIND,
        "environment": snapshot.environment,
        "takenAt": _timestamp(snapshot.taken_at),
        "clusterId": observed.cluster_id,
        "brokers": [
            {"nodeId": b.node_id, "host": b.host, "port": b.port, "rack": b.rack}
            for b in observed.brokers
        ],
        "defaults": dict(sorted(observed.defaults.items())),
        "topics": {name: _topic(t) for name, t in sorted(observed.topics.items())},
    }


def dump_snapshot(snapshot: Snapshot) -> str:
    """ASCII JSON, one topic per line: small diffs between two snapshots, fast to write."""
    document = snapshot_to_dict(snapshot)
    topics = document.pop("topics")
    head = json.dumps(document, ensure_ascii=True)[:-1]
    lines = [f"{json.dumps(n)}: {json.dumps(t, ensure_ascii=True)}" for n, t in topics.items()]
    body = ",\n  ".join(lines)
    return f'{head}, "topics": {{\n  {body}\n}}}}\n' if lines else f'{head}, "topics": {{}}}}\n'


class _Reader:
    def fail(self, path: str, problem: str) -> SnapshotError:
        return SnapshotError(
            f"the snapshot is not valid at {path or '(top level)'}: {problem}; take a new one "
            "with `reconciler snapshot`"
        )

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "expected an object")
        return value

    def field(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        kind: type | tuple[type, ...],
        *,
        null: bool = False,
    ) -> Any:
        if key not in data:
            raise self.fail(path, f"missing {key}")
        value = data[key]
        if value is None and null:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise self.fail(f"{path}/{key}", f"expected {getattr(kind, '__name__', kind)}")
        return value

    def config(self, value: Any, path: str) -> ObservedConfig:
        c = self.obj(value, path)
        return ObservedConfig(
            value=self.field(c, "value", path, str, null=True),
            source=self.field(c, "source", path, str),
            sensitive=self.field(c, "sensitive", path, bool),
            inherited=self.field(c, "inherited", path, str, null=True),
        )

    def topic(self, name: str, value: Any, path: str) -> ObservedTopic:
        t = self.obj(value, path)
        replicas = self.obj(self.field(t, "replicas", path, dict), f"{path}/replicas")
        placement: dict[int, tuple[int, ...]] = {}
        for partition, nodes in replicas.items():
            where = f"{path}/replicas/{partition}"
            if not partition.isdigit() or not isinstance(nodes, list):
                raise self.fail(where, "expected a partition number and a list of broker ids")
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in nodes):
                raise self.fail(where, "expected broker ids")
            placement[int(partition)] = tuple(nodes)
        configs = self.obj(self.field(t, "configs", path, dict), f"{path}/configs")
        return ObservedTopic(
            name=name,
            partitions=self.field(t, "partitions", path, int),
            replication_factor=self.field(t, "replicationFactor", path, int),
            replicas=placement,
            configs={k: self.config(v, f"{path}/configs/{k}") for k, v in configs.items()},
        )

    def broker(self, value: Any, path: str) -> Broker:
        b = self.obj(value, path)
        return Broker(
            node_id=self.field(b, "nodeId", path, int),
            host=self.field(b, "host", path, str),
            port=self.field(b, "port", path, int),
            rack=self.field(b, "rack", path, str, null=True),
        )

    def snapshot(self, value: Any) -> Snapshot:
        d = self.obj(value, "")
        if d.get("kind") != KIND:
            raise self.fail("/kind", f"expected {KIND!r}; is this a plan or another file?")
        if d.get("formatVersion") != FORMAT_VERSION:
            raise self.fail("/formatVersion", f"this reconciler reads version {FORMAT_VERSION}")
        taken = self.field(d, "takenAt", "", str)
        try:
            taken_at = datetime.fromisoformat(taken)
        except ValueError:
            raise self.fail("/takenAt", "expected an ISO 8601 time") from None
        if taken_at.tzinfo is None:
            raise self.fail("/takenAt", "expected a time zone (Z for UTC)")
        brokers = self.field(d, "brokers", "", list)
        topics = self.obj(self.field(d, "topics", "", dict), "/topics")
        defaults = self.obj(d.get("defaults", {}), "/defaults")  # absent in older snapshots
        observed = Observed(
            cluster_id=self.field(d, "clusterId", "", str, null=True),
            brokers=tuple(self.broker(b, f"/brokers/{i}") for i, b in enumerate(brokers)),
            topics={n: self.topic(n, t, f"/topics/{n}") for n, t in topics.items()},
            defaults={str(k): self.field(defaults, k, "/defaults", str) for k in defaults},
        )
        return Snapshot(self.field(d, "environment", "", str), taken_at.astimezone(UTC), observed)


def load_snapshot(text: str) -> Snapshot:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(f"the snapshot is not valid JSON ({error})") from None
    return _Reader().snapshot(data)


def describe_age(taken_at: datetime, now: datetime) -> str:
    """'3 hours 5 minutes', '2 days 4 hours', 'less than a minute': what a reader needs."""
    seconds = int((now - taken_at).total_seconds())
    if seconds < 0:
        return "taken in the future (check the clocks)"
    units = [("day", 86_400), ("hour", 3_600), ("minute", 60)]
    parts = []
    for word, size in units:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {word}" + ("" if count == 1 else "s"))
    return " ".join(parts[:2]) + " old" if parts else "less than a minute old"


def age_notice(snapshot: Snapshot, now: datetime | None = None) -> str:
    """The sentence every output of a snapshot plan carries (text, markdown, JSON warnings)."""
    moment = now or datetime.now(UTC)
    return (
        f"Planned against a snapshot of the cluster taken {_timestamp(snapshot.taken_at)}, "
        f"{describe_age(snapshot.taken_at, moment)}, not against the live cluster: anything "
        "changed since then is not shown. Apply always plans again against the live cluster."
    )
