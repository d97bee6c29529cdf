"""Run the doctor's checks for one environment, in the order a connection is made: the MSK
cluster, then per broker DNS, TCP, the listener and the TLS handshake, then Kafka (SASL), the
permissions the reconciler needs, and the brokers' security groups.

A check that cannot run because an earlier one failed is skipped rather than failed again, so
the first failure is the one to fix. Every probe is bounded by the connection's timeout
(at most PROBE_SECONDS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.clients import network
from reconciler.clients.kafka import KafkaAdmin
from reconciler.clients.session import SERVING, Clients, find_cluster_arn
from reconciler.clients.topics import NewTopicRequest
from reconciler.core.environment import Connection, Environment
from reconciler.core.errors import AWS_WHAT_TO_DO, ApiError, ConnectionFailure, ReconcilerError
from reconciler.core.listeners import tls
from reconciler.doctor.checks import (
    Check,
    failed,
    listener_check,
    ok,
    security_group_check,
)
from reconciler.engine.load import load
from reconciler.engine.observe import connect
from reconciler.kinds.msk_cluster.observe import describe_operation
from reconciler.kinds.topic.model import Topics

PROBE_SECONDS = 10.0
#: A name for the validate-only create when the specs declare no topic (nothing is created).
PROBE_TOPIC = "reconciler-doctor-probe"
#: What each permission is, as a Kafka ACL and as an MSK IAM action.
GRANTS: Mapping[str, tuple[str, str]] = {
    "describe configs": ("DescribeConfigs on the cluster", "DescribeClusterDynamicConfiguration"),
    "describe ACLs": ("Describe on the cluster", "DescribeCluster"),
    "create topics": ("Create on the topics", "CreateTopic"),
    "alter topic configs": ("AlterConfigs on the topics", "AlterTopicDynamicConfiguration"),
}


@dataclass(frozen=True)
class Report:
    header: str
    checks: tuple[Check, ...]

    @property
    def failed(self) -> bool:
        return any(c.status == "failed" for c in self.checks)


def _skip(name: str, why: str) -> Check:
    return Check(name, "skipped", why)


def _split(exc: Exception) -> tuple[str, str]:
    """A core error's message and its `what to do`, as the clients write them."""
    text = str(exc)
    detail, _, what = text.partition("\n  what to do: ")
    return detail, what or AWS_WHAT_TO_DO


# --- MSK --------------------------------------------------------------------------------------


def msk_check(clients: Clients, environment: Environment) -> tuple[Check, dict[str, Any] | None]:
    """The cluster's state and any operation in flight (DescribeClusterV2)."""
    name = "MSK cluster"
    ref = environment.msk
    if ref is None:
        return _skip(name, "the Environment names no MSK cluster (no spec.msk)"), None
    try:
        msk = clients.msk()
        arn = find_cluster_arn(msk, ref.cluster)
        if arn is None:
            return failed(
                name,
                f"no cluster {ref.cluster!r} in {ref.region or 'the default region'}",
                "fix spec.msk (clusterName, region), or create it with `reconciler apply`",
            ), None
        info: dict[str, Any] = msk.call("describe_cluster_v2", ClusterArn=arn)["ClusterInfo"]
        running = None
        if info.get("ActiveOperationArn"):
            running = describe_operation(msk, str(info["ActiveOperationArn"]))
    except (ApiError, ConnectionFailure) as exc:
        detail, what = _split(exc)
        return failed(name, detail, what), None
    state = str(info.get("State"))
    provisioned = info.get("Provisioned") or {}
    nodes = provisioned.get("BrokerNodeGroupInfo") or {}
    version = (provisioned.get("CurrentBrokerSoftwareInfo") or {}).get("KafkaVersion")
    shape = (
        f"Kafka {version}, {provisioned.get('NumberOfBrokerNodes')} x {nodes.get('InstanceType')}"
    )
    if running is not None:
        steps = [f"{s.name} {s.status}" for s in running.steps if s.status != "PENDING"]
        since = f" since {running.start:%Y-%m-%d %H:%M} UTC" if running.start else ""
        return Check(
            name,
            "warn",
            f"{state}: {running.type} in flight{since}{'; ' + steps[-1] if steps else ''} "
            f"({shape})",
            "brokers restart or change one at a time until it ends; clients may reconnect, and "
            "apply waits for it. Run doctor again when it is done",
        ), info
    if state == "ACTIVE":
        return ok(name, f"ACTIVE, no operation in flight ({shape})"), info
    if state in SERVING:
        return Check(name, "warn", f"{state} ({shape})", "MSK is working on the brokers"), info
    message = (info.get("StateInfo") or {}).get("Message")
    return failed(
        name,
        f"{state}{': ' + message if message else ''}: the brokers do not serve",
        "wait for CREATING to end; a FAILED cluster needs fixing or replacing in the MSK console",
    ), info


