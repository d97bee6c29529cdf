"""Topics through MSK's control plane (`kafka.api: msk`): IAM alone, no path to the brokers.

ListTopics, DescribeTopic, DescribeTopicPartitions, CreateTopic, UpdateTopic and DeleteTopic
(botocore >= 1.42.46) behind the same `TopicAdmin` calls as Kafka's admin API, so a runner
outside the cluster's VPC (a GitHub-hosted one with OIDC) can plan and apply topics. What
the API cannot do is in `MSK_API`: no validate-only, no replica placement, no config
sources, and reads that lag writes (MSK refreshes topic data about once a minute).

`Configs` is Base64 of a JSON object of string values, as the AWS provider's `aws_msk_topic`
sends and reads it; AWS's developer guide shows a DescribeTopic answer in properties form
(`k=v` lines), so both are read. Calls per topic run a few at a time; botocore's standard
retries ride out throttling (TooManyRequestsException).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.clients.topics import (
    MSK_API,
    UNNAMED_SOURCE,
    ConfigOp,
    ConfigValue,
    Keep,
    NewTopicRequest,
    Results,
    TopicMetadata,
)
from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.errors import ApiError, ConnectionFailure, ReconcilerError, aws_failure
from reconciler.core.polling import attempts

if TYPE_CHECKING:
    from reconciler.clients.aws import Service

#: The oldest Kafka version MSK serves the topic API for (AWS: "Your cluster must be running
#: Apache Kafka version 3.6.0 or later").
MINIMUM_VERSION = (3, 6, 0)
#: Concurrent per-topic calls: quick at thousands of topics, gentle on MSK's rate limits.
WORKERS = 8
_REFUSED = frozenset({"ForbiddenException", "UnauthorizedException"})
_GONE = frozenset({"NotFoundException", "UnknownTopicOrPartitionException"})
_T = TypeVar("_T")
_R = TypeVar("_R")


def encode_configs(configs: Mapping[str, str]) -> str:
    """The `Configs` of CreateTopic and UpdateTopic: Base64 of a JSON object of strings."""
    text = json.dumps(dict(sorted(configs.items())), separators=(",", ":"))
    return base64.b64encode(text.encode()).decode("ascii")


def decode_configs(encoded: str | None) -> dict[str, str]:
    """DescribeTopic's `Configs`: Base64 of a JSON object, or of `key=value` lines."""
    if not encoded:
        return {}
    try:
        text = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ReconcilerError(f"MSK returned topic configs that are not Base64: {exc}") from exc
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        lines = (line.partition("=") for line in text.splitlines() if line.strip())
        return {key.strip(): value.strip() for key, sep, value in lines if sep}
    if not isinstance(parsed, dict):
        raise ReconcilerError("MSK returned topic configs that are not an object")
    return {str(key): _as_text(value) for key, value in parsed.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def version_tuple(version: str) -> tuple[int, ...]:
    """3.6.0 -> (3, 6, 0); MSK's suffixes (3.6.0.1, 3.7.x.kraft, ...) keep their numbers."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def check_cluster(info: Mapping[str, Any]) -> None:
    """The topic API's requirements (AWS developer guide, "Topic operations"): a Provisioned
    cluster, ACTIVE, on Kafka 3.6.0 or later."""
    name = info.get("ClusterName", "the cluster")
    problem = what = ""
    software = info.get("Provisioned", {}).get("CurrentBrokerSoftwareInfo", {})
    version = str(software.get("KafkaVersion", ""))
    if info.get("ClusterType", "PROVISIONED") != "PROVISIONED":
        problem = f"{name} is a Serverless cluster; MSK's topic API serves Provisioned clusters"
        what = "use kafka.api: kafka (IAM authentication on the brokers)"
    elif version and version_tuple(version) < MINIMUM_VERSION:
        problem = f"{name} runs Kafka {version}, and MSK's topic API needs 3.6.0 or later"
        what = (
            "upgrade the cluster (MskCluster spec.kafkaVersion; the plan names the upgrade "
            "path), or use kafka.api: kafka from a runner that reaches the brokers"
        )
    elif info.get("State") != "ACTIVE":
        problem = f"{name} is {info.get('State')}; MSK's topic API answers only while ACTIVE"
        what = "plan again once its operation has finished"
    if problem:
        raise ReconcilerError(f"kafka.api: msk: {problem}\n  what to do: {what}")


class MskTopicAdmin:
    """The Topic kind's calls, through MSK's topic API for one cluster."""

    abilities = MSK_API

    def __init__(self, msk: Service, cluster_arn: str, info: Mapping[str, Any], timeout: float):
        self.msk = msk
        self.arn = cluster_arn
        self.info = info
        self.timeout = timeout
        #: Topics written through this client: a second write waits until MSK is done.
        self.written: set[str] = set()

    @classmethod
    def connect(cls, msk: Service, cluster_arn: str, timeout: float) -> MskTopicAdmin:
        """Checks the cluster meets the API's requirements before any topic call."""
        info = msk.call("describe_cluster_v2", ClusterArn=cluster_arn)["ClusterInfo"]
        check_cluster(info)
        return cls(msk, cluster_arn, info, timeout)

    def on_broker(self, broker: Broker) -> MskTopicAdmin:
        return self  # MSK answers for the cluster; there is no broker to ask

    def _each(self, items: Iterable[_T], call: Callable[[_T], _R]) -> Iterator[tuple[_T, _R]]:
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="msk-topics") as pool:
            listed = list(items)
            yield from zip(listed, pool.map(call, listed), strict=True)

    def _failed(self, what: str, exc: ApiError | ConnectionFailure) -> ReconcilerError:
        if isinstance(exc, ApiError) and exc.code in _REFUSED:
            return ReconcilerError(
                f"MSK refused {what}: {exc.message}. The role needs kafka-cluster:Connect on "
                "the cluster and kafka-cluster:DescribeTopic, DescribeTopicDynamicConfiguration "
                "(and to apply: CreateTopic, AlterTopic, AlterTopicDynamicConfiguration, "
                "DeleteTopic) on its topics"
            )
        return aws_failure(what, exc)

    # -- reading -------------------------------------------------------------------------

    def _partitions(self, name: str) -> dict[int, tuple[int, ...]] | None:
        try:
            pages = self.msk.pages(
                "describe_topic_partitions", "Partitions", ClusterArn=self.arn, TopicName=name
            )
            return {int(p["Partition"]): tuple(int(b) for b in p["Replicas"]) for p in pages}
        except ApiError as exc:
            if exc.code in _GONE:
                return None  # deleted since the listing
            raise

    def topic_metadata(self, only: Collection[str] | None = None) -> TopicMetadata:
        """ListTopics (100 a page), then each topic's replicas (DescribeTopicPartitions, one
        call per topic: so a read-back of a few topics asks for those only)."""
        wanted = None if only is None else set(only)
        try:
            names = [
                str(t["TopicName"])
                for t in self.msk.pages("list_topics", "Topics", ClusterArn=self.arn)
                if wanted is None or t["TopicName"] in wanted
            ]
            found = dict(self._each(names, self._partitions))
        except (ApiError, ConnectionFailure) as exc:
            raise self._failed("listing the topics", exc) from exc
        return {name: replicas for name, replicas in found.items() if replicas is not None}

    def cluster(self, topics: Mapping[str, Mapping[int, Sequence[int]]]) -> ClusterView:
        """The brokers (ListNodes: no racks; MSK's broker.rack is the AZ id, which ListNodes
        does not say), identified by the cluster's ARN."""
        try:
            nodes = list(self.msk.pages("list_nodes", "NodeInfoList", ClusterArn=self.arn))
        except (ApiError, ConnectionFailure) as exc:
            raise self._failed("listing the brokers", exc) from exc
        brokers = []
        for node in nodes:
            info = node.get("BrokerNodeInfo")
            if info is None:
                continue
            host = next(iter(info.get("Endpoints") or []), "")
            brokers.append(Broker(int(info["BrokerId"]), host, 0, None))
        load: dict[int, int] = {}
        for partitions in topics.values():
            for replicas in partitions.values():
                for broker in replicas:
                    load[broker] = load.get(broker, 0) + 1
        return ClusterView(self.arn, tuple(sorted(brokers, key=lambda b: b.node_id)), load)

    def broker_configs(self, broker_id: int) -> dict[str, str] | None:
        return None  # not served: values a topic inherits stay unknown, and plans say less

    def _described(self, name: str) -> dict[str, Any] | None:
        """DescribeTopic once it is no longer CREATING or UPDATING (None: gone or going)."""
        for attempt in attempts(self.abilities.lag_seconds, 2.0):
            try:
                topic = self.msk.call("describe_topic", ClusterArn=self.arn, TopicName=name)
            except ApiError as exc:
                if exc.code in _GONE:
                    return None
                raise
            status = topic.get("Status", "ACTIVE")
            if status == "DELETING":
                return None
            if status == "ACTIVE" or attempt.last:
                break
        if status != "ACTIVE":
            raise ReconcilerError(
                f"MSK still reports topic {name!r} as {status} after "
                f"{self.abilities.lag_seconds:g}s; plan again in a minute"
            )
        return topic

    def topic_configs(
        self, names: Collection[str], keep: Keep
    ) -> Iterator[tuple[str, dict[str, ConfigValue] | None]]:
        """DescribeTopic per topic: every value it returns, with no source (MSK says none)."""
        try:
            for name, topic in self._each(names, self._described):
                if topic is None:
                    yield name, None
                    continue
                configs = decode_configs(topic.get("Configs"))
                yield (
                    name,
                    {
                        key: ConfigValue(value, UNNAMED_SOURCE, False)
                        for key, value in configs.items()
                        if keep.keeps(name, key, UNNAMED_SOURCE)
                    },
                )
        except (ApiError, ConnectionFailure) as exc:
            raise self._failed("describing the topics", exc) from exc

    # -- writing -------------------------------------------------------------------------

    def _write(self, operation: str, name: str, **params: Any) -> str | None:
        """One write; a topic written before is first waited for (UPDATING -> ACTIVE), since
        UpdateTopic takes either configs or a partition count, never both."""
        try:
            if name in self.written:
                self._described(name)
            self.msk.call(operation, ClusterArn=self.arn, TopicName=name, **params)
        except ApiError as exc:
            return f"{exc.code}: {exc.message}"
        except ReconcilerError as exc:
            return str(exc)
        self.written.add(name)
        return None

    def _unvalidated(self, names: Iterable[str]) -> Results:
        """No validate-only form: nothing to check remotely, so no refusal to report."""
        return dict.fromkeys(names)

    def create_topics(self, topics: Sequence[NewTopicRequest], *, validate_only: bool) -> Results:
        if validate_only:
            return self._unvalidated(t.name for t in topics)

        def create(topic: NewTopicRequest) -> str | None:
            extra = {"Configs": encode_configs(topic.config)} if topic.config else {}
            return self._write(
                "create_topic",
                topic.name,
                PartitionCount=topic.partitions,
                ReplicationFactor=topic.replication_factor,
                **extra,
            )

        return {topic.name: error for topic, error in self._each(topics, create)}

    def alter_topic_configs(
        self, changes: Mapping[str, Sequence[ConfigOp]], *, validate_only: bool
    ) -> Results:
        """UpdateTopic with the changed values; an override cannot be removed this way."""
        if validate_only:
            return self._unvalidated(changes)

        def update(name: str) -> str | None:
            ops = changes[name]
            removed = sorted(key for key, value in ops if value is None)
            if removed:
                return (
                    f"the MSK topic API cannot remove a topic's own value of {', '.join(removed)}"
                    "; declare the value it should have instead"
                )
            values = {key: value for key, value in ops if value is not None}
            return self._write("update_topic", name, Configs=encode_configs(values))

        return dict(self._each(changes, update))

    def create_partitions(self, counts: Mapping[str, int], *, validate_only: bool) -> Results:
        if validate_only:
            return self._unvalidated(counts)

        def grow(name: str) -> str | None:
            return self._write("update_topic", name, PartitionCount=counts[name])

        return dict(self._each(counts, grow))

    def delete_topics(self, names: Sequence[str]) -> Results:
        return dict(self._each(names, lambda name: self._write("delete_topic", name)))
