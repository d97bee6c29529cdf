"""Creating, describing and listing clusters, their bootstrap brokers and Kafka versions."""

from __future__ import annotations

import copy
import uuid

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
from reconciler.local.msk.state import ACCOUNT_ID, Cluster, new_version, paginate
from reconciler.local.msk.wire import ApiError, Json, bad_request

#: MSK's default EBS volume when CreateClusterV2 gives no StorageInfo.
DEFAULT_VOLUME_GIB = 1000


class ClusterApi(OperationEngine):
    """CreateClusterV2, DescribeCluster(V2), ListClustersV2, GetBootstrapBrokers, versions."""

    def create_cluster_v2(self, params: Json) -> Json:
        name = str(params["ClusterName"])
        if "Serverless" in params or "Provisioned" not in params:
            raise bad_request("The local MSK endpoint creates provisioned clusters only.")
        if any(c.name == name for c in self.clusters.values()):
            raise ApiError("ConflictException", rules.NAME_TAKEN, "clusterName")
        request: Json = params["Provisioned"]
        nodes = copy.deepcopy(request["BrokerNodeGroupInfo"])
        subnets = list(nodes.get("ClientSubnets") or [])
        instance_type = str(nodes.get("InstanceType"))
        version = str(request["KafkaVersion"])
        count = int(request["NumberOfBrokerNodes"])
        if not 2 <= len(subnets) <= 3:
            raise bad_request("Specify two or three client subnets, one per Availability Zone.")
        if instance_type not in rules.BROKER_SIZES:
            raise bad_request(f"{instance_type} is not a supported broker type.", "instanceType")
        if version not in rules.VERSIONS_BY_NAME:
            raise bad_request(f"Unsupported Apache Kafka version {version}.", "kafkaVersion")
        if count % len(subnets):
            raise bad_request(
                f"The number of broker nodes must be a multiple of the number of client subnets "
                f"({len(subnets)}).",
                "numberOfBrokerNodes",
            )
        public = ((nodes.get("ConnectivityInfo") or {}).get("PublicAccess") or {}).get("Type")
        if public not in {None, "DISABLED"}:
            raise bad_request("You can't turn on public access while creating a cluster.")
        storage = nodes.setdefault("StorageInfo", {}).setdefault("EbsStorageInfo", {})
        storage.setdefault("VolumeSize", DEFAULT_VOLUME_GIB)
        throughput = storage.get("ProvisionedThroughput") or {}
        if throughput.get("Enabled"):
            problem = rules.throughput_problem(
                instance_type, throughput.get("VolumeThroughput"), int(storage["VolumeSize"])
            )
            if problem:
                raise bad_request(problem, "provisionedThroughput")
        nodes.setdefault("BrokerAZDistribution", "DEFAULT")
        nodes.setdefault(
            "SecurityGroups", [f"sg-{uuid.uuid5(uuid.NAMESPACE_DNS, subnets[0]).hex[:17]}"]
        )
        nodes["ConnectivityInfo"] = {"PublicAccess": {"Type": "DISABLED"}}
        encryption = request.get("EncryptionInfo") or {}
        at_rest = encryption.get("EncryptionAtRest") or {
            "DataVolumeKMSKeyId": f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{uuid.uuid4()}"
        }
        transit = encryption.get("EncryptionInTransit") or {}
        software: Json = {"KafkaVersion": version}
        configuration = request.get("ConfigurationInfo")
        if configuration:
            checked = self._configuration_info(configuration, version)
            software["ConfigurationArn"] = checked["Arn"]
            software["ConfigurationRevision"] = checked["Revision"]
        provisioned: Json = {
            "BrokerNodeGroupInfo": nodes,
            "CurrentBrokerSoftwareInfo": software,
            "ClientAuthentication": full_auth(request.get("ClientAuthentication")),
            "EncryptionInfo": {
                "EncryptionAtRest": at_rest,
                "EncryptionInTransit": {
                    "ClientBroker": transit.get("ClientBroker", "TLS"),
                    "InCluster": bool(transit.get("InCluster", True)),
                },
            },
            "EnhancedMonitoring": request.get("EnhancedMonitoring", "DEFAULT"),
            "OpenMonitoring": open_monitoring(request.get("OpenMonitoring")),
            "LoggingInfo": full_logging(request.get("LoggingInfo")),
            "NumberOfBrokerNodes": count,
            "StorageMode": "LOCAL",
        }
        problems = security_problems(provisioned)
        log_problem = logging_problem(provisioned["LoggingInfo"])
        if problems or log_problem:
            raise bad_request("; ".join([*problems, *([log_problem] if log_problem else [])]))
        cluster = Cluster(
            arn=f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:cluster/{name}/{uuid.uuid4()}-1",
            name=name,
            created=self.now(),
            version=new_version(),
            state="CREATING",
            provisioned=provisioned,
            tags=dict(params.get("Tags") or {}),
        )
        self.clusters[cluster.arn] = cluster
        self._start(cluster, "CREATE", {})
        return {
            "ClusterArn": cluster.arn,
            "ClusterName": name,
            "State": "CREATING",
            "ClusterType": "PROVISIONED",
        }

    def _zookeeper(self, cluster: Cluster) -> Json:
        """ZooKeeper-mode versions report their (three) ZooKeeper nodes, as MSK does; KRaft
        clusters have none. The local nodes are names only: nothing listens there."""
        version = str(cluster.provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"])
        if version.endswith(".kraft"):
            return {}
        nodes = [f"z-{i}.{cluster.name}.zookeeper.local" for i in (1, 2, 3)]
        return {
            "ZookeeperConnectString": ",".join(f"{n}:2181" for n in nodes),
            "ZookeeperConnectStringTls": ",".join(f"{n}:2182" for n in nodes),
        }

    def _view_v2(self, cluster: Cluster) -> Json:
        provisioned = {**copy.deepcopy(cluster.provisioned), **self._zookeeper(cluster)}
        return {
            "ActiveOperationArn": cluster.active_operation,
            "ClusterType": "PROVISIONED",
            "ClusterArn": cluster.arn,
            "ClusterName": cluster.name,
            "CreationTime": cluster.created,
            "CurrentVersion": cluster.version,
            "State": cluster.state,
            "StateInfo": cluster.state_info,
            "Tags": dict(cluster.tags),
            "Provisioned": provisioned,
        }

    def describe_cluster_v2(self, params: Json) -> Json:
        return {"ClusterInfo": self._view_v2(self._cluster(str(params["ClusterArn"])))}

    def describe_cluster(self, params: Json) -> Json:
        cluster = self._cluster(str(params["ClusterArn"]))
        p = copy.deepcopy(cluster.provisioned)
        return {
            "ClusterInfo": {
                "ActiveOperationArn": cluster.active_operation,
                "BrokerNodeGroupInfo": p["BrokerNodeGroupInfo"],
                "ClientAuthentication": p["ClientAuthentication"],
                "ClusterArn": cluster.arn,
                "ClusterName": cluster.name,
                "CreationTime": cluster.created,
                "CurrentBrokerSoftwareInfo": p["CurrentBrokerSoftwareInfo"],
                "CurrentVersion": cluster.version,
                "EncryptionInfo": p["EncryptionInfo"],
                "EnhancedMonitoring": p["EnhancedMonitoring"],
                "OpenMonitoring": p["OpenMonitoring"],
                "LoggingInfo": p["LoggingInfo"],
                "NumberOfBrokerNodes": p["NumberOfBrokerNodes"],
                "State": cluster.state,
                "StateInfo": cluster.state_info,
                "Tags": dict(cluster.tags),
                "StorageMode": p["StorageMode"],
                **self._zookeeper(cluster),
            }
        }

    def list_clusters_v2(self, params: Json) -> Json:
        prefix = str(params.get("ClusterNameFilter") or "")
        kind = params.get("ClusterTypeFilter")
        found = [
            self._view_v2(c)
            for c in sorted(self.clusters.values(), key=lambda c: c.created)
            if c.name.startswith(prefix) and kind in {None, "PROVISIONED"}
        ]
        return paginate(found, params, "ClusterInfoList")

    def get_bootstrap_brokers(self, params: Json) -> Json:
        cluster = self._cluster(str(params["ClusterArn"]))
        if cluster.state not in {
            "ACTIVE",
            "UPDATING",
            "HEALING",
            "MAINTENANCE",
            "REBOOTING_BROKER",
        }:
            raise bad_request(rules.bootstrap_refused(cluster.state))
        client_broker, _, unauth, tls, scram, iam = security(cluster.provisioned)
        public = (
            cluster.provisioned["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"]
            == "SERVICE_PROVIDED_EIPS"
        )
        plain = self.kafka_bootstrap
        secure = self.kafka_tls_bootstrap or self.kafka_bootstrap
        result: Json = {}
        if client_broker in {"PLAINTEXT", "TLS_PLAINTEXT"}:
            result["BootstrapBrokerString"] = plain
        if client_broker in {"TLS", "TLS_PLAINTEXT"} and (unauth or tls):
            result["BootstrapBrokerStringTls"] = secure
            if public and tls:
                result["BootstrapBrokerStringPublicTls"] = secure
        if scram:
            result["BootstrapBrokerStringSaslScram"] = secure
            if public:
                result["BootstrapBrokerStringPublicSaslScram"] = secure
        if iam:
            result["BootstrapBrokerStringSaslIam"] = secure
            if public:
                result["BootstrapBrokerStringPublicSaslIam"] = secure
        return result

    def get_compatible_kafka_versions(self, params: Json) -> Json:
        if params.get("ClusterArn"):
            cluster = self._cluster(str(params["ClusterArn"]))
            sources = [str(cluster.provisioned["CurrentBrokerSoftwareInfo"]["KafkaVersion"])]
        else:
            sources = [v.version for v in rules.KAFKA_VERSIONS]
        return {
            "CompatibleKafkaVersions": [
                {"SourceVersion": s, "TargetVersions": list(rules.compatible_targets(s))}
                for s in sources
            ]
        }

    def list_kafka_versions(self, params: Json) -> Json:
        today = self._today()
        versions = [
            {"Version": v.version, "Status": "DEPRECATED" if v.deprecated(today) else "ACTIVE"}
            for v in rules.KAFKA_VERSIONS
        ]
        return paginate(versions, params, "KafkaVersions")
