"""The access benchmark of issue 11, on a real local Kafka cluster of its own.

    python3 -m bench.access [--principals 1000]

One broker with SASL/SCRAM and the StandardAuthorizer (`up(sasl=True)`). An environment
declares `--principals` Acl documents (each: read and write on its own topic, its group: 4
bindings) and as many ClientQuota documents. It times, in-process: the first apply (every
binding and quota created), the no-change plan (one DescribeAcls, one DescribeClientQuotas,
whatever the count), and the bare DescribeAcls and DescribeClientQuotas calls it rests on.
It prints a markdown table and exits non-zero only when it could not measure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from reconciler.clients.kafka import KafkaAdmin
from reconciler.clients.quotas import QuotaAdmin
from reconciler.core.environment import Connection
from reconciler.engine.apply import apply_and_verify
from reconciler.engine.plan import plan_environment
from reconciler.kinds.base import ApplyOptions
from reconciler.local.kafka.cluster import down, up
from reconciler.local.kafka.distribution import cache_dir

STATE_DIR = cache_dir() / "bench-access-cluster"
T = TypeVar("T")


def write_env(directory: Path, principals: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: bench}\nspec:\n"
        "  kafka:\n    bootstrapServers: ${KAFKA_BOOTSTRAP_SERVERS}\n"
        "    securityProtocol: PLAINTEXT\n    timeoutSeconds: 60\n"
        '  access: {manage: ["User:bench-*"]}\n',
        encoding="utf-8",
    )
    docs = []
    for i in range(principals):
        docs.append(
            f"apiVersion: reconciler/v1\nkind: Acl\nmetadata: {{name: bench-{i}}}\nspec:\n"
            f"  principal: User:bench-{i}\n"
            f"  topics: [{{name: bench-{i}, access: [read, write]}}]\n"
            f"  groups: [{{name: bench-{i}}}]\n---\n"
            f"apiVersion: reconciler/v1\nkind: ClientQuota\nmetadata: {{name: bench-{i}}}\n"
            f"spec: {{user: bench-{i}, quotas: {{producerByteRate: 1MiB}}}}\n"
        )
    (directory / "access.yaml").write_text("---\n".join(docs), encoding="utf-8")
    return directory


def timed(label: str, rows: list[tuple[str, float]], function: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = function()
    rows.append((label, time.perf_counter() - start))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--principals", type=int, default=1000)
    args = parser.parse_args(argv)
    cluster = up(STATE_DIR, brokers=1, sasl=True)
    rows: list[tuple[str, float]] = []
    try:
        environ = {"KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap_servers}
        with tempfile.TemporaryDirectory() as tmp:
            env = write_env(Path(tmp) / "bench", args.principals)
            planned = timed(
                "plan (everything to create)", rows, lambda: plan_environment(env, environ)
            )
            created = len(planned.plan.changes)
            applied = timed(
                "apply (create + read back)",
                rows,
                lambda: apply_and_verify(planned, ApplyOptions(lambda _m: None)),
            )
            if not applied.ok:
                print("apply failed", file=sys.stderr)
                return 1
            again = timed("plan (no change)", rows, lambda: plan_environment(env, environ))
            if again.plan.changes or again.plan.orphans:
                print("the no-change plan has changes", file=sys.stderr)
                return 1
        conn = Connection(cluster.bootstrap_servers, "PLAINTEXT", timeout_seconds=60)
        admin = KafkaAdmin.connect(conn)
        bindings = timed("bare DescribeAcls", rows, admin.acls)
        quotas = QuotaAdmin(conn)
        entities = timed("bare DescribeClientQuotas", rows, quotas.quotas)
        quotas.close()
    finally:
        down(STATE_DIR)
    print(
        f"{args.principals} principals: {created} changes, {len(bindings)} bindings, "
        f"{len(entities)} quota entities\n"
    )
    print("| step | seconds |\n| --- | --- |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
