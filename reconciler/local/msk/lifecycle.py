"""Cluster operations along the endpoint's clock: started by a request, advanced on every
later request (no background thread mutates state), applied to the cluster when done.
"""

from __future__ import annotations

import copy
import uuid

from reconciler.local.msk.state import ACCOUNT_ID, BackendState, Cluster, Operation, new_version
from reconciler.local.msk.wire import Json


class OperationEngine(BackendState):
    """Starts operations and moves them to UPDATE_COMPLETE or UPDATE_FAILED."""

    def advance(self) -> None:
        """Move every running operation along the clock; finish the ones whose time is up."""
        now = self.now()
        for cluster in self.clusters.values():
            if cluster.active_operation is None:
                continue
            operation = self.operations[cluster.active_operation]
            elapsed = now - operation.start
            if elapsed < operation.duration:
                if elapsed >= operation.duration * 0.1:
                    operation.state = "UPDATE_IN_PROGRESS"
                continue
            operation.end = operation.start + operation.duration
            cluster.active_operation = None
            if operation.fail_code is not None:
                operation.state = "UPDATE_FAILED"
                if operation.type == "CREATE":
                    cluster.state = "FAILED"
                    cluster.state_info = {
                        "Code": operation.fail_code,
                        "Message": operation.fail_message,
                    }
                else:  # MSK rolls a failed update back; the cluster serves on, unchanged
                    cluster.state = "ACTIVE"
            else:
                operation.state = "UPDATE_COMPLETE"
                self._apply_target(cluster, operation.target)
                cluster.state = "ACTIVE"
            self._save()

    def _apply_target(self, cluster: Cluster, target: Json) -> None:
        p = cluster.provisioned
        nodes = p["BrokerNodeGroupInfo"]
        for key, value in target.items():
            if key == "NumberOfBrokerNodes":
                p[key] = value
            elif key == "BrokerEBSVolumeInfo":
                ebs = nodes["StorageInfo"]["EbsStorageInfo"]
                info = value[0]
                if info.get("VolumeSizeGB") is not None:
                    ebs["VolumeSize"] = info["VolumeSizeGB"]
                if info.get("ProvisionedThroughput") is not None:
                    ebs["ProvisionedThroughput"] = info["ProvisionedThroughput"]
            elif key == "InstanceType":
                nodes["InstanceType"] = value
            elif key == "KafkaVersion":
                p["CurrentBrokerSoftwareInfo"]["KafkaVersion"] = value
            elif key == "ConfigurationInfo":
                p["CurrentBrokerSoftwareInfo"]["ConfigurationArn"] = value["Arn"]
                p["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] = value["Revision"]
            elif key == "EncryptionInfo":
                transit = value.get("EncryptionInTransit") or {}
                if "ClientBroker" in transit:
                    p["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] = transit[
                        "ClientBroker"
                    ]
            elif key == "ConnectivityInfo":
                nodes["ConnectivityInfo"] = value
            else:  # ClientAuthentication, EnhancedMonitoring, OpenMonitoring, LoggingInfo
                p[key] = value

    def _source(self, cluster: Cluster, target: Json) -> Json:
        """The current values of the fields an operation changes (MutableClusterInfo)."""
        p = cluster.provisioned
        nodes = p["BrokerNodeGroupInfo"]
        ebs = nodes["StorageInfo"]["EbsStorageInfo"]
        current: Json = {
            "NumberOfBrokerNodes": p["NumberOfBrokerNodes"],
            "BrokerEBSVolumeInfo": [
                {
                    "KafkaBrokerNodeId": "All",
                    "VolumeSizeGB": ebs["VolumeSize"],
                    "ProvisionedThroughput": ebs.get("ProvisionedThroughput"),
                }
            ],
            "InstanceType": nodes["InstanceType"],
            "KafkaVersion": p["CurrentBrokerSoftwareInfo"]["KafkaVersion"],
            "ConfigurationInfo": {
                "Arn": p["CurrentBrokerSoftwareInfo"].get("ConfigurationArn"),
                "Revision": p["CurrentBrokerSoftwareInfo"].get("ConfigurationRevision"),
            }
            if p["CurrentBrokerSoftwareInfo"].get("ConfigurationArn")
            else None,
            "EncryptionInfo": {
                "EncryptionInTransit": {
                    "ClientBroker": p["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"]
                }
            },
            "ConnectivityInfo": nodes["ConnectivityInfo"],
            "ClientAuthentication": p["ClientAuthentication"],
            "EnhancedMonitoring": p["EnhancedMonitoring"],
            "OpenMonitoring": p["OpenMonitoring"],
            "LoggingInfo": p["LoggingInfo"],
        }
        return copy.deepcopy({k: current[k] for k in target if current.get(k) is not None})

    def _start(self, cluster: Cluster, op_type: str, target: Json) -> Json:
        """Begin an operation: the cluster is busy until it ends; a new CurrentVersion now."""
        operation = Operation(
            arn=(
                f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:cluster-operation/{cluster.name}/"
                f"{cluster.arn.rsplit('/', 1)[-1]}/{uuid.uuid4()}"
            ),
            cluster_arn=cluster.arn,
            type=op_type,
            start=self.now(),
            duration=self.operation_seconds,
            source=self._source(cluster, target) if op_type != "CREATE" else {},
            target=copy.deepcopy(target),
            request_id=str(uuid.uuid4()),
        )
        for failure in list(self.failures):
            if failure.cluster in {"*", cluster.arn, cluster.name} and failure.operation_type in {
                None,
                op_type,
            }:
                operation.fail_code, operation.fail_message = failure.code, failure.message
                self.failures.remove(failure)
                break
        self.operations[operation.arn] = operation
        cluster.active_operation = operation.arn
        cluster.state = "CREATING" if op_type == "CREATE" else "UPDATING"
        cluster.version = new_version()
        self._save()
        return {"ClusterArn": cluster.arn, "ClusterOperationArn": operation.arn}
