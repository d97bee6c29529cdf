"""The clients of one environment, made when first needed and shared by every kind.

Nothing here imports a client library until a kind asks for its client, so loading the specs
(validate, show) never pays for one. Where the specs name no brokers, they come from MSK
(GetBootstrapBrokers for the connection's security protocol).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.environment import Connection, MskRef
from reconciler.core.errors import (
    ApiError,
    ConnectionFailure,
    ReconcilerError,
    Unavailable,
    aws_failure,
)
from reconciler.core.listeners import client_listeners

if TYPE_CHECKING:
    from reconciler.clients.aws import Service
    from reconciler.clients.kafka import KafkaAdmin
    from reconciler.clients.quotas import QuotaAdmin
    from reconciler.clients.replicas import ReplicaAdmin
    from reconciler.clients.topics import TopicAdmin, TopicMetadata

T = TypeVar("T")
#: What a kind computes from the cluster read (`Clients.derived`).
Derive = Callable[["ClusterView", "TopicMetadata"], T]

#: Cluster states in which MSK answers GetBootstrapBrokers.
SERVING = frozenset({"ACTIVE", "UPDATING", "HEALING", "MAINTENANCE", "REBOOTING_BROKER"})


def pick_bootstrap(
    brokers: Mapping[str, str], security_protocol: str, sasl_mechanism: str | None
) -> str | None:
    """The bootstrap string a client with this protocol uses, from GetBootstrapBrokers
    (core.listeners: private before public): SASL_SSL with a SCRAM mechanism takes the SCRAM
    listener (9096), with AWS_MSK_IAM the IAM one (9098)."""
    for listener in client_listeners(security_protocol, sasl_mechanism):
        if brokers.get(listener.member):
            return brokers[listener.member]
    return None


def find_cluster_arn(msk: Service, name_or_arn: str) -> str | None:
    """The ARN of the cluster with this exact name (ListClustersV2 filters by prefix)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    for info in msk.pages("list_clusters_v2", "ClusterInfoList", ClusterNameFilter=name_or_arn):
        if info.get("ClusterName") == name_or_arn and info.get("State") != "DELETING":
            return str(info["ClusterArn"])
    return None


