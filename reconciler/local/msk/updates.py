"""The Update* operations on a cluster, each checked against MSK's rules before it starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.fields import read_request, read_wire
from reconciler.local.msk.lifecycle import OperationEngine
from reconciler.local.msk.provisioned import logging_problem, security, security_problems, sent
from reconciler.local.msk.state import Cluster
from reconciler.local.msk.wire import Json, bad_request, iso


class ClusterUpdateApi(OperationEngine):
    """Accept an update only on an ACTIVE cluster at its CurrentVersion, as MSK does."""

    def _updatable(self, params: Json) -> Cluster:
        """The cluster an update names, if MSK would accept an update on it now."""
        cluster = self._cluster(str(params["ClusterArn"]))
        if params.get("CurrentVersion") != cluster.version:
            raise bad_request(rules.STALE_VERSION, "currentVersion")
        if cluster.state != "ACTIVE":
            raise bad_request(
                f"The cluster is in {cluster.state} state. You can perform this operation only "
                "when the cluster is ACTIVE.",
                "clusterArn",
            )
        return cluster

    def _properties_of(self, cluster: Cluster) -> dict[str, str]:
        software = cluster.provisioned["CurrentBrokerSoftwareInfo"]
        arn = software.get("ConfigurationArn")
        if not arn or arn not in self.configurations:
            return {}
        revision = self._revision(self.configurations[arn], int(software["ConfigurationRevision"]))
        return rules.parse_server_properties(revision.properties)

    def update_broker_count(self, params: Json) -> Json:
        cluster = self._updatable(params)
        now = read_wire(cluster.provisioned)
        change = read_request("UpdateBrokerCount", params)
        before, after = int(now["brokers.count"]), int(change["brokers.count"])
        if before == after:
            raise bad_request(f"The cluster already has {after} broker nodes.")
        problems = rules.broker_count_problems(
            before,
            after,
            len(now["brokers.clientSubnets"]),
            str(now["brokers.instanceType"]),
            str(now["kafkaVersion"]),
        )
        if problems:
            raise bad_request("; ".join(problems), "targetNumberOfBrokerNodes")
        op_type = "INCREASE_BROKER_COUNT" if after > before else "DECREASE_BROKER_COUNT"
        return self._start(cluster, op_type, "UpdateBrokerCount", change)

    def update_broker_storage(self, params: Json) -> Json:
        cluster = self._updatable(params)
        infos = params.get("TargetBrokerEBSVolumeInfo") or []
        if len(infos) != 1 or str(infos[0].get("KafkaBrokerNodeId", "")).upper() != "ALL":
            raise bad_request(
                "Storage is updated for all brokers at once: give one entry with "
                "KafkaBrokerNodeId All.",
                "targetBrokerEBSVolumeInfo",
            )
        now = read_wire(cluster.provisioned)
        change = read_request("UpdateBrokerStorage", params)
        current = int(now["brokers.storage.volumeSizeGiB"])
        size = change.get("brokers.storage.volumeSizeGiB")
        throughput = "brokers.storage.provisionedThroughputMiBps"
        if size is not None:
            if int(size) < current:
                raise bad_request(
                    f"You can't decrease broker storage ({current} GiB -> {size} GiB).",
                    "volumeSizeGB",
                )
            if int(size) > rules.MAX_VOLUME_GIB:
                raise bad_request(
                    f"Storage per broker can't exceed {rules.MAX_VOLUME_GIB} GiB.", "volumeSizeGB"
                )
            if int(size) == current and throughput not in change:
                raise bad_request(f"The brokers already have {current} GiB of storage.")
        problem = rules.throughput_problem(
            str(now["brokers.instanceType"]), change.get(throughput), int(size or current)
        )
        if problem:
            raise bad_request(problem, "provisionedThroughput")
        now_time = self.now()
        for operation in self.operations.values():
            if (
                operation.cluster_arn != cluster.arn
                or operation.type != "UPDATE_BROKER_STORAGE"
                or operation.state != "UPDATE_COMPLETE"
                or operation.end is None
            ):
                continue
            ready = operation.end + self.storage_cooldown_seconds
            if now_time < ready:
                raise bad_request(
                    "The cluster is in a storage cool-down period after the previous storage "
                    f"update; try again after {iso(ready)}.",
                    "targetBrokerEBSVolumeInfo",
                )
        return self._start(cluster, "UPDATE_BROKER_STORAGE", "UpdateBrokerStorage", change)

    def update_broker_type(self, params: Json) -> Json:
        cluster = self._updatable(params)
        change = read_request("UpdateBrokerType", params)
        before = str(read_wire(cluster.provisioned)["brokers.instanceType"])
        after = str(change["brokers.instanceType"])
        if before == after:
            raise bad_request(f"The brokers are already {after}.", "targetInstanceType")
        problem = rules.broker_type_problem(before, after)
        if problem:
            raise bad_request(problem, "targetInstanceType")
        return self._start(cluster, "UPDATE_BROKER_TYPE", "UpdateBrokerType", change)

    def _kafka_version(self, cluster: Cluster) -> str:
        return str(read_wire(cluster.provisioned)["kafkaVersion"])

    def update_cluster_configuration(self, params: Json) -> Json:
        cluster = self._updatable(params)
        info = self._configuration_info(params["ConfigurationInfo"], self._kafka_version(cluster))
        return self._start(
            cluster, "UPDATE_CLUSTER_CONFIGURATION", "UpdateClusterConfiguration", {}, info
        )

    def update_cluster_kafka_version(self, params: Json) -> Json:
        cluster = self._updatable(params)
        current = self._kafka_version(cluster)
        change = read_request("UpdateClusterKafkaVersion", params)
        target = str(change["kafkaVersion"])
        allowed = rules.compatible_targets(current)
        if target not in allowed:
            raise bad_request(
                f"Apache Kafka version {current} can't be updated to {target}. Compatible "
                f"versions: {', '.join(allowed) or 'none'}.",
                "targetKafkaVersion",
            )
        configuration = None
        if params.get("ConfigurationInfo"):
            configuration = self._configuration_info(params["ConfigurationInfo"], target)
        else:
            software = cluster.provisioned["CurrentBrokerSoftwareInfo"]
            current_configuration = self.configurations.get(str(software.get("ConfigurationArn")))
            if current_configuration and current_configuration.kafka_versions:
                self._configuration_info(
                    {
                        "Arn": current_configuration.arn,
                        "Revision": software["ConfigurationRevision"],
                    },
                    target,
                )
        return self._start(
            cluster,
            "UPDATE_CLUSTER_KAFKA_VERSION",
            "UpdateClusterKafkaVersion",
            change,
            configuration,
        )

    def update_monitoring(self, params: Json) -> Json:
        cluster = self._updatable(params)
        change = read_request("UpdateMonitoring", params)
        problem = logging_problem(params)
        if problem:
            raise bad_request(problem, "loggingInfo")
        if not change:
            raise bad_request("Specify the monitoring or logging settings to update.")
        return self._start(cluster, "UPDATE_MONITORING", "UpdateMonitoring", change)

    def update_security(self, params: Json) -> Json:
        cluster = self._updatable(params)
        # Fixed at creation; UpdateSecurity's EncryptionInfo is laid out as the described one.
        if sent(params, "encryption.atRest.kmsKeyId"):
            raise bad_request("You can't change encryption at rest of an existing cluster.")
        now = read_wire(cluster.provisioned)
        in_cluster = sent(params, "encryption.inTransit.inCluster")
        if in_cluster is not None and bool(in_cluster) != now["encryption.inTransit.inCluster"]:
            raise bad_request(
                "You can't change the in-cluster (broker-to-broker) encryption setting."
            )
        change = read_request("UpdateSecurity", params)
        if not change:
            raise bad_request("Specify the client authentication or encryption to update.")
        after = {**now, **change}
        problems = security_problems(after)
        if after["brokers.publicAccess"]:
            problems += self._public_problems(cluster, after)
        if problems:
            raise bad_request("; ".join(problems))
        return self._start(cluster, "UPDATE_SECURITY", "UpdateSecurity", change)

    def _public_problems(self, cluster: Cluster, fields: Mapping[str, Any]) -> list[str]:
        return rules.public_access_problems(
            security(fields),
            kafka_version=str(fields["kafkaVersion"]),
            server_properties=self._properties_of(cluster),
        )

    def update_connectivity(self, params: Json) -> Json:
        cluster = self._updatable(params)
        public = sent(params, "brokers.publicAccess", update=True)
        if public not in {"DISABLED", "SERVICE_PROVIDED_EIPS"}:
            raise bad_request(
                "PublicAccess Type must be DISABLED or SERVICE_PROVIDED_EIPS.", "connectivityInfo"
            )
        if public == "SERVICE_PROVIDED_EIPS":
            problems = self._public_problems(cluster, read_wire(cluster.provisioned))
            if problems:
                raise bad_request("; ".join(problems), "connectivityInfo")
        change = read_request("UpdateConnectivity", params)
        return self._start(cluster, "UPDATE_CONNECTIVITY", "UpdateConnectivity", change)