def _brokers(clients: Clients) -> tuple[list[tuple[str, int]], Check | None]:
    """host:port of each bootstrap broker: the spec's, else those MSK reports."""
    try:
        servers = clients.bootstrap_servers()
    except ReconcilerError as exc:
        detail, what = _split(exc)
        return [], failed("brokers", detail, what)
    found = []
    for entry in (e.strip() for e in servers.split(",")):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            return [], failed(
                "brokers", f"{entry!r} is not host:port", "write bootstrapServers as host:port,..."
            )
        found.append((host.strip("[]"), int(port)))
    return found, None


# --- per broker ----------------------------------------------------------------------------


def broker_checks(
    host: str, port: int, connection: Connection, timeout: float, resolved_hosts: set[str]
) -> tuple[list[Check], str | None]:
    """DNS (once per host: `resolved_hosts` holds those done), TCP, the listener and (for TLS)
    the handshake; returns this runner's address towards the broker."""
    address = f"{host}:{port}"
    checks = []
    if host not in resolved_hosts:
        resolved = network.resolve(host)
        if resolved.error:
            return [
                failed(
                    f"DNS {host}",
                    f"cannot resolve it: {resolved.error}",
                    "check the name (MSK: GetBootstrapBrokers' b-N names); a private cluster's "
                    "names resolve only inside its VPC (or through a Route 53 resolver)",
                )
            ], None
        resolved_hosts.add(host)
        checks.append(ok(f"DNS {host}", ", ".join(resolved.addresses)))
    reached = network.connect(host, port, timeout)
    if not reached.ok:
        checks.append(
            failed(
                f"TCP {address}",
                str(reached.error),
                "check the security groups below and that this runner can route to the "
                "brokers' subnets (a private cluster: run inside the VPC, a self-hosted runner)",
            )
        )
        return checks, network.source_address(host, port)
    checks.append(ok(f"TCP {address}", f"connected in {reached.millis:.0f} ms"))
    protocol, mechanism = connection.security_protocol, connection.sasl_mechanism
    speaks = network.speaks(host, port, timeout)
    listener = listener_check(address, port, protocol, mechanism, speaks)
    checks.append(listener)
    if tls(protocol):
        if listener.status == "failed":
            checks.append(_skip(f"TLS {address}", "the listener does not fit securityProtocol"))
        else:
            checks.append(tls_check(host, port, connection, timeout))
    return checks, reached.local_address


def tls_check(host: str, port: int, connection: Connection, timeout: float) -> Check:
    name = f"TLS {host}:{port}"
    shook = network.handshake(
        host,
        port,
        ca_file=connection.ca_file,
        verify_hostname=connection.verify_hostname,
        timeout=timeout,
    )
    if shook.ok:
        return ok(
            name,
            f"{shook.version}, certificate {shook.subject} issued by {shook.issuer}, verified "
            f"by {shook.verified_by}",
        )
    if shook.certificate_problem and "hostname" in (shook.error or "").lower():
        what = (
            "connect by a name the certificate holds (MSK: the b-N names GetBootstrapBrokers "
            "gives), or set verifyHostname: false in a lab only"
        )
    elif shook.certificate_problem:
        what = (
            "set spec.kafka.caFile to the CA bundle that signed the brokers' certificates (MSK's "
            "own are signed by Amazon's public CAs, which the system store trusts)"
        )
    else:
        what = "check that this port is a TLS listener and the runner's OpenSSL is current"
    return failed(name, f"the handshake failed: {shook.error}", what)


