"""The MSK control plane as a reconciled spec: the `kind: MskCluster` stages.

spec.py     MskClusterSpec, parse_cluster (schemas/mskcluster.schema.json + MSK's rules)
observe.py  observe / observe_cluster: the live cluster through boto3 only
diff.py     plan_cluster, cluster_warnings: MSK operations with risks (pure)
apply.py    apply_cluster: one MSK operation at a time, waiting for each
rules.py    what MSK allows, shared with the local endpoint (reconciler.local.msk_server)
clients.py  boto3 clients with throttling retried
"""

from reconciler.msk.apply import apply_cluster
from reconciler.msk.clients import kafka_client, logs_client
from reconciler.msk.diff import cluster_warnings, plan_cluster
from reconciler.msk.observe import (
    MskObserved,
    ObservedCluster,
    bootstrap_servers,
    fingerprint,
    observe,
    observe_cluster,
)
from reconciler.msk.spec import (
    KIND,
    ClusterSpecError,
    MskClusterSpec,
    located_problems,
    parse_cluster,
)

__all__ = [
    "KIND",
    "ClusterSpecError",
    "MskClusterSpec",
    "MskObserved",
    "ObservedCluster",
    "apply_cluster",
    "bootstrap_servers",
    "cluster_warnings",
    "fingerprint",
    "kafka_client",
    "located_problems",
    "logs_client",
    "observe",
    "observe_cluster",
    "parse_cluster",
    "plan_cluster",
]
