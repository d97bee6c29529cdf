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


def server_properties(
    broker: Broker, brokers: Sequence[Broker], node_dir: Path, tls_dir: Path | None
) -> str:
    count = len(brokers)
    voters = ",".join(f"{b.node_id}@{b.host}:{b.controller_port}" for b in brokers)
    listeners = [f"PLAINTEXT://{broker.host}:{broker.port}"]
    if broker.ssl_port is not None:
        listeners.append(f"SSL://{broker.host}:{broker.ssl_port}")
    props: dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": broker.node_id,
        "controller.quorum.voters": voters,
        "controller.listener.names": "CONTROLLER",
        "listeners": ",".join([*listeners, f"CONTROLLER://{broker.host}:{broker.controller_port}"]),
        "advertised.listeners": ",".join(listeners),
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL",
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


def format_storage(base_cmd: Sequence[str], cluster_id: str, node_dirs: Sequence[Path]) -> None:
    """Write meta.properties for every node with the shared cluster id (in parallel: each
    run is a JVM start)."""
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