# --- Kafka ---------------------------------------------------------------------------------


def kafka_check(clients: Clients, connection: Connection) -> tuple[Check, KafkaAdmin | None, int]:
    """Kafka answers (with SASL: the login is accepted); returns a broker id to ask."""
    mechanism = connection.sasl_mechanism
    name = "SASL authentication" if mechanism else "Kafka connection"
    try:
        admin = clients.kafka()
        view = admin.cluster(admin.topic_metadata())
    except ReconcilerError as exc:
        detail, what = _split(exc)
        return failed(name, detail, what), None, 0
    brokers = f"cluster {view.cluster_id}, {len(view.brokers)} broker(s)"
    if mechanism:
        # MSK IAM has no user name: the principal is the runner's AWS identity
        iam = mechanism == "AWS_MSK_IAM"
        who = "the runner's AWS identity" if iam else connection.sasl_username or "(no user)"
        return (
            ok(name, f"{mechanism} as {who}: accepted; {brokers}"),
            admin,
            view.brokers[0].node_id,
        )
    return ok(name, f"metadata read ({brokers})"), admin, view.brokers[0].node_id


def _refused(error: str | None) -> bool:
    return error is not None and "AUTHORIZATION_FAILED" in error


def permissions_check(
    admin: KafkaAdmin, broker_id: int, declared: Sequence[str], principal: str
) -> Check:
    """What the reconciler needs, each asked for without writing: DescribeConfigs,
    DescribeAcls, and validate-only CreateTopics and IncrementalAlterConfigs (of a declared
    topic that does not exist yet, and one that does)."""
    name = "permissions"
    results = admin.access(broker_id)
    notes = []
    if results["describe ACLs"] and "SECURITY_DISABLED" in str(results["describe ACLs"]):
        results["describe ACLs"] = None
        notes.append("the brokers enforce no ACLs (no authorizer)")
    existing = set(admin.topic_metadata())
    probe = next((t for t in declared if t not in existing), declared[0] if declared else None)
    request = NewTopicRequest(probe or PROBE_TOPIC, 1, -1, {})
    created = admin.create_topics([request], validate_only=True)
    results["create topics"] = next(iter(created.values()))
    target = next((t for t in declared if t in existing), None)
    if target is not None:
        altered = admin.alter_topic_configs({target: [("retention.ms", None)]}, validate_only=True)
        results["alter topic configs"] = altered[target]
    else:
        notes.append("alter not asked: no declared topic exists yet")
    refused = {what: error for what, error in results.items() if _refused(error)}
    if refused:
        user = principal
        grants = "; ".join(f"{GRANTS[w][0]}" for w in refused)
        actions = ", ".join(f"kafka-cluster:{GRANTS[w][1]}" for w in refused)
        return failed(
            name,
            "; ".join(f"{what} refused ({error})" for what, error in refused.items()),
            f"grant {user} {grants} (kafka-acls.sh --add --allow-principal {user} ...); with "
            f"IAM access control the role needs {actions}",
        )
    allowed = ", ".join(results)
    note = f"; {'; '.join(notes)}" if notes else ""
    return ok(name, f"{allowed} allowed (validate-only: nothing written){note}")


# --- security groups -------------------------------------------------------------------------


