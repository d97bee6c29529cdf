"""Creating, describing and listing clusters, their bootstrap brokers and Kafka versions."""

from __future__ import annotations

import copy
import uuid

from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.fields import describe_wire, read_create, read_wire
from reconciler.local.msk.lifecycle import OperationEngine, changed
from reconciler.local.msk.provisioned import logging_problem, security, security_problems, sent
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
        fields = read_create(request)
        subnets = list(fields["brokers.clientSubnets"])
        instance_type = str(fields["brokers.instanceType"])
        version = str(fields["kafkaVersion"])
        count = int(fields["brokers.count"])
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
        # CreateClusterV2 takes no public access (see NOT_AT_CREATE), but a request may carry it.
        if sent(request, "brokers.publicAccess") not in {None, "DISABLED"}:
            raise bad_request("You can't turn on public access while creating a cluster.")
        # MSK's defaults for what the request leaves out, beyond those the table knows.
        fields["brokers.storage.volumeSizeGiB"] = (
            fields["brokers.storage.volumeSizeGiB"] or DEFAULT_VOLUME_GIB
        )
        problem = rules.throughput_problem(
            instance_type,
            fields["brokers.storage.provisionedThroughputMiBps"],
            int(fields["brokers.storage.volumeSizeGiB"]),
        )
        if problem:
            raise bad_request(problem, "provisionedThroughput")
        fields["brokers.securityGroups"] = fields["brokers.securityGroups"] or [
            f"sg-{uuid.uuid5(uuid.NAMESPACE_DNS, subnets[0]).hex[:17]}"
        ]
        fields["encryption.atRest.kmsKeyId"] = (
            fields["encryption.atRest.kmsKeyId"]
            or f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{uuid.uuid4()}"
        )
        provisioned = describe_wire(fields)
        # Not table fields: where the brokers sit, the storage mode, the configuration.
        provisioned["BrokerNodeGroupInfo"]["BrokerAZDistribution"] = request[
            "BrokerNodeGroupInfo"
        ].get("BrokerAZDistribution", "DEFAULT")
        provisioned["StorageMode"] = "LOCAL"
        if request.get("ConfigurationInfo"):
            checked = self._configuration_info(request["ConfigurationInfo"], version)
            provisioned = changed(provisioned, {}, checked)
        problems = security_problems(read_wire(provisioned))
        log_problem = logging_problem(request)
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
        self._start(cluster, "CREATE")
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
        fields = read_wire(cluster.provisioned)
        on = security(fields)
        public = fields["brokers.publicAccess"]
        plain = self.kafka_bootstrap
        secure = self.kafka_tls_bootstrap or self.kafka_bootstrap
        result: Json = {}
        if on.client_broker in {"PLAINTEXT", "TLS_PLAINTEXT"}:
            result["BootstrapBrokerString"] = plain
        if on.client_broker in {"TLS", "TLS_PLAINTEXT"} and (on.unauthenticated or on.tls):
            result["BootstrapBrokerStringTls"] = secure
            if public and on.tls:
                result["BootstrapBrokerStringPublicTls"] = secure
        if on.scram:
            result["BootstrapBrokerStringSaslScram"] = secure
            if public:
                result["BootstrapBrokerStringPublicSaslScram"] = secure
        if on.iam:
            result["BootstrapBrokerStringSaslIam"] = secure
            if public:
                result["BootstrapBrokerStringPublicSaslIam"] = secure
        return result

    def get_compatible_kafka_versions(self, params: Json) -> Json:
        if params.get("ClusterArn"):
            cluster = self._cluster(str(params["ClusterArn"]))
            sources = [str(read_wire(cluster.provisioned)["kafkaVersion"])]
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
