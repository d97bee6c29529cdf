"""The Update* operations on a cluster, each checked against MSK's rules before it starts."""

from __future__ import annotations

import copy

from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.lifecycle import OperationEngine
from reconciler.local.msk.provisioned import (
    full_auth,
    full_logging,
    logging_problem,
    open_monitoring,
    security,
    security_problems,
)
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
        p = cluster.provisioned
        before, after = int(p["NumberOfBrokerNodes"]), int(params["TargetNumberOfBrokerNodes"])
        if before == after:
            raise bad_request(f"The cluster already has {after} broker nodes.")
        problems = rules.broker_count_problems(
            before,
            after,
            len(p["BrokerNodeGroupInfo"]["ClientSubnets"]),
            str(p["BrokerNodeGroupInfo"]["InstanceType"]),
            str(p["CurrentBrokerSoftwareInfo"]["KafkaVersion"]),
        )
        if problems:
            raise bad_request("; ".join(problems), "targetNumberOfBrokerNodes")
        op_type = "INCREASE_BROKER_COUNT" if after > before else "DECREASE_BROKER_COUNT"
        return self._start(cluster, op_type, {"NumberOfBrokerNodes": after})

    def update_broker_storage(self, params: Json) -> Json:
        cluster = self._updatable(params)
        infos = params.get("TargetBrokerEBSVolumeInfo") or []
        if len(infos) != 1 or str(infos[0].get("KafkaBrokerNodeId", "")).upper() != "ALL":
            raise bad_request(
                "Storage is updated for all brokers at once: give one entry with "
                "KafkaBrokerNodeId All.",
                "targetBrokerEBSVolumeInfo",
            )
        info = infos[0]
        nodes = cluster.provisioned["BrokerNodeGroupInfo"]
        ebs = nodes["StorageInfo"]["EbsStorageInfo"]
        current = int(ebs["VolumeSize"])
        size = info.get("VolumeSizeGB")
        throughput = info.get("ProvisionedThroughput")
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
            if int(size) == current and throughput is None:
                raise bad_request(f"The brokers already have {current} GiB of storage.")
        if throughput and throughput.get("Enabled"):
            problem = rules.throughput_problem(
                str(nodes["InstanceType"]),
                throughput.get("VolumeThroughput"),
                int(size or current),
            )
            if problem:
                raise bad_request(problem, "provisionedThroughput")
        now = self.now()
        for operation in self.operations.values():
            if (
                operation.cluster_arn != cluster.arn
                or operation.type != "UPDATE_BROKER_STORAGE"
                or operation.state != "UPDATE_COMPLETE"
                or operation.end is None
            ):
                continue
            ready = operation.end + self.storage_cooldown_seconds
            if now < ready:
                raise bad_request(
                    "The cluster is in a storage cool-down period after the previous storage "
                    f"update; try again after {iso(ready)}.",
                    "targetBrokerEBSVolumeInfo",
                )
        target = {
            "BrokerEBSVolumeInfo": [
                {
                    "KafkaBrokerNodeId": "All",
                    "VolumeSizeGB": size,
                    "ProvisionedThroughput": throughput,
                }
            ]
        }
        return self._start(cluster, "UPDATE_BROKER_STORAGE", target)

    def update_broker_type(self, params: Json) -> Json:
        cluster = self._updatable(params)
        before = str(cluster.provisioned["BrokerNodeGroupInfo"]["InstanceType"])
        after = str(params["TargetInstanceType"])
        if before == after:
            raise bad_request(f"The brokers are already {after}.", "targetInstanceType")
        problem = rules.broker_type_problem(before, after)
        if problem:
            raise bad_request(problem, "targetInstanceType")
        return self._start(cluster, "UPDATE_BROKER_TYPE", {"InstanceType": after})

    def _kafka_version(self, cluster: Cluster) -> str:
        return str(cluster.provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"])

    def update_cluster_configuration(self, params: Json) -> Json:
        cluster = self._updatable(params)
        info = self._configuration_info(params["ConfigurationInfo"], self._kafka_version(cluster))
        return self._start(cluster, "UPDATE_CLUSTER_CONFIGURATION", {"ConfigurationInfo": info})

    def update_cluster_kafka_version(self, params: Json) -> Json:
        cluster = self._updatable(params)
        current = self._kafka_version(cluster)
        target = str(params["TargetKafkaVersion"])
        allowed = rules.compatible_targets(current)
        if target not in allowed:
            raise bad_request(
                f"Apache Kafka version {current} can't be updated to {target}. Compatible "
                f"versions: {', '.join(allowed) or 'none'}.",
                "targetKafkaVersion",
            )
        change: Json = {"KafkaVersion": target}
        if params.get("ConfigurationInfo"):
            change["ConfigurationInfo"] = self._configuration_info(
                params["ConfigurationInfo"], target
            )
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
        return self._start(cluster, "UPDATE_CLUSTER_KAFKA_VERSION", change)

    def update_monitoring(self, params: Json) -> Json:
        cluster = self._updatable(params)
        change: Json = {}
        if params.get("EnhancedMonitoring"):
            change["EnhancedMonitoring"] = params["EnhancedMonitoring"]
        if params.get("OpenMonitoring"):
            change["OpenMonitoring"] = open_monitoring(params["OpenMonitoring"])
        if params.get("LoggingInfo"):
            logging_info = full_logging(params["LoggingInfo"])
            problem = logging_problem(logging_info)
            if problem:
                raise bad_request(problem, "loggingInfo")
            change["LoggingInfo"] = logging_info
        if not change:
            raise bad_request("Specify the monitoring or logging settings to update.")
        return self._start(cluster, "UPDATE_MONITORING", change)

    def update_security(self, params: Json) -> Json:
        cluster = self._updatable(params)
        encryption = params.get("EncryptionInfo") or {}
        if encryption.get("EncryptionAtRest"):
            raise bad_request("You can't change encryption at rest of an existing cluster.")
        transit = encryption.get("EncryptionInTransit") or {}
        in_cluster = cluster.provisioned["EncryptionInfo"]["EncryptionInTransit"]["InCluster"]
        if "InCluster" in transit and bool(transit["InCluster"]) != in_cluster:
            raise bad_request(
                "You can't change the in-cluster (broker-to-broker) encryption setting."
            )
        change: Json = {}
        if params.get("ClientAuthentication"):
            change["ClientAuthentication"] = full_auth(params["ClientAuthentication"])
        if transit.get("ClientBroker"):
            change["EncryptionInfo"] = {
                "EncryptionInTransit": {"ClientBroker": transit["ClientBroker"]}
            }
        if not change:
            raise bad_request("Specify the client authentication or encryption to update.")
        result = copy.deepcopy(cluster.provisioned)
        result.update({k: v for k, v in change.items() if k == "ClientAuthentication"})
        if "EncryptionInfo" in change:
            result["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] = transit[
                "ClientBroker"
            ]
        problems = security_problems(result)
        if result["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"] != "DISABLED":
            problems += self._public_problems(cluster, result)
        if problems:
            raise bad_request("; ".join(problems))
        return self._start(cluster, "UPDATE_SECURITY", change)

    def _public_problems(self, cluster: Cluster, provisioned: Json) -> list[str]:
        client_broker, in_cluster, unauth, tls, scram, iam = security(provisioned)
        return rules.public_access_problems(
            kafka_version=str(provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"]),
            client_broker=client_broker,
            in_cluster=in_cluster,
            unauthenticated=unauth,
            tls=tls,
            scram=scram,
            iam=iam,
            server_properties=self._properties_of(cluster),
        )

    def update_connectivity(self, params: Json) -> Json:
        cluster = self._updatable(params)
        public = ((params.get("ConnectivityInfo") or {}).get("PublicAccess") or {}).get("Type")
        if public not in {"DISABLED", "SERVICE_PROVIDED_EIPS"}:
            raise bad_request(
                "PublicAccess Type must be DISABLED or SERVICE_PROVIDED_EIPS.", "connectivityInfo"
            )
        if public == "SERVICE_PROVIDED_EIPS":
            problems = self._public_problems(cluster, cluster.provisioned)
            if problems:
                raise bad_request("; ".join(problems), "connectivityInfo")
        return self._start(
            cluster, "UPDATE_CONNECTIVITY", {"ConnectivityInfo": {"PublicAccess": {"Type": public}}}
        )
