"""Cluster operations along the endpoint's clock: started by a request, advanced on every
later request (no background thread mutates state), applied to the cluster when done.
"""

from __future__ import annotations

import copy
import uuid

from reconciler.kinds.msk_cluster.fields import read_wire, write_request, write_wire
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
                configuration = operation.target.get("ConfigurationInfo")
                cluster.provisioned = changed(cluster.provisioned, operation.fields, configuration)
                cluster.state = "ACTIVE"
            self._save()

    def _start(
        self,
        cluster: Cluster,
        op_type: str,
        update: str = "",
        fields: Json | None = None,
        configuration: Json | None = None,
    ) -> Json:
        """Begin an operation: the cluster is busy until it ends; a new CurrentVersion now.

        An update (`update` names its API operation) writes `fields`, the values its request
        carried (`read_request`'s), and applies `configuration`, when it completes.
        """
        fields = fields or {}
        after = changed(cluster.provisioned, fields, configuration)
        operation = Operation(
            arn=(
                f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:cluster-operation/{cluster.name}/"
                f"{cluster.arn.rsplit('/', 1)[-1]}/{uuid.uuid4()}"
            ),
            cluster_arn=cluster.arn,
            type=op_type,
            start=self.now(),
            duration=self.operation_seconds,
            source=mutable_info(update, cluster.provisioned, fields, configuration),
            target=mutable_info(update, after, fields, configuration),
            request_id=str(uuid.uuid4()),
            fields=copy.deepcopy(fields),
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


def changed(provisioned: Json, fields: Json, configuration: Json | None) -> Json:
    """The stored `Provisioned` once an update is done: its field values written through the
    table, and the configuration revision it applies (not a table field: MSK keeps it beside
    them, in CurrentBrokerSoftwareInfo)."""
    after = copy.deepcopy(provisioned)
    write_wire(after, fields)
    if configuration:
        software = after["CurrentBrokerSoftwareInfo"]
        software["ConfigurationArn"] = configuration["Arn"]
        software["ConfigurationRevision"] = configuration["Revision"]
    return after


def mutable_info(update: str, provisioned: Json, fields: Json, configuration: Json | None) -> Json:
    """An operation's Source- or TargetClusterInfo: the stored values of the fields the update
    carries, laid out as its request lays them out (MutableClusterInfo names each member as
    the update request does, without `Target`), and the configuration revision if it applies
    one; empty for a creation."""
    if not update:
        return {}
    stored = read_wire(provisioned)
    body = write_request(update, {path: stored[path] for path in fields})
    info = {key.removeprefix("Target"): value for key, value in body.items()}
    software = provisioned["CurrentBrokerSoftwareInfo"]
    if configuration and software.get("ConfigurationArn"):
        info["ConfigurationInfo"] = {
            "Arn": software["ConfigurationArn"],
            "Revision": software.get("ConfigurationRevision"),
        }
    return copy.deepcopy(info)