class SharedCluster:
    """The cluster's shape and Metadata, read once for the clients of every environment that
    connects alike, planned together (`plan DIR...`): the first asks, the others wait for
    its answer, or its failure. Each keeps clients of its own (kafka-python's are not
    thread-safe). What the kinds compute from that read over the whole cluster (`derived`)
    is computed once too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: tuple[ClusterView, TopicMetadata] | None = None
        self._failure: ReconcilerError | None = None
        self._derived_lock = threading.Lock()
        self._derived: dict[Derive[Any], object] = {}

    def get(
        self, read: Callable[[], tuple[ClusterView, TopicMetadata]]
    ) -> tuple[ClusterView, TopicMetadata]:
        with self._lock:
            if self._read is None and self._failure is None:
                try:
                    self._read = read()
                except ReconcilerError as exc:  # Unavailable too: one timeout, not twenty
                    self._failure = exc
            if self._failure is not None:
                raise self._failure
            assert self._read is not None
            return self._read

    def derived(self, make: Derive[T], read: tuple[ClusterView, TopicMetadata]) -> T:
        """`make` of the read (`get`'s answer), computed by the first environment to ask."""
        with self._derived_lock:
            if make not in self._derived:
                self._derived[make] = make(*read)
            return cast(T, self._derived[make])


class Clients:
    """Kafka's admin API and the AWS services for one environment's resolved connection;
    `shared`: the cluster read of environments planned beside it that connect alike."""

    def __init__(
        self, connection: Connection, msk: MskRef | None, shared: SharedCluster | None = None
    ) -> None:
        self.connection = connection
        self.msk_ref = msk
        self._shared = shared if shared is not None else SharedCluster()
        self._kafka: KafkaAdmin | None = None
        self._topics: TopicAdmin | None = None
        self._replicas: ReplicaAdmin | None = None
        self._quotas: QuotaAdmin | None = None
        self._msk: Service | None = None
        self._logs: Service | None = None
        self._ec2: Service | None = None
        self._secrets: Service | None = None
        #: The planning thread and the one reading while the specs load ask for the same
        #: clients: each is made, and the cluster read, once.
        self._lock = threading.RLock()

    def msk(self) -> Service:
        if self._msk is None:
            from reconciler.clients.aws import msk_service

            self._msk = msk_service(self.msk_ref.region if self.msk_ref else None)
        return self._msk

    def logs(self) -> Service:
        if self._logs is None:
            from reconciler.clients.aws import logs_service

            self._logs = logs_service(self.msk_ref.region if self.msk_ref else None)
        return self._logs

    def ec2(self) -> Service:
        if self._ec2 is None:
            from reconciler.clients.aws import ec2_service

            self._ec2 = ec2_service(self.msk_ref.region if self.msk_ref else None)
        return self._ec2

    def secrets(self) -> Service:
        if self._secrets is None:
            from reconciler.clients.aws import secrets_service

            self._secrets = secrets_service(self.msk_ref.region if self.msk_ref else None)
        return self._secrets

    def bootstrap_servers(self) -> str:
        """The brokers to connect to: the specs', else those MSK reports for the protocol.

        Raises Unavailable when the MSK cluster does not exist (yet).
        """
        conn = self.connection
        if conn.bootstrap_servers or self.msk_ref is None:
            return conn.bootstrap_servers
        msk = self.msk()
        try:
            arn = find_cluster_arn(msk, self.msk_ref.cluster)
            state = None
            if arn is not None:
                info = msk.call("describe_cluster_v2", ClusterArn=arn)["ClusterInfo"]
                state = info.get("State")
            if arn is None or state == "CREATING":
                raise Unavailable("the MSK cluster does not exist yet")
            found = None
            if state in SERVING:
                brokers = msk.call("get_bootstrap_brokers", ClusterArn=arn)
                found = pick_bootstrap(brokers, conn.security_protocol, conn.sasl_mechanism)
        except (ApiError, ConnectionFailure) as exc:
            raise aws_failure("looking up the brokers", exc) from exc
        if found is None:
            raise ReconcilerError(
                f"MSK reports no bootstrap brokers for securityProtocol {conn.security_protocol} "
                "(is that listener enabled on the cluster, and is it ACTIVE?). Set "
                "spec.kafka.bootstrapServers or the matching securityProtocol"
            )
        return found

    def cluster_arn(self) -> str:
        """The MSK cluster's ARN (Unavailable while it does not exist)."""
        if self.msk_ref is None:
            raise ReconcilerError("spec.msk must name the cluster")
        try:
            arn = find_cluster_arn(self.msk(), self.msk_ref.cluster)
        except (ApiError, ConnectionFailure) as exc:
            raise aws_failure("looking up the cluster", exc) from exc
        if arn is None:
            raise Unavailable("the MSK cluster does not exist yet")
        return arn

    def kafka(self) -> KafkaAdmin:
        """The admin client of the cluster (made once; every kind shares it)."""
        with self._lock:
            if self._kafka is None:
                if self.connection.api == "msk":
                    raise ReconcilerError(
                        "this needs Kafka's admin API on the brokers, and kafka.api: msk reaches "
                        "topics only (through MSK's API). Set kafka.api: kafka and run where the "
                        "brokers are reachable"
                    )
                from reconciler.clients.kafka import KafkaAdmin

                servers = self.bootstrap_servers()
                self.connection = replace(self.connection, bootstrap_servers=servers)
                self._kafka = KafkaAdmin.connect(self.connection)
            return self._kafka

    def topics(self) -> TopicAdmin:
        """The topic API the Environment chose (`kafka.api`): Kafka's admin API on the
        brokers, or MSK's topic API, checked against its requirements when first made."""
        with self._lock:
            if self._topics is None:
                if self.connection.api == "msk":
                    from reconciler.clients.msk_topics import MskTopicAdmin

                    arn = self.cluster_arn()
                    try:
                        admin = MskTopicAdmin.connect(
                            self.msk(), arn, self.connection.timeout_seconds
                        )
                    except (ApiError, ConnectionFailure) as exc:
                        raise aws_failure("describing the cluster", exc) from exc
                    self._topics = admin
                else:
                    self._topics = self.kafka()
            return self._topics

    def replicas(self) -> ReplicaAdmin:
        """The replica-placement client (reassignments, log dirs, elections, throttles), made
        once on the same brokers as `kafka()`."""
        with self._lock:
            if self._replicas is None:
                from reconciler.clients.replicas import ReplicaAdmin

                self.kafka()  # resolves the brokers (from MSK when the specs name none)
                self._replicas = ReplicaAdmin(self.connection)
            return self._replicas

    def quotas(self) -> QuotaAdmin:
        """The client-quota client (kafka-python), on the same brokers as `kafka()`."""
        if self._quotas is None:
            from reconciler.clients.quotas import QuotaAdmin

            self.kafka()  # resolves the brokers (from MSK when the specs name none)
            self._quotas = QuotaAdmin(self.connection)
        return self._quotas

    def kafka_on(self, broker: Broker) -> KafkaAdmin:
        """A client that talks to this broker only (replica moves)."""
        return self.kafka().on_broker(broker)

    def topics_on(self, broker: Broker) -> TopicAdmin:
        """A topic client whose reads this broker answers (read-back through every broker),
        where the API has brokers to ask."""
        return self.topics().on_broker(broker)

    def cluster(self) -> tuple[ClusterView, TopicMetadata]:
        """The cluster and every topic's partitions, read once and shared by the kinds and
        the plan's digest (and by environments that connect alike); read-backs ask afresh."""
        with self._lock:
            return self._shared.get(self._read_cluster)

    def derived(self, make: Derive[T]) -> T:
        """`make(*cluster())`, computed once for every environment sharing the read: the
        kinds' cluster-wide work (a map of every topic's name) is not repeated per
        environment. `make` is the key: a module's function, never a new lambda."""
        return self._shared.derived(make, self.cluster())

    def _read_cluster(self) -> tuple[ClusterView, TopicMetadata]:
        admin = self.topics()
        try:
            metadata = admin.topic_metadata()
        except ConnectionFailure as exc:
            if self._msk_cluster_pending():
                raise Unavailable("the MSK cluster does not exist yet") from exc
            raise
        return admin.cluster(metadata), metadata

    def _msk_cluster_pending(self) -> bool:
        """Whether the brokers the specs name cannot answer because the MSK cluster the
        Environment names is still to be made (none yet, or CREATING): then a plan creates
        it first and reads the Kafka kinds once it is ACTIVE, as without bootstrapServers."""
        if self.msk_ref is None:
            return False
        msk = self.msk()
        try:
            arn = find_cluster_arn(msk, self.msk_ref.cluster)
            if arn is None:
                return True
            info = msk.call("describe_cluster_v2", ClusterArn=arn)["ClusterInfo"]
        except (ApiError, ConnectionFailure):
            return False  # MSK cannot say either: the brokers' failure is the one to report
        return bool(info.get("State") == "CREATING")
