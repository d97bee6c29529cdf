"""MSK's topic API (ListTopics, DescribeTopic, DescribeTopicPartitions, CreateTopic,
UpdateTopic, DeleteTopic) and ListNodes, served from the real local Kafka cluster.

Writes go straight to Kafka (its answers mapped to MSK's error shapes); reads come from a
view of the topics taken at most `topic_refresh_seconds` ago, as MSK serves "data that
updates approximately every minute": a topic just created is not found yet, a config just
changed reads as before, and a written topic says CREATING/UPDATING/DELETING until the view
is taken again. The API's rules hold: Provisioned clusters only, ACTIVE, Kafka 3.6.0 or later;
UpdateTopic takes configs or a partition count, not both. `Configs` is Base64 of a JSON
object of strings both ways (as the AWS provider's `aws_msk_topic` reads and writes it);
UpdateTopic sets the values it is given and leaves the others (AWS does not document
whether it merges or replaces: the client never depends on which).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from reconciler.clients.kafka import KafkaAdmin
from reconciler.clients.msk_topics import MINIMUM_VERSION, encode_configs, version_tuple
from reconciler.clients.topics import KEEP_ALL, NewTopicRequest, PartitionState
from reconciler.core.environment import Connection
from reconciler.kinds.msk_cluster.fields import read_wire
from reconciler.local.msk.state import BackendState, Cluster, paginate
from reconciler.local.msk.wire import ApiError, Json, bad_request

#: Kafka's error names -> the MSK error a topic call answers with.
_KAFKA_ERRORS = {
    "TOPIC_ALREADY_EXISTS": "TopicExistsException",
    "UNKNOWN_TOPIC_OR_PART": "UnknownTopicOrPartitionException",
    "REASSIGNMENT_IN_PROGRESS": "ReassignmentInProgressException",
    "NOT_CONTROLLER": "NotControllerException",
    "REQUEST_TIMED_OUT": "KafkaTimeoutException",
    "_TIMED_OUT": "KafkaTimeoutException",
    "INVALID_REPLICATION_FACTOR": "BadRequestException",
    "INVALID_PARTITIONS": "BadRequestException",
    "INVALID_CONFIG": "BadRequestException",
    "INVALID_TOPIC_EXCEPTION": "BadRequestException",
    "INVALID_REQUEST": "BadRequestException",
    "POLICY_VIOLATION": "BadRequestException",
}


@dataclass
class TopicView:
    """The topics as MSK last looked at them; configs are read on first ask."""

    taken: float
    partitions: dict[str, dict[int, PartitionState]]
    configs: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Topics written since it was taken, and what MSK says of them until the next one.
    status: dict[str, str] = field(default_factory=dict)


def _kafka_failure(error: str, topic: str | None = None) -> ApiError:
    """Kafka's answer as MSK's error; a write to a topic that does not exist (`topic`)
    answers NotFoundException, as MSK's UpdateTopic and DeleteTopic do."""
    name = error.split(":", 1)[0].strip()
    if topic is not None and name == "UNKNOWN_TOPIC_OR_PART":
        return ApiError("NotFoundException", f"Topic {topic} does not exist.", "topicName")
    return ApiError(_KAFKA_ERRORS.get(name, "KafkaRequestException"), error)


