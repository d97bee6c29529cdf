"""`reconciler outputs`: what `terraform output` gives the seed's users, read from MSK.

The values are the AWS provider's aws_msk_cluster attributes (arn, bootstrap_brokers_tls,
zookeeper_connect_string, current_version, ...), from DescribeClusterV2 and
GetBootstrapBrokers: one bootstrap string per listener the cluster has, the ZooKeeper connect
strings where it has them (KRaft clusters have none). The `env` and `properties` formats are
the client settings the seed writes by hand, for one listener: the Environment's
securityProtocol unless `--listener` names another. Reading is I/O through the MSK facade;
rendering is pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.clients.session import SERVING, find_cluster_arn
from reconciler.core.environment import Connection
from reconciler.core.errors import ReconcilerError
from reconciler.core.listeners import BY_NAME, LISTENERS, Listener, client_listeners

if TYPE_CHECKING:
    from reconciler.clients.aws import Service

FORMATS = ("text", "json", "env", "properties")
#: MSK takes SCRAM-SHA-512 only (msk-password-limitations.html: "only supports SCRAM-SHA-512").
MSK_SCRAM = "SCRAM-SHA-512"
#: The Java client settings for MSK's IAM listener (configure-clients-for-iam-access-control).
IAM_SETTINGS = (
    ("sasl.mechanism", "AWS_MSK_IAM"),
    ("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;"),
    ("sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler"),
)


@dataclass(frozen=True)
class ClusterOutputs:
    """One MSK cluster's outputs: attribute -> value, and bootstrap string per listener."""

    name: str
    state: str
    values: Mapping[str, str]
    bootstrap: Mapping[str, str]  # listener name -> brokers


def read_outputs(msk: Service, name_or_arn: str, region: str | None) -> ClusterOutputs:
    """DescribeClusterV2 and (when the cluster serves) GetBootstrapBrokers."""
    arn = find_cluster_arn(msk, name_or_arn)
    if arn is None:
        raise ReconcilerError(
            f"MSK has no cluster {name_or_arn!r} in {region or 'the default region'}: create "
            "it with `reconciler apply`, or fix spec.msk (clusterName, region) in the Environment"
        )
    info = msk.call("describe_cluster_v2", ClusterArn=arn)["ClusterInfo"]
    provisioned = info.get("Provisioned") or {}
    software = provisioned.get("CurrentBrokerSoftwareInfo") or {}
    state = str(info.get("State", ""))
    values = {
        "arn": arn,
        "cluster_name": str(info.get("ClusterName", "")),
        "cluster_uuid": arn.rsplit("/", 1)[-1],
        "current_version": str(info.get("CurrentVersion", "")),
        "kafka_version": str(software.get("KafkaVersion", "")),
        "state": state,
        "zookeeper_connect_string": str(provisioned.get("ZookeeperConnectString") or ""),
        "zookeeper_connect_string_tls": str(provisioned.get("ZookeeperConnectStringTls") or ""),
    }
    bootstrap: dict[str, str] = {}
    if state in SERVING:
        brokers = msk.call("get_bootstrap_brokers", ClusterArn=arn)
        bootstrap = {x.name: str(brokers[x.member]) for x in LISTENERS if brokers.get(x.member)}
        values |= {BY_NAME[name].output: brokers for name, brokers in bootstrap.items()}
    return ClusterOutputs(
        values["cluster_name"], state, {k: v for k, v in sorted(values.items()) if v}, bootstrap
    )


def choose_listener(outputs: ClusterOutputs, connection: Connection, name: str | None) -> Listener:
    """The listener `--listener` names, else the one the Environment's securityProtocol uses
    (private before public); a listener the cluster lacks is an error that lists its others."""
    if outputs.state not in SERVING:
        raise ReconcilerError(
            f"MSK cluster {outputs.name} is {outputs.state}: it reports bootstrap brokers only "
            "when ACTIVE (or updating); run this again once it is"
        )
    has = ", ".join(outputs.bootstrap) or "none"
    if name is not None:
        if name not in outputs.bootstrap:
            raise ReconcilerError(
                f"MSK cluster {outputs.name} has no {name} listener (it has: {has}); choose one "
                "of those with --listener, or turn that listener on in the MskCluster spec"
            )
        return BY_NAME[name]
    for listener in client_listeners(connection.security_protocol, connection.sasl_mechanism):
        if listener.name in outputs.bootstrap:
            return listener
    raise ReconcilerError(
        f"MSK cluster {outputs.name} has no listener for securityProtocol "
        f"{connection.security_protocol} (it has: {has}); pass --listener with one of those, or "
        "set the Environment's spec.kafka.securityProtocol to match the cluster"
    )


def client_settings(
    listener: Listener, brokers: str, connection: Connection
) -> list[tuple[str, str]]:
    """The Kafka client properties for this listener; secrets are never part of them."""
    settings = [("bootstrap.servers", brokers), ("security.protocol", listener.security_protocol)]
    if listener.sasl == "SCRAM":
        settings.append(("sasl.mechanism", MSK_SCRAM))
    elif listener.sasl == "IAM":
        settings.extend(IAM_SETTINGS)
    if listener.security_protocol.endswith("SSL") and connection.ca_file:
        settings.append(("ssl.truststore.type", "PEM"))
        settings.append(("ssl.truststore.location", connection.ca_file))
    return settings


def render_outputs(
    outputs: ClusterOutputs, fmt: str, connection: Connection, listener_name: str | None = None
) -> str:
    """`text` (terraform output's `name = "value"`), `json`, `env` or `properties`."""
    if fmt == "text":
        return "".join(f"{key} = {json.dumps(value)}\n" for key, value in outputs.values.items())
    if fmt == "json":
        return json.dumps(dict(outputs.values), indent=2) + "\n"
    listener = choose_listener(outputs, connection, listener_name)
    settings = client_settings(listener, outputs.bootstrap[listener.name], connection)
    if fmt == "properties":
        lines = [f"# {outputs.name}: {listener.name} listener ({listener.output})"]
        if listener.sasl == "SCRAM":
            lines.append("# add sasl.jaas.config with the user's name and password (not here)")
        return "\n".join([*lines, *(f"{key}={value}" for key, value in settings)]) + "\n"
    names = {"bootstrap.servers": "KAFKA_BOOTSTRAP_SERVERS",
             "security.protocol": "KAFKA_SECURITY_PROTOCOL",
             "sasl.mechanism": "KAFKA_SASL_MECHANISM"}  # fmt: skip
    return "".join(f"{names[key]}={value}\n" for key, value in settings if key in names)
