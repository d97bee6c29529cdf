"""What each node is started with: ``server.properties``, the log configuration and the
formatted storage directory."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from reconciler.local.kafka.certificates import CA_FILE, KEYSTORE
from reconciler.local.kafka.errors import LocalClusterError
from reconciler.local.kafka.processes import tail
from reconciler.local.kafka.state import Broker

#: The SCRAM mechanism of the SASL listener: the only one MSK's SCRAM listener takes.
SCRAM = "SCRAM-SHA-512"
#: The SCRAM user `up(sasl=True)` creates: a super user, like an MSK cluster's admin user.
SCRAM_USER = "reconciler"


def sasl_properties(listener: str) -> dict[str, object]:
    """A SASL/SCRAM listener and Kafka's StandardAuthorizer, as on an MSK cluster with SCRAM.

    The other listeners (plaintext, TLS without client certificates, the controllers') are
    User:ANONYMOUS, a super user like SCRAM_USER, so they keep every right; other SCRAM users
    have what their ACLs give, and everything on a resource no ACL names
    (allow.everyone.if.no.acl.found, MSK's default): a DENY ACL takes a right away.
    """
    return {
        "sasl.enabled.mechanisms": SCRAM,
        f"listener.name.{listener.lower()}.{SCRAM.lower()}.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:ANONYMOUS;User:{SCRAM_USER}",
        "allow.everyone.if.no.acl.found": "true",
    }


def server_properties(
    broker: Broker, brokers: Sequence[Broker], node_dir: Path, tls_dir: Path | None
) -> str:
    count = len(brokers)
    voters = ",".join(f"{b.node_id}@{b.host}:{b.controller_port}" for b in brokers)
    listeners = [f"PLAINTEXT://{broker.host}:{broker.port}"]
    if broker.ssl_port is not None:
        listeners.append(f"SSL://{broker.host}:{broker.ssl_port}")
    sasl = "SASL_SSL" if tls_dir is not None else "SASL_PLAINTEXT"
    if broker.sasl_port is not None:
        listeners.append(f"{sasl}://{broker.host}:{broker.sasl_port}")
    protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL"
    props: dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": broker.node_id,
        "controller.quorum.voters": voters,
        "controller.listener.names": "CONTROLLER",
        "listeners": ",".join([*listeners, f"CONTROLLER://{broker.host}:{broker.controller_port}"]),
        "advertised.listeners": ",".join(listeners),
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": (
            f"{protocols},{sasl}:{sasl}" if broker.sasl_port is not None else protocols
        ),
        "log.dirs": node_dir / "data",
        "broker.rack": broker.rack,
        # Topic defaults close to an MSK cluster spread over three AZs.
        "num.partitions": 3,
        "default.replication.factor": min(3, count),
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": min(3, count),
        "transaction.state.log.replication.factor": min(3, count),
        "transaction.state.log.min.isr": min(2, count),
        # Keep a laptop responsive: fewer internal partitions, small cleaner buffer.
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.num.partitions": 10,
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        "group.initial.rebalance.delay.ms": 0,
    }
    if tls_dir is not None:
        props |= {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": tls_dir / KEYSTORE,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": tls_dir / CA_FILE,
            "ssl.client.auth": "none",
        }
    if broker.sasl_port is not None:
        props |= sasl_properties(sasl)
    return "".join(f"{key}={value}\n" for key, value in props.items())


def write_log_configs(state_dir: Path) -> list[str]:
    """Send broker logs to ``node-<id>/server.log`` instead of stdout (3.x: log4j 1,
    4.x: log4j2; both files say the same); returns the JVM flags selecting them."""
    log4j = state_dir / "log4j.properties"
    log4j.write_text(
        "log4j.rootLogger=INFO, file\n"
        "log4j.appender.file=org.apache.log4j.RollingFileAppender\n"
        "log4j.appender.file.File=${kafka.logs.dir}/server.log\n"
        "log4j.appender.file.MaxFileSize=10MB\n"
        "log4j.appender.file.MaxBackupIndex=2\n"
        "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n"
        "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
        "log4j.logger.kafka.request.logger=WARN\n"
        "log4j.logger.state.change.logger=WARN\n"
        "log4j.logger.org.apache.kafka.clients=WARN\n"
    )
    log4j2 = state_dir / "log4j2.properties"
    log4j2.write_text(
        "status = warn\n"
        "appender.file.type = RollingFile\n"
        "appender.file.name = file\n"
        "appender.file.fileName = ${sys:kafka.logs.dir}/server.log\n"
        "appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i\n"
        "appender.file.layout.type = PatternLayout\n"
        "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
        "appender.file.policies.type = Policies\n"
        "appender.file.policies.size.type = SizeBasedTriggeringPolicy\n"
        "appender.file.policies.size.size = 10MB\n"
        "appender.file.strategy.type = DefaultRolloverStrategy\n"
        "appender.file.strategy.max = 2\n"
        "rootLogger.level = info\n"
        "rootLogger.appenderRef.file.ref = file\n"
        "logger.request.name = kafka.request.logger\n"
        "logger.request.level = warn\n"
        "logger.state.name = state.change.logger\n"
        "logger.state.level = warn\n"
        "logger.clients.name = org.apache.kafka.clients\n"
        "logger.clients.level = warn\n"
    )
    return [f"-Dlog4j.configuration=file:{log4j}", f"-Dlog4j2.configurationFile={log4j2}"]


def format_storage(
    base_cmd: Sequence[str],
    cluster_id: str,
    node_dirs: Sequence[Path],
    scram_user: tuple[str, str] | None = None,
) -> None:
    """Write meta.properties for every node with the shared cluster id (in parallel: each
    run is a JVM start); `scram_user` (name, password) is written into the metadata log as a
    SCRAM-SHA-512 credential (KIP-900, Kafka 3.5+), so it exists before the brokers serve."""
    scram = (
        ["--add-scram", f"{SCRAM}=[name={scram_user[0]},password={scram_user[1]}]"]
        if scram_user
        else []
    )
    runs = []
    for node_dir in node_dirs:
        cmd = [
            *base_cmd,
            f"-Dkafka.logs.dir={node_dir}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(node_dir / "server.properties"),
            *scram,
        ]
        out = (node_dir / "format.log").open("w")
        runs.append((node_dir, out, subprocess.Popen(cmd, stdout=out, stderr=out, cwd=node_dir)))
    failures = []
    for node_dir, out, proc in runs:
        code = proc.wait()
        out.close()
        if code != 0:
            failures.append(f"{node_dir.name}:\n{tail(node_dir / 'format.log')}")
    if failures:
        raise LocalClusterError("Formatting Kafka storage failed:\n" + "\n".join(failures))
