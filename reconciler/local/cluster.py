"""Run a real multi-broker Apache Kafka cluster (KRaft, combined mode) on loopback.

Used by ``reconciler local up|down|status`` and by the test suite. Each node is one JVM
acting as both broker and controller (half the processes of split mode, which matters on
small machines), started detached so the cluster outlives the command that started it.
Everything lives in one state directory: ``cluster.json`` (ports, pids, ids),
``node-<id>/`` (config, data, logs) and ``tls/`` (certificates, when enabled).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from reconciler.local.distribution import (
    DEFAULT_KAFKA_VERSION,
    LocalKafkaError,
    cache_dir,
    classpath,
    distribution_version,
    ensure_distribution,
    find_java,
)

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
"""The contract with specs: ``specs/local`` refers to ``${KAFKA_BOOTSTRAP_SERVERS}``."""
SSL_BOOTSTRAP_ENV = "KAFKA_SSL_BOOTSTRAP_SERVERS"
CA_FILE_ENV = "KAFKA_SSL_CA_FILE"

HOST = "127.0.0.1"
STATE_FILE = "cluster.json"
LOCK_FILE = ".lock"
STATE_FORMAT = 1
DEFAULT_JVM_OPTS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
"""Small heaps, because three JVMs must fit next to the tests on a 2-core laptop or CI
runner; C1-only JIT starts a node ~2.5s faster, and a test cluster never runs long
enough to profit from C2. ``RECONCILER_KAFKA_JVM_OPTS`` replaces them."""
STOP_GRACE_SECONDS = 10.0
LAST_NODE_GRACE_SECONDS = 1.0
LOG_TAIL_LINES = 40
_HAVE_PROC = Path("/proc/self/stat").exists()  # Linux; macOS falls back to `ps`

log = logging.getLogger(__name__)
_rdkafka_log = logging.getLogger(__name__ + ".librdkafka")
# Connection-refused noise while brokers boot is expected; keep it out of the terminal
# unless the application configured logging itself.
_rdkafka_log.addHandler(logging.NullHandler())


class LocalClusterError(LocalKafkaError):
    """The local cluster could not be started, inspected or stopped."""


class ClusterMismatchError(LocalClusterError):
    """``up`` was asked for a different cluster than the one running; we never replace a
    running cluster (and its topics) implicitly."""


class _PortClashError(LocalClusterError):
    """A picked port was taken before the broker bound it; starting again fixes it."""


@dataclass(frozen=True)
class Broker:
    """One combined broker+controller JVM."""

    node_id: int
    port: int
    controller_port: int
    rack: str
    pid: int
    ssl_port: int | None = None
    host: str = HOST
    alive: bool = True
    """Whether the process is running (checked when the object was produced)."""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class LocalCluster:
    """A running (or recorded) local cluster, as persisted in ``cluster.json``."""

    state_dir: Path
    cluster_id: str
    kafka_version: str
    brokers: tuple[Broker, ...]
    bootstrap_servers: str
    """``127.0.0.1:p1,127.0.0.1:p2,...`` -- PLAINTEXT listeners."""
    started_at: str
    ssl_bootstrap_servers: str | None = None
    """SSL listeners, when started with ``tls=True``; verify with ``ca_file``."""
    ca_file: Path | None = None

    @property
    def alive(self) -> bool:
        """True when every broker process is running."""
        return all(b.alive for b in self.brokers)

    def env(self) -> dict[str, str]:
        """Environment variables that point clients (and ``specs/local``) here."""
        values = {BOOTSTRAP_ENV: self.bootstrap_servers}
        if self.ssl_bootstrap_servers and self.ca_file:
            values[SSL_BOOTSTRAP_ENV] = self.ssl_bootstrap_servers
            values[CA_FILE_ENV] = str(self.ca_file)
        return values


def default_state_dir() -> Path:
    """``$RECONCILER_LOCAL_DIR`` or ``<cache>/local-cluster``."""
    explicit = os.environ.get("RECONCILER_LOCAL_DIR")
    return Path(explicit).expanduser() if explicit else cache_dir() / "local-cluster"


def shell_exports(cluster: LocalCluster) -> str:
    """``export KAFKA_BOOTSTRAP_SERVERS=...`` lines, for ``eval "$(reconciler local up)"``."""
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in cluster.env().items())


def render_status(cluster: LocalCluster | None) -> str:
    """Human-readable summary for ``reconciler local status``."""
    if cluster is None:
        return "No local Kafka cluster (run `reconciler local up`)."
    state = "running" if cluster.alive else "NOT running (run `reconciler local up`)"
    lines = [
        f"Kafka {cluster.kafka_version} cluster {cluster.cluster_id}: {state}",
        f"  state dir:          {cluster.state_dir}",
        f"  bootstrap servers:  {cluster.bootstrap_servers}",
    ]
    if cluster.ssl_bootstrap_servers:
        lines.append(f"  SSL bootstrap:      {cluster.ssl_bootstrap_servers}")
        lines.append(f"  CA file:            {cluster.ca_file}")
    for b in cluster.brokers:
        ssl = f" ssl={b.ssl_port}" if b.ssl_port else ""
        alive = "up" if b.alive else "DOWN"
        lines.append(
            f"  node {b.node_id}: {b.address}{ssl} rack={b.rack} pid={b.pid} {alive}"
            f"  log={_node_dir(cluster.state_dir, b.node_id) / 'server.log'}"
        )
    return "\n".join(lines)


def status(state_dir: Path | None = None) -> LocalCluster | None:
    """The recorded cluster with per-broker liveness, or None if there is none.

    Only looks at processes (cheap, no network); use :func:`is_healthy` to ask Kafka.
    """
    loaded = _load_state(state_dir or default_state_dir())
    return None if loaded is None else loaded[0]


def is_healthy(cluster: LocalCluster, timeout: float = 5.0) -> bool:
    """True when every broker process runs and every broker sees all brokers registered."""
    if not cluster.alive:
        return False
    deadline = time.monotonic() + timeout
    while True:
        if _all_agree(cluster, _views(cluster, min(2.0, timeout))):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def up(
    state_dir: Path | None = None,
    brokers: int = 3,
    version: str = DEFAULT_KAFKA_VERSION,
    timeout: float = 120.0,
    *,
    tls: bool = False,
) -> LocalCluster:
    """Start a cluster (or return the healthy one already running from ``state_dir``).

    A recorded cluster whose processes died, or that no longer answers, is wiped and
    started afresh; a healthy one started with other arguments raises
    :class:`ClusterMismatchError` rather than being replaced. Returns only once every
    node sees every broker registered; raises :class:`LocalClusterError` with the failing
    node's log otherwise. ``tls=True`` adds an SSL listener per broker, with a certificate
    from a throw-away CA (``LocalCluster.ca_file``), so clients can verify it.
    """
    if brokers < 1:
        raise LocalClusterError(f"brokers must be at least 1, got {brokers}")
    state_dir = (state_dir or default_state_dir()).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    request = {"brokers": brokers, "version": version, "tls": tls}
    with _locked(state_dir):
        loaded = _load_state(state_dir)
        if loaded is not None:
            current, recorded_request = loaded
            if current.alive and recorded_request != request:
                how = "`reconciler local down`"
                if state_dir != default_state_dir().resolve():
                    how += f" (with RECONCILER_LOCAL_DIR={state_dir})"
                raise ClusterMismatchError(
                    f"A different local cluster is already running from {state_dir} "
                    f"({_describe_request(recorded_request)}; requested "
                    f"{_describe_request(request)}). Run {how} first."
                )
            if current.alive and is_healthy(current, timeout=min(15.0, timeout)):
                log.info("Local Kafka cluster already running: %s", current.bootstrap_servers)
                return current
            log.info("Replacing stale local cluster state in %s", state_dir)
            _stop(current)
        _wipe(state_dir)

        dist = ensure_distribution(version)
        java = find_java()
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                return _start(state_dir, dist, java, request, timeout)
            except _PortClashError:
                if attempt == attempts:
                    raise
                log.info("Port taken while starting; retrying with new ports")
                loaded = _load_state(state_dir)
                if loaded is not None:
                    _stop(loaded[0])
                _wipe(state_dir)
        raise AssertionError("unreachable")


def down(state_dir: Path | None = None, timeout: float = STOP_GRACE_SECONDS) -> bool:
    """Stop the cluster and delete its data; True if there was anything to remove.

    Brokers get SIGTERM, then SIGKILL after ``timeout`` seconds. Safe to call repeatedly.
    """
    state_dir = (state_dir or default_state_dir()).resolve()
    if not state_dir.is_dir():
        return False
    with _locked(state_dir):
        loaded = _load_state(state_dir)
        if loaded is not None:
            _stop(loaded[0], timeout)
        return _wipe(state_dir) or loaded is not None


# --------------------------------------------------------------------------- start


def _start(
    state_dir: Path, dist: Path, java: str, request: dict[str, Any], timeout: float
) -> LocalCluster:
    count = int(request["brokers"])
    tls = bool(request["tls"])
    cluster_id = _new_cluster_id()
    ports = _free_ports(count * (3 if tls else 2))
    version = distribution_version(dist) or str(request["version"])
    racks = [f"az-{(i % 3) + 1}" for i in range(count)]
    # Placeholder pids until the processes exist.
    brokers = [
        Broker(
            node_id=i + 1,
            port=ports[i],
            controller_port=ports[count + i],
            ssl_port=ports[2 * count + i] if tls else None,
            rack=racks[i],
            pid=0,
        )
        for i in range(count)
    ]
    ca_file = _make_certificates(state_dir / "tls") if tls else None
    log4j = _write_log_configs(state_dir)
    for broker in brokers:
        node_dir = _node_dir(state_dir, broker.node_id)
        (node_dir / "data").mkdir(parents=True)
        (node_dir / "server.properties").write_text(
            _server_properties(broker, brokers, node_dir, state_dir / "tls" if tls else None)
        )

    cp = classpath(dist)
    base_cmd = [java, *_jvm_opts(), *log4j, "-cp", cp]
    started = time.monotonic()
    _format_storage(base_cmd, cluster_id, [_node_dir(state_dir, b.node_id) for b in brokers])
    log.debug("Formatted storage of %d node(s) in %.1fs", count, time.monotonic() - started)
    launched: list[Broker] = []
    try:
        for broker in brokers:
            node_dir = _node_dir(state_dir, broker.node_id)
            cmd = [
                *base_cmd[:1],
                f"-Dreconciler.node={node_dir}",  # lets us recognise our own processes
                f"-Dkafka.logs.dir={node_dir}",
                *base_cmd[1:],
                "kafka.Kafka",
                str(node_dir / "server.properties"),
            ]
            pid = _spawn_detached(cmd, node_dir / "stdout.log", cwd=node_dir)
            launched.append(replace(broker, pid=pid))
    except BaseException:  # e.g. Ctrl-C before the pids are recorded: leave no orphans
        for started_broker in launched:
            with contextlib.suppress(ProcessLookupError):
                os.kill(started_broker.pid, signal.SIGKILL)
        raise

    cluster = LocalCluster(
        state_dir=state_dir,
        cluster_id=cluster_id,
        kafka_version=version,
        brokers=tuple(launched),
        bootstrap_servers=",".join(b.address for b in launched),
        ssl_bootstrap_servers=(
            ",".join(f"{b.host}:{b.ssl_port}" for b in launched) if tls else None
        ),
        ca_file=ca_file,
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    # Record pids before waiting, so a crash (or Ctrl-C) here still lets `down` clean up.
    _save_state(cluster, request, dist)
    try:
        _wait_until_ready(cluster, timeout)
    except BaseException:
        _stop(cluster, timeout=2.0)
        raise
    log.info(
        "Local Kafka %s cluster with %d broker(s) ready in %.1fs: %s",
        version,
        count,
        time.monotonic() - started,
        cluster.bootstrap_servers,
    )
    return cluster


def _jvm_opts() -> list[str]:
    custom = os.environ.get("RECONCILER_KAFKA_JVM_OPTS")
    return shlex.split(custom) if custom else list(DEFAULT_JVM_OPTS)


def _new_cluster_id() -> str:
    """Kafka's cluster-id format: URL-safe base64 of 16 random bytes, no padding."""
    while True:
        value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not value.startswith("-"):  # Kafka avoids ids that look like CLI flags
            return value