def security_groups_check(
    clients: Clients, info: Mapping[str, Any] | None, source: str | None, ports: list[int]
) -> Check:
    name = "security groups"
    if info is None:
        return _skip(name, "no MSK cluster to read them from")
    groups = ((info.get("Provisioned") or {}).get("BrokerNodeGroupInfo") or {}).get(
        "SecurityGroups"
    ) or []
    if not groups:
        return _skip(name, "MSK reports no security groups for the brokers")
    if source is None:
        return _skip(name, "this runner's address towards the brokers is not known")
    try:
        described = clients.ec2().call("describe_security_groups", GroupIds=list(groups))
    except (ApiError, ConnectionFailure) as exc:
        return Check(
            name,
            "warn",
            f"cannot read {', '.join(groups)}: {exc}",
            "allow ec2:DescribeSecurityGroups to check them here, or check their inbound rules "
            f"for tcp {', '.join(map(str, ports))} in the EC2 console",
        )
    return security_group_check(described.get("SecurityGroups") or [], source, ports)


# --- MSK's topic API (kafka.api: msk) ---------------------------------------------------

_NO_CLUSTER = ("MSK topic API", "no MSK cluster to ask (above)")
_BY_MSK = (
    "kafka.api: msk reaches topics through MSK's API over HTTPS, so this runner needs no "
    "network path to the brokers"
)


def topic_api_check(clients: Clients) -> Check:
    """The topic API's requirements (a Provisioned cluster, ACTIVE, Kafka 3.6.0 or later) and
    the role's right to use it (ListTopics, which needs kafka-cluster:Connect and
    DescribeTopic)."""
    name = "MSK topic API"
    try:
        clients.topics().topic_metadata(())  # ListTopics only: no topic is described
    except ReconcilerError as exc:
        detail, what = _split(exc)
        return failed(name, detail, what)
    return ok(
        name,
        "the cluster meets the API's requirements (Provisioned, ACTIVE, Kafka 3.6.0 or later) "
        "and ListTopics answered",
    )


# --- all ----------------------------------------------------------------------------------


def run_doctor(
    env_dir: str | Path,
    environ: Mapping[str, str] | None = None,
    *,
    allow_outside_repo: bool = False,
) -> Report:
    desired = load(env_dir, allow_outside_repo=allow_outside_repo)
    environment = desired.environment
    topics = desired.kinds.get("Topic")
    declared = sorted(topics.topics) if isinstance(topics, Topics) else []
    clients = connect(environment, environ)
    connection = clients.connection
    timeout = min(connection.timeout_seconds, PROBE_SECONDS)
    header = f"Doctor for environment {environment.name} ({env_dir}): securityProtocol "
    header += connection.security_protocol
    if environment.msk:
        header += f", MSK cluster {environment.msk.cluster} in {environment.msk.region or '?'}"
    cluster, info = msk_check(clients, environment)
    checks = [cluster]
    if connection.api == "msk":
        checks.append(topic_api_check(clients) if info is not None else _skip(*_NO_CLUSTER))
        checks.append(_skip("brokers", _BY_MSK))
        return Report(header, tuple(checks))
    brokers, problem = _brokers(clients)
    sources = []
    if problem is not None:
        checks.append(problem)
    resolved: set[str] = set()
    for host, port in brokers:
        found, source = broker_checks(host, port, connection, timeout, resolved)
        checks.extend(found)
        sources.append(source)
    reachable = brokers and all(c.status != "failed" for c in checks[1:])
    if reachable:
        kafka, admin, broker_id = kafka_check(clients, connection)
        checks.append(kafka)
        if admin is not None:
            principal = f"User:{connection.sasl_username or 'ANONYMOUS'}"
            checks.append(permissions_check(admin, broker_id, declared, principal))
        else:
            checks.append(_skip("permissions", "no connection to Kafka"))
    else:
        what = "SASL authentication" if connection.sasl_mechanism else "Kafka connection"
        checks.append(_skip(what, "the brokers are not reachable as configured (above)"))
        checks.append(_skip("permissions", "no connection to Kafka"))
    source = next((s for s in sources if s), None)
    checks.append(security_groups_check(clients, info, source, sorted({p for _, p in brokers})))
    return Report(header, tuple(checks))
