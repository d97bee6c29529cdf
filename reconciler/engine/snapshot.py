"""Observed state <-> JSON, so a plan can be made where the cluster cannot be reached.

`reconciler snapshot` writes what one observation saw of every kind, where the cluster is
reachable (the drift job); a hosted runner or a fork's pull request plans against it later,
MSK changes included. A snapshot is old by nature, so it carries when it was taken and every
plan made from it must say its age. Secret values are never written (invariant 6): each kind
records what it may.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Plan
from reconciler.core.record import Reader, RecordError
from reconciler.engine.model import Desired, Observed
from reconciler.kinds.base import Mode
from reconciler.kinds.registry import BY_NAME

FORMAT_VERSION = 2
KIND = "reconciler-snapshot"
SnapshotError = RecordError


@dataclass(frozen=True)
class Snapshot:
    """What one observation saw, the environment it belongs to, and when it was read."""

    environment: str
    taken_at: datetime
    observed: Observed


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _cluster(view: ClusterView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "clusterId": view.cluster_id,
        "brokers": [
            {"nodeId": b.node_id, "host": b.host, "port": b.port, "rack": b.rack}
            for b in view.brokers
        ],
        "replicasPerBroker": {str(k): v for k, v in sorted(view.replicas_per_broker.items())},
    }


def dump_snapshot(snapshot: Snapshot) -> str:
    """ASCII JSON, one entry of each kind's largest map per line: small diffs between two
    snapshots, and fast to write (the C encoder, item by item)."""
    head = {
        "formatVersion": FORMAT_VERSION,
        "kind": KIND,
        "environment": snapshot.environment,
        "takenAt": _timestamp(snapshot.taken_at),
        "cluster": _cluster(snapshot.observed.cluster),
        "unavailable": snapshot.observed.unavailable,
    }
    lines = [json.dumps(head, ensure_ascii=True)[:-1] + ', "kinds": {']
    kinds = []
    for name, state in snapshot.observed.kinds.items():
        record = BY_NAME[name].dump_observed(state)
        kinds.append(_lay_out(json.dumps(name), record))
    lines.append(",\n".join(kinds))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def _lay_out(key: str, record: object) -> str:
    """`key: record`, with the record's mappings of objects one entry per line."""
    if not isinstance(record, Mapping):
        return f"  {key}: {json.dumps(record, ensure_ascii=True)}"
    parts = []
    for field, value in record.items():
        name = json.dumps(field)
        if isinstance(value, Mapping) and value and isinstance(next(iter(value.values())), dict):
            entries = ",\n".join(
                f"      {json.dumps(k)}: {json.dumps(v, ensure_ascii=True)}"
                for k, v in value.items()
            )
            parts.append(f"    {name}: {{\n{entries}\n    }}")
        else:
            parts.append(f"    {name}: {json.dumps(value, ensure_ascii=True)}")
    body = ",\n".join(parts)
    return f"  {key}: {{\n{body}\n  }}"


def _read_cluster(read: Reader, value: Any) -> ClusterView | None:
    if value is None:
        return None
    data = read.obj(value, "/cluster")
    brokers = []
    for index, raw in enumerate(read.field(data, "brokers", "/cluster", list)):
        path = f"/cluster/brokers/{index}"
        b = read.obj(raw, path)
        brokers.append(
            Broker(
                node_id=read.field(b, "nodeId", path, int),
                host=read.field(b, "host", path, str),
                port=read.field(b, "port", path, int),
                rack=read.field(b, "rack", path, str, null=True),
            )
        )
    load = read.obj(read.field(data, "replicasPerBroker", "/cluster", dict), "/cluster")
    counts = {}
    for key, count in load.items():
        if not key.isdigit() or not isinstance(count, int) or isinstance(count, bool):
            raise read.fail(f"/cluster/replicasPerBroker/{key}", "expected a broker id and count")
        counts[int(key)] = count
    return ClusterView(
        read.field(data, "clusterId", "/cluster", str, null=True), tuple(brokers), counts
    )


def load_snapshot(text: str) -> Snapshot:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(f"the snapshot is not valid JSON ({error})") from None
    read = Reader()
    d = read.obj(data, "")
    if d.get("kind") != KIND:
        raise read.fail("/kind", f"expected {KIND!r}; is this a plan or another file?")
    if d.get("formatVersion") != FORMAT_VERSION:
        raise read.fail("/formatVersion", f"this reconciler reads version {FORMAT_VERSION}")
    taken = read.field(d, "takenAt", "", str)
    try:
        taken_at = datetime.fromisoformat(taken)
    except ValueError:
        raise read.fail("/takenAt", "expected an ISO 8601 time") from None
    if taken_at.tzinfo is None:
        raise read.fail("/takenAt", "expected a time zone (Z for UTC)")
    kinds = {}
    for name, record in read.obj(read.field(d, "kinds", "", dict), "/kinds").items():
        if name not in BY_NAME:
            raise read.fail(f"/kinds/{name}", "a kind this version does not know")
        kinds[name] = BY_NAME[name].load_observed(record, f"/kinds/{name}")
    observed = Observed(
        cluster=_read_cluster(read, d.get("cluster")),
        kinds=kinds,
        unavailable=read.field(d, "unavailable", "", str, null=True),
    )
    return Snapshot(read.field(d, "environment", "", str), taken_at.astimezone(UTC), observed)


def snapshot_environment(
    env_dir: str | Path,
    environ: Mapping[str, str] | None = None,
    *,
    allow_outside_repo: bool = False,
) -> Snapshot:
    """Observe once, as plan does but keeping everything, with the time it was read."""
    from reconciler.engine.observe import observe_environment

    opened = observe_environment(
        env_dir, environ, mode=Mode.SNAPSHOT, allow_outside_repo=allow_outside_repo
    )
    desired, observed = opened.desired, opened.observed
    if observed.cluster is None and not any(v is not None for v in observed.kinds.values()):
        raise ReconcilerError("the MSK cluster does not exist yet: there is nothing to snapshot")
    return Snapshot(desired.environment.name, datetime.now(UTC), observed)


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


def plan_from_snapshot(
    env_dir: str | Path,
    snapshot_file: Path,
    *,
    trusted_base: Path | None = None,
    allow_outside_repo: bool = False,
) -> Plan:
    """Plan offline against a snapshot; its age goes first in the warnings of every output."""
    from reconciler.engine.observe import load_trusted
    from reconciler.engine.plan import build_plan

    desired: Desired = load_trusted(
        env_dir, trusted_base=trusted_base, allow_outside_repo=allow_outside_repo
    )
    snapshot = load_snapshot(snapshot_file.read_text(encoding="utf-8"))
    if snapshot.environment != desired.environment.name:
        raise ReconcilerError(
            f"{snapshot_file} is a snapshot of {snapshot.environment!r}, "
            f"not {desired.environment.name!r}"
        )
    missing = [name for name in desired.kinds if name not in snapshot.observed.kinds]
    observed = snapshot.observed
    if missing and observed.unavailable is None:
        observed = replace(observed, unavailable="the snapshot does not record them")
    plan = build_plan(desired, observed)
    return replace(plan, warnings=(age_notice(snapshot), *plan.warnings))