def _free_ports(count: int) -> list[int]:
    """Ask the OS for distinct free loopback ports (all held open until all are chosen)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _node_dir(state_dir: Path, node_id: int) -> Path:
    return state_dir / f"node-{node_id}"


def _server_properties(
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
            "ssl.keystore.location": tls_dir / "broker-keystore.pem",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": tls_dir / "ca.pem",
            "ssl.client.auth": "none",
        }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _write_log_configs(state_dir: Path) -> list[str]:
    """Send broker logs to ``node-<id>/server.log`` instead of stdout (3.x: log4j 1,
    4.x: log4j2); returns the JVM flags selecting them."""
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
    )
    return [f"-Dlog4j.configuration=file:{log4j}", f"-Dlog4j2.configurationFile={log4j2}"]


def _format_storage(base_cmd: Sequence[str], cluster_id: str, node_dirs: Sequence[Path]) -> None:
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
            failures.append(f"{node_dir.name}:\n{_tail(node_dir / 'format.log')}")
    if failures:
        raise LocalClusterError("Formatting Kafka storage failed:\n" + "\n".join(failures))


def _spawn_detached(cmd: Sequence[str], log_file: Path, cwd: Path) -> int:
    """Start ``cmd`` in its own session, re-parented away from us, and return its pid.

    A tiny shell backgrounds the JVM and exits, so the broker survives the CLI exiting,
    ignores the terminal's Ctrl-C, and never becomes our zombie child.
    """
    script = 'log=$1; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
    result = subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(log_file), *cmd],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
    )
    try:
        return int(result.stdout.strip())
    except ValueError as exc:
        raise LocalClusterError(f"Could not start {cmd[0]}: {result.stderr.strip()}") from exc


def _wait_until_ready(cluster: LocalCluster, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for broker in cluster.brokers:
            if not _pid_alive(broker.pid, _node_dir(cluster.state_dir, broker.node_id)):
                tail = _node_log_tail(cluster.state_dir, broker.node_id)
                if "Address already in use" in tail:  # lost a race for a picked port
                    raise _PortClashError(tail)
                raise LocalClusterError(
                    f"Kafka node {broker.node_id} exited during startup. Log tail:\n{tail}"
                )
        views = _views(cluster, 2.0)
        if _all_agree(cluster, views):
            return
        if time.monotonic() >= deadline:
            expected = {b.node_id for b in cluster.brokers}
            lagging = [n for n in sorted(expected) if views.get(n) != expected]
            seen = {n: sorted(v) if v is not None else "unreachable" for n, v in views.items()}
            tails = "\n".join(
                f"--- node {n} ---\n{_node_log_tail(cluster.state_dir, n)}" for n in lagging
            )
            raise LocalClusterError(
                f"Local Kafka cluster not ready after {timeout:.0f}s. Brokers registered, as "
                f"seen by each node: {seen}; expected {sorted(expected)}.\n{tails}"
            )
        time.sleep(0.2)


def _views(cluster: LocalCluster, timeout: float) -> dict[int, set[int] | None]:
    """Which brokers each node reports as registered (None: node not answering).

    Every node is asked, not just one: a node's metadata may lag the controller by a
    moment, and a client that happens to ask that node must still see the full cluster.
    """
    with ThreadPoolExecutor(max_workers=len(cluster.brokers)) as pool:
        views = pool.map(lambda b: _view_of(b, timeout), cluster.brokers)
        return {b.node_id: view for b, view in zip(cluster.brokers, views, strict=True)}


def _view_of(broker: Broker, timeout: float) -> set[int] | None:
    # Metadata requests (list_topics), not describe_cluster: librdkafka can abort the
    # process on an assertion when admin requests time out while a broker boots.
    try:
        socket.create_connection((broker.host, broker.port), timeout=0.5).close()
    except OSError:
        return None  # not listening yet: don't leave a request hanging in librdkafka
    # A fresh client bootstrapped with this broker only sends its first request there.
    try:
        metadata = _admin(broker.address).list_topics(timeout=timeout)
    except KafkaException:
        return None
    return {int(node_id) for node_id in metadata.brokers}


def _all_agree(cluster: LocalCluster, views: dict[int, set[int] | None]) -> bool:
    expected = {b.node_id for b in cluster.brokers}
    return all(views.get(node_id) == expected for node_id in expected)


def _admin(bootstrap_servers: str) -> AdminClient:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        # Brokers come up within seconds: retry connecting quickly, not after up to 10s.
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 500,
        "logger": _rdkafka_log,
    }
    return AdminClient(config)


# --------------------------------------------------------------------------- TLS


def _make_certificates(tls_dir: Path) -> Path:
    """A throw-away CA and one broker certificate (SAN 127.0.0.1 and localhost), as PEM
    files Kafka reads directly (``ssl.keystore.type=PEM``); returns the CA file."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise LocalClusterError("tls=True needs the `openssl` command; install OpenSSL.")
    tls_dir.mkdir(parents=True)
    config = tls_dir / "openssl.cnf"
    config.write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = reconciler-local\n"
        "[v3_ca]\nbasicConstraints = critical, CA:TRUE\n"
        "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"
        "[v3_broker]\nbasicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
    )
    ca_key, ca_pem = tls_dir / "ca.key", tls_dir / "ca.pem"
    key, csr, crt = tls_dir / "broker.key", tls_dir / "broker.csr", tls_dir / "broker.crt"
    serial = f"0x{uuid.uuid4().hex[:16]}"
    steps = [
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", ca_key],
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
        ["req", "-x509", "-new", "-key", ca_key, "-sha256", "-days", "3650",
         "-subj", "/CN=reconciler local CA", "-config", config, "-extensions", "v3_ca",
         "-out", ca_pem],
        ["req", "-new", "-key", key, "-subj", "/CN=localhost", "-config", config,
         "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", serial,
         "-days", "825", "-sha256", "-extfile", config, "-extensions", "v3_broker",
         "-out", crt],
    ]  # fmt: skip
    for step in steps:
        result = subprocess.run(
            [openssl, *map(str, step)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise LocalClusterError(
                f"openssl {step[0]} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
    keystore = tls_dir / "broker-keystore.pem"
    keystore.write_text(key.read_text() + crt.read_text() + ca_pem.read_text())
    for private in (ca_key, key, keystore):
        private.chmod(0o600)
    return ca_pem


# --------------------------------------------------------------------------- stop / state


def _stop(cluster: LocalCluster, timeout: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every broker of ours at once (controlled shutdown), SIGKILL stragglers."""
    ours = [
        b.pid
        for b in cluster.brokers
        if b.pid > 0 and _pid_alive(b.pid, _node_dir(cluster.state_dir, b.node_id))
    ]
    for pid in ours:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    remaining = ours
    while remaining and time.monotonic() < deadline:
        time.sleep(0.1)
        before = len(remaining)
        remaining = [pid for pid in remaining if _pid_running(pid)]
        if before > 1 and len(remaining) == 1:
            # The last node is the Raft leader waiting (5s, hard-coded) to hand leadership
            # to voters that are gone; the data is deleted next, so don't wait it out.
            deadline = min(deadline, time.monotonic() + LAST_NODE_GRACE_SECONDS)
    for pid in remaining:
        log.info("Kafka process %d still running after SIGTERM; killing it", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [pid for pid in remaining if _pid_running(pid)]
    if remaining:
        raise LocalClusterError(f"Kafka processes {remaining} survived SIGKILL; check `ps`.")


def _pid_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (orphans may wait for a lazy init)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _HAVE_PROC:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])
    result = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return bool(result.stdout.strip()) and not result.stdout.strip().startswith("Z")


def _pid_alive(pid: int, node_dir: Path) -> bool:
    """Whether ``pid`` is running *and* is our broker for ``node_dir`` (pids get reused)."""
    if pid <= 0 or not _pid_running(pid):
        return False
    marker = f"-Dreconciler.node={node_dir}"
    if _HAVE_PROC:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        return marker in args.split("\0")
    result = subprocess.run(
        ["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return f" {marker} " in f" {result.stdout.strip()} "


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} not found)"
    return "\n".join(content[-lines:])


def _node_log_tail(state_dir: Path, node_id: int) -> str:
    """The first error of a node's log (the cause, usually) and its last lines."""
    node_dir = _node_dir(state_dir, node_id)
    server_log = node_dir / "server.log"
    parts = []
    try:
        lines = server_log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    first_error = next((i for i, line in enumerate(lines) if "] ERROR " in line), None)
    if first_error is not None and first_error < len(lines) - LOG_TAIL_LINES:
        excerpt = "\n".join(lines[first_error : first_error + 8])
        parts.append(f"{server_log} (first error):\n{excerpt}\n...")
    parts.append(f"{server_log} (last lines):\n{_tail(server_log)}")
    stdout = node_dir / "stdout.log"
    if stdout.is_file() and stdout.stat().st_size:
        parts.append(f"{stdout}:\n{_tail(stdout, 15)}")
    return "\n".join(parts)


def _describe_request(request: dict[str, Any]) -> str:
    tls = ", TLS" if request.get("tls") else ""
    return f"{request.get('brokers')} broker(s), Kafka {request.get('version')}{tls}"


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """Serialise up/down on one state directory across processes."""
    with (state_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save_state(cluster: LocalCluster, request: dict[str, Any], dist: Path) -> None:
    data = {
        "format": STATE_FORMAT,
        "request": request,
        "distribution": str(dist),
        "cluster_id": cluster.cluster_id,
        "kafka_version": cluster.kafka_version,
        "started_at": cluster.started_at,
        "bootstrap_servers": cluster.bootstrap_servers,
        "ssl_bootstrap_servers": cluster.ssl_bootstrap_servers,
        "ca_file": str(cluster.ca_file) if cluster.ca_file else None,
        "brokers": [
            {
                "node_id": b.node_id,
                "host": b.host,
                "port": b.port,
                "controller_port": b.controller_port,
                "ssl_port": b.ssl_port,
                "rack": b.rack,
                "pid": b.pid,
            }
            for b in cluster.brokers
        ],
    }
    tmp = cluster.state_dir / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(cluster.state_dir / STATE_FILE)


def _load_state(state_dir: Path) -> tuple[LocalCluster, dict[str, Any]] | None:
    path = state_dir / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LocalClusterError(
            f"Unreadable local cluster state {path}: {exc}. "
            f"Stop any Kafka processes by hand and delete {state_dir}."
        ) from exc
    if data.get("format") != STATE_FORMAT:
        raise LocalClusterError(f"{path} was written by another reconciler version.")
    state_dir = state_dir.resolve()
    brokers = tuple(
        Broker(
            node_id=int(b["node_id"]),
            host=str(b["host"]),
            port=int(b["port"]),
            controller_port=int(b["controller_port"]),
            ssl_port=int(b["ssl_port"]) if b.get("ssl_port") else None,
            rack=str(b["rack"]),
            pid=int(b["pid"]),
            alive=_pid_alive(int(b["pid"]), _node_dir(state_dir, int(b["node_id"]))),
        )
        for b in data["brokers"]
    )
    cluster = LocalCluster(
        state_dir=state_dir,
        cluster_id=str(data["cluster_id"]),
        kafka_version=str(data["kafka_version"]),
        brokers=brokers,
        bootstrap_servers=str(data["bootstrap_servers"]),
        started_at=str(data["started_at"]),
        ssl_bootstrap_servers=data.get("ssl_bootstrap_servers"),
        ca_file=Path(data["ca_file"]) if data.get("ca_file") else None,
    )
    return cluster, dict(data["request"])


def _wipe(state_dir: Path) -> bool:
    """Delete what ``up`` created -- only known names, never arbitrary files, in case the
    state dir was pointed somewhere shared by mistake. True if anything was removed."""
    removed = False
    for entry in state_dir.iterdir():
        ours = entry.name in {STATE_FILE, f".{STATE_FILE}.tmp", "tls"} or (
            entry.name in {"log4j.properties", "log4j2.properties"}
            or (entry.name.startswith("node-") and entry.name[5:].isdigit())
        )
        if not ours:
            continue
        removed = True
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return removed
