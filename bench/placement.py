"""The placement benchmark of issue 10, on a real local Kafka cluster of its own.

    python3 -m bench.placement [--partitions 100] [--megabytes 50] [--throttle 10MiB]

Twice, on a fresh topic each time: create a topic of `--partitions` partitions at
replication factor 1 (Kafka places them), produce about `--megabytes` MB into it with
acks=all, then time `apply` of the same topic at replication factor 3 (in-process: plan with
validate-only writes, the throttled reassignment, the leader election, the read-back through
every broker), once under `placement.throttle: --throttle` and once with `throttle: none`.
Then it measures, with DescribeLogDirs, the bytes the new replicas hold (what was moved)
against the ideal: every partition needs two more copies of its bytes, and no assigner can
move less. It prints a markdown table and exits non-zero only when it could not measure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from reconciler.clients.replicas import ReplicaAdmin
from reconciler.core.environment import Connection
from reconciler.engine.apply import apply_and_verify
from reconciler.engine.plan import plan_environment
from reconciler.kinds.base import ApplyOptions
from reconciler.kinds.topic.placement import approx_bytes
from reconciler.local.kafka.cluster import down, up
from reconciler.local.kafka.distribution import cache_dir

STATE_DIR = cache_dir() / "bench-placement-cluster"


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def write_env(directory: Path, topic: str, partitions: int, rf: int, throttle: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: bench}\nspec:\n"
        "  kafka:\n    bootstrapServers: ${KAFKA_BOOTSTRAP_SERVERS}\n"
        "    securityProtocol: PLAINTEXT\n    timeoutSeconds: 60\n"
        f'  topics:\n    manage: ["{topic}"]\n'
        f"  placement: {{throttle: {throttle}}}\n",
        encoding="utf-8",
    )
    (directory / "topics.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {topic}}}\n"
        f"spec: {{partitions: {partitions}, replicationFactor: {rf}}}\n",
        encoding="utf-8",
    )
    return directory


def fill(bootstrap: str, topic: str, partitions: int, megabytes: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.create_topics([NewTopic(topic, partitions, 1)]).values()
    future.result()
    time.sleep(1.0)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 50})
    value = os.urandom(1000)  # incompressible, so bytes on disk are the bytes written
    for i in range(megabytes * 1000):
        producer.produce(topic, value, partition=i % partitions)
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0, "records were not all acknowledged"


def run_once(
    bootstrap: str, work: Path, index: int, *, partitions: int, megabytes: int, throttle: str
) -> dict[str, float]:
    topic = f"bench-rf-{index}-{int(time.time())}"
    fill(bootstrap, topic, partitions, megabytes)
    replicas = ReplicaAdmin(Connection(bootstrap, "PLAINTEXT", timeout_seconds=60))
    before = replicas.sizes({topic}, (1, 2, 3))
    total = sum(before.values())
    layout = {p: state.replicas for (t, p), state in replicas.partitions({topic}).items()}
    env_dir = write_env(work / str(index) / "bench", topic, partitions, 3, throttle)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    started = time.perf_counter()
    planned = plan_environment(env_dir, allow_outside_repo=True)
    applied = apply_and_verify(
        planned, ApplyOptions(progress=progress, wait_seconds=1800, poll_seconds=5)
    )
    elapsed = time.perf_counter() - started
    if not applied.ok:
        raise SystemExit(f"apply failed: {[o.detail for o in applied.outcomes]}")
    added = {
        (topic, p, b)
        for (t, p), state in replicas.partitions({topic}).items()
        for b in state.replicas
        if b not in layout[p]
    }
    moved = sum(replicas.replica_sizes(added).values())
    replicas.close()
    return {"seconds": elapsed, "total": total, "moved": moved, "ideal": 2 * total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--throttle", default="10MiB", help="the throttled run's rate per broker")
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args()
    progress("starting a 3-broker cluster over 3 racks")
    cluster = up(STATE_DIR, brokers=3, racks=3, timeout=180)
    work = Path(tempfile.mkdtemp(prefix="bench-placement-"))
    try:
        rows = []
        for index, throttle in enumerate((args.throttle, "none")):
            progress(f"RF 1 -> 3, {args.partitions} partitions, ~{args.megabytes} MB, {throttle}")
            found = run_once(
                cluster.bootstrap_servers,
                work,
                index,
                partitions=args.partitions,
                megabytes=args.megabytes,
                throttle=throttle,
            )
            rows.append((throttle, found))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep_cluster:
            down(STATE_DIR)
    print(f"RF 1 -> 3 of one topic, {args.partitions} partitions, 3 brokers in 3 racks\n")
    print(
        "| throttle per broker | data in the topic | apply time | bytes moved "
        "| ideal (2 x data) | moved / ideal |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for throttle, found in rows:
        ratio = found["moved"] / found["ideal"] if found["ideal"] else 0.0
        data, moved, ideal = (approx_bytes(int(found[k])) for k in ("total", "moved", "ideal"))
        print(
            f"| {throttle} | {data} | {found['seconds']:.1f} s | {moved} | {ideal} | {ratio:.3f} |"
        )


if __name__ == "__main__":
    main()
