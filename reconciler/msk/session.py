"""The MSK side of one plan: clients, what was observed, and the cluster changes.

I/O at the edge (boto3), glue only: the rules live in diff.py, the calls in observe.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from reconciler.errors import ConnectionFailure
from reconciler.model import Change, Desired, Observed
from reconciler.msk.clients import kafka_client, logs_client
from reconciler.msk.diff import cluster_warnings, plan_cluster
from reconciler.msk.observe import (
    MskObserved,
    bootstrap_servers,
    fingerprint,
    observe,
    observe_cluster,
)

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_logs import CloudWatchLogsClient

T = TypeVar("T")


def aws(what: str, call: Callable[[], T]) -> T:
    """Turn boto errors into one message that says what to do."""
    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        raise ConnectionFailure(
            f"MSK: {what} failed: {exc}\n  what to do: check AWS credentials and region "
            "(AWS_PROFILE / AWS_REGION, or the role the job assumes), and that the role may "
            "call kafka:Describe*/List*/Get*; for the local endpoint run "
            '`eval "$(reconciler local up)"`'
        ) from exc


@dataclass(frozen=True)
class MskSide:
    kafka: KafkaClient
    logs: CloudWatchLogsClient
    observed: MskObserved

    @property
    def exists(self) -> bool:
        return self.observed.cluster is not None

    def bootstrap(self, security_protocol: str, sasl_mechanism: str | None) -> str | None:
        cluster = self.observed.cluster
        return (
            None
            if cluster is None
            else bootstrap_servers(cluster, security_protocol, sasl_mechanism)
        )

    def state(self) -> dict[str, Any]:
        return fingerprint(self.observed)


def observe_msk(desired: Desired) -> MskSide | None:
    """Ask MSK only when the specs need it: a declared cluster, or brokers to look up."""
    env = desired.environment
    if env.msk is None or (desired.cluster is None and env.connection.bootstrap_servers):
        return None
    region = env.msk.region
    kafka, logs = aws(
        "creating the MSK client", lambda: (kafka_client(region), logs_client(region))
    )
    spec = desired.cluster
    if spec is not None:
        observed = aws("reading the cluster", lambda: observe(kafka, logs, spec))
    else:
        name = env.msk.cluster_arn or env.msk.cluster_name or ""
        cluster = aws("reading the cluster", lambda: observe_cluster(kafka, logs, name))
        observed = MskObserved(cluster)
    return MskSide(kafka, logs, observed)


def _partitions_per_broker(observed: Observed | None) -> int | None:
    if observed is None:
        return None
    load: dict[int, int] = {}
    for topic in observed.topics.values():
        for replicas in topic.replicas.values():
            for broker in replicas:
                load[broker] = load.get(broker, 0) + 1
    return max(load.values(), default=0)


def plan_msk(
    desired: Desired, side: MskSide, observed: Observed | None
) -> tuple[list[Change], list[str]]:
    """The cluster's changes and warnings (none when the specs declare no MskCluster)."""
    spec = desired.cluster
    if spec is None:
        return [], []
    changes = plan_cluster(
        spec,
        side.observed,
        now=datetime.now(UTC),
        partitions_per_broker=_partitions_per_broker(observed),
    )
    return changes, cluster_warnings(spec, side.observed, today=date.today())