def _parse_configs(encoded: object) -> dict[str, str]:
    """A request's `Configs`: Base64 of a JSON object."""
    try:
        parsed = json.loads(base64.b64decode(str(encoded), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise bad_request(
            "Configs must be a Base64-encoded JSON object of topic configs.", "configs"
        ) from exc
    if not isinstance(parsed, dict):
        raise bad_request("Configs must be a Base64-encoded JSON object of topic configs.")
    return {
        str(k): ("true" if v is True else "false" if v is False else str(v))
        for k, v in parsed.items()
    }


class TopicApi(BackendState):
    """The topic operations, on the one local Kafka cluster every local MSK cluster fronts."""

    def _kafka(self) -> KafkaAdmin:
        if self.kafka_admin is None:
            self.kafka_admin = KafkaAdmin.connect(
                Connection(self.kafka_bootstrap, "PLAINTEXT", timeout_seconds=15.0)
            )
        return self.kafka_admin

    def _topic_cluster(self, params: Json) -> Cluster:
        """The cluster, if the topic API serves it (AWS's requirements, as MSK checks them)."""
        cluster = self._cluster(str(params["ClusterArn"]))
        version = str(read_wire(cluster.provisioned)["kafkaVersion"])
        if version_tuple(version) < MINIMUM_VERSION:
            raise bad_request(
                f"Topic operations require Apache Kafka version 3.6.0 or later; cluster "
                f"{cluster.name} runs {version}.",
                "clusterArn",
            )
        if cluster.state != "ACTIVE":
            raise bad_request(
                f"Topic operations require the cluster to be ACTIVE; it is {cluster.state}.",
                "clusterArn",
            )
        return cluster

    def _view(self) -> TopicView:
        now = self.now()
        view = self.topic_view
        if view is None or now - view.taken >= self.topic_refresh_seconds:
            view = TopicView(now, self._kafka().partition_states())
            self.topic_view = view
        return view

    def _listed(self, name: str) -> dict[int, PartitionState]:
        partitions = self._view().partitions.get(name)
        if partitions is None:
            raise ApiError("NotFoundException", f"Topic {name} does not exist.", "topicName")
        return partitions

    def _configs(self, name: str) -> dict[str, str]:
        view = self._view()
        if name not in view.configs:
            found = dict(self._kafka().topic_configs([name], KEEP_ALL))
            entries = found.get(name) or {}
            view.configs[name] = {
                key: entry.value
                for key, entry in entries.items()
                if entry.value is not None and not entry.sensitive
            }
        return view.configs[name]

    def _written(self, name: str, status: str) -> None:
        self._view().status[name] = status

    @staticmethod
    def _topic_arn(cluster: Cluster, name: str) -> str:
        return cluster.arn.replace(":cluster/", ":topic/", 1) + f"/{name}"

    def _reply(self, cluster: Cluster, name: str, status: str) -> Json:
        return {"TopicArn": self._topic_arn(cluster, name), "TopicName": name, "Status": status}

    # -- reads ---------------------------------------------------------------------------

    def list_topics(self, params: Json) -> Json:
        cluster = self._topic_cluster(params)
        prefix = str(params.get("TopicNameFilter") or "")
        topics = [
            {
                "TopicArn": self._topic_arn(cluster, name),
                "TopicName": name,
                "PartitionCount": len(partitions),
                "ReplicationFactor": min((len(p.replicas) for p in partitions.values()), default=0),
                "OutOfSyncReplicaCount": sum(
                    len(set(p.replicas) - set(p.in_sync)) for p in partitions.values()
                ),
            }
            for name, partitions in sorted(self._view().partitions.items())
            if name.startswith(prefix)
        ]
        return paginate(topics, params, "Topics")

    def describe_topic(self, params: Json) -> Json:
        cluster = self._topic_cluster(params)
        name = str(params["TopicName"])
        partitions = self._listed(name)
        return {
            **self._reply(cluster, name, self._view().status.get(name, "ACTIVE")),
            "PartitionCount": len(partitions),
            "ReplicationFactor": min((len(p.replicas) for p in partitions.values()), default=0),
            "Configs": encode_configs(self._configs(name)),
        }

    def describe_topic_partitions(self, params: Json) -> Json:
        self._topic_cluster(params)
        partitions = self._listed(str(params["TopicName"]))
        found = [
            {
                "Partition": pid,
                "Leader": state.leader,
                "Replicas": list(state.replicas),
                "Isr": list(state.in_sync),
            }
            for pid, state in sorted(partitions.items())
        ]
        return paginate(found, params, "Partitions")

    def list_nodes(self, params: Json) -> Json:
        cluster = self._cluster(str(params["ClusterArn"]))
        version = str(read_wire(cluster.provisioned)["kafkaVersion"])
        instance = str(read_wire(cluster.provisioned)["brokers.instanceType"])
        brokers = self._kafka().cluster({}).brokers
        nodes = [
            {
                "AddedToClusterTime": "2024-01-01T00:00:00.000Z",
                "BrokerNodeInfo": {
                    "BrokerId": float(broker.node_id),
                    "ClientVpcIpAddress": broker.host,
                    "CurrentBrokerSoftwareInfo": {"KafkaVersion": version},
                    "Endpoints": [broker.host],
                },
                "InstanceType": instance,
                "NodeARN": cluster.arn.replace(":cluster/", ":broker/", 1) + f"/{broker.node_id}",
                "NodeType": "BROKER",
            }
            for broker in brokers
        ]
        return paginate(nodes, params, "NodeInfoList")

    # -- writes --------------------------------------------------------------------------

    def create_topic(self, params: Json) -> Json:
        cluster = self._topic_cluster(params)
        name = str(params["TopicName"])
        partitions, replication = int(params["PartitionCount"]), int(params["ReplicationFactor"])
        if partitions < 1 or replication < 1:
            raise bad_request("PartitionCount and ReplicationFactor must be at least 1.")
        configs = _parse_configs(params["Configs"]) if params.get("Configs") else {}
        request = NewTopicRequest(name, partitions, replication, configs)
        error = self._kafka().create_topics([request], validate_only=False)[name]
        if error:
            raise _kafka_failure(error)
        self._written(name, "CREATING")
        return self._reply(cluster, name, "CREATING")

    def update_topic(self, params: Json) -> Json:
        cluster = self._topic_cluster(params)
        name = str(params["TopicName"])
        has_configs, has_count = bool(params.get("Configs")), "PartitionCount" in params
        if has_configs == has_count:
            raise bad_request(
                "Specify either the partition count or the topic configurations to update, "
                "not both."
                if has_configs
                else "Specify configs or a partition count."
            )
        if has_configs:
            ops = [(key, value) for key, value in _parse_configs(params["Configs"]).items()]
            error = self._kafka().alter_topic_configs({name: ops}, validate_only=False)[name]
        else:
            counts = {name: int(params["PartitionCount"])}
            error = self._kafka().create_partitions(counts, validate_only=False)[name]
        if error:
            raise _kafka_failure(error, name)
        self._written(name, "UPDATING")
        return self._reply(cluster, name, "UPDATING")

    def delete_topic(self, params: Json) -> Json:
        cluster = self._topic_cluster(params)
        name = str(params["TopicName"])
        error = self._kafka().delete_topics([name])[name]
        if error:
            raise _kafka_failure(error, name)
        self._written(name, "DELETING")
        return self._reply(cluster, name, "DELETING")
