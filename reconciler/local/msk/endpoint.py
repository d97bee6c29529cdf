"""Run the local MSK-compatible endpoint beside the local Kafka cluster, detached.

`reconciler local up` starts it, creates the cluster `local` through the real boto3 client
(CreateClusterV2, then waits for ACTIVE) so the local demo plans MSK updates and topic
changes together, and records its pid and URL in the cluster's state directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from reconciler.clients.aws import kafka_client
from reconciler.core.polling import attempts
from reconciler.local.kafka.errors import LocalKafkaError

STATE_FILE = "msk-endpoint.json"
#: What the endpoint holds (its clusters, configurations, secrets), saved as it changes.
DATA_FILE = "msk-state.json"
ENDPOINT_ENV = "AWS_ENDPOINT_URL_KAFKA"
LOCAL_CLUSTER = "local"
LOCAL_REGION = "eu-central-1"
#: Three "AZs" for the three local brokers: broker count must stay a multiple of them.
LOCAL_SUBNETS = ("subnet-local-a", "subnet-local-b", "subnet-local-c")


@dataclass(frozen=True)
class LocalEndpoint:
    url: str
    pid: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running(state_dir: Path) -> LocalEndpoint | None:
    path = state_dir / STATE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    endpoint = LocalEndpoint(data["url"], int(data["pid"]))
    return endpoint if _alive(endpoint.pid) else None


def start(state_dir: Path, kafka_bootstrap: str, operation_seconds: float = 2.0) -> LocalEndpoint:
    """Start the endpoint (or return the running one) and make sure cluster `local` exists."""
    endpoint = running(state_dir)
    if endpoint is None:
        log = (state_dir / "msk-endpoint.log").open("ab")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler.local.msk.server",
                "--kafka-bootstrap",
                kafka_bootstrap,
                "--operation-seconds",
                str(operation_seconds),
                "--state-file",
                str(state_dir / DATA_FILE),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        if not url.startswith("http"):
            raise LocalKafkaError(
                f"the local MSK endpoint did not start; see {state_dir / 'msk-endpoint.log'}"
            )
        endpoint = LocalEndpoint(url, process.pid)
        (state_dir / STATE_FILE).write_text(
            json.dumps({"url": url, "pid": process.pid}), encoding="utf-8"
        )
    ensure_cluster(endpoint.url, brokers=len(kafka_bootstrap.split(",")))
    return endpoint


def ensure_cluster(url: str, brokers: int, timeout: float = 60.0) -> None:
    """Create cluster `local` the way a user would, through boto3, and wait for ACTIVE."""
    kafka = kafka_client(LOCAL_REGION, endpoint_url=url)
    found = kafka.list_clusters_v2(ClusterNameFilter=LOCAL_CLUSTER).get("ClusterInfoList", [])
    if found:
        arn = found[0]["ClusterArn"]
    else:
        arn = kafka.create_cluster_v2(
            ClusterName=LOCAL_CLUSTER,
            Provisioned={
                "KafkaVersion": "3.9.x",
                "NumberOfBrokerNodes": brokers,
                "BrokerNodeGroupInfo": {
                    "InstanceType": "kafka.m5.large",
                    "ClientSubnets": list(LOCAL_SUBNETS),
                    "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
                },
                "EncryptionInfo": {
                    "EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT", "InCluster": True}
                },
            },
        )["ClusterArn"]
    for _ in attempts(timeout, 0.2):
        if kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE":
            break
    else:
        raise LocalKafkaError(f"the local MSK cluster did not become ACTIVE in {timeout:g}s")


def stop(state_dir: Path) -> bool:
    """Stop the endpoint and remove what it held (`local down` removes the data)."""
    endpoint = running(state_dir)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    if endpoint is not None:
        os.kill(endpoint.pid, signal.SIGTERM)
        for _ in attempts(10, 0.1):  # it saves its state as it exits: remove that after it
            try:
                os.kill(endpoint.pid, 0)
            except ProcessLookupError:
                break
    (state_dir / DATA_FILE).unlink(missing_ok=True)
    return endpoint is not None
