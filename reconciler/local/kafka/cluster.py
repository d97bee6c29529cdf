"""Run a real multi-broker Apache Kafka cluster (KRaft, combined mode) on loopback.

Used by ``reconciler local up|down|status`` and by the test suite. Each node is one JVM
acting as both broker and controller (half the processes of split mode, which matters on
small machines), started detached so the cluster outlives the command that started it;
what was started is recorded in the state directory (:mod:`.state`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import os
import secrets
import shlex
import signal
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from reconciler.core.polling import attempts
from reconciler.local.kafka import processes
from reconciler.local.kafka.certificates import make_certificates
from reconciler.local.kafka.distribution import (
    DEFAULT_KAFKA_VERSION,
    cache_dir,
    classpath,
    distribution_version,
    ensure_distribution,
    find_java,
)
from reconciler.local.kafka.errors import ClusterMismatchError, LocalClusterError, PortClashError
from reconciler.local.kafka.node_config import (
    SCRAM_USER,
    format_storage,
    server_properties,
    write_log_configs,
)
from reconciler.local.kafka.processes import STOP_GRACE_SECONDS, node_marker, spawn_detached, tail
from reconciler.local.kafka.state import (
    HOST,
    Broker,
    LocalCluster,
    load_state,
    locked,
    node_dir,
    save_state,
    wipe,
)

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

log = logging.getLogger(__name__)
_rdkafka_log = logging.getLogger(__name__ + ".librdkafka")
# Connection-refused noise while brokers boot is expected; keep it out of the terminal
# unless the application configured logging itself.
_rdkafka_log.addHandler(logging.NullHandler())


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
            f"  log={node_dir(cluster.state_dir, b.node_id) / 'server.log'}"
        )
    return "\n".join(lines)


def status(state_dir: Path | None = None) -> LocalCluster | None:
    """The recorded cluster with per-broker liveness, or None if there is none.

    Only looks at processes (cheap, no network); use :func:`is_healthy` to ask Kafka.
    """
    loaded = load_state(state_dir or default_state_dir())
    return None if loaded is None else loaded[0]


def is_healthy(cluster: LocalCluster, timeout: float = 5.0) -> bool:
    """True when every broker process runs and every broker sees all brokers registered."""
    if not cluster.alive:
        return False
    for _ in attempts(timeout, 0.2):
        if _all_agree(cluster, _views(cluster, min(2.0, timeout))):
            return True
    return False


def up(
    state_dir: Path | None = None,
    brokers: int = 3,
    version: str = DEFAULT_KAFKA_VERSION,
    timeout: float = 120.0,
    *,
    tls: bool = False,
    racks: int = 3,
    sasl: bool = False,
) -> LocalCluster:
    """Start a cluster (or return the healthy one already running from ``state_dir``).

    A recorded cluster whose processes died, or that no longer answers, is wiped and
    started afresh; a healthy one started with other arguments raises
    :class:`ClusterMismatchError` rather than being replaced. Returns only once every
    node sees every broker registered; raises :class:`LocalClusterError` with the failing
    node's log otherwise. ``tls=True`` adds an SSL listener per broker, with a certificate
    from a throw-away CA (``LocalCluster.ca_file``), so clients can verify it. Brokers are
    spread round-robin over ``racks`` racks (``az-1``, ``az-2``, ...), like MSK's brokers
    over its AZs: 4 brokers over 3 racks put brokers 1 and 4 in ``az-1``. ``sasl=True``
    adds a SASL/SCRAM-SHA-512 listener (SASL_SSL with ``tls``) with one SCRAM user and Kafka's
    StandardAuthorizer (``node_config.sasl_properties``), as an MSK cluster with SCRAM has.
    """
    if brokers < 1:
        raise LocalClusterError(f"brokers must be at least 1, got {brokers}")
    if racks < 1:
        raise LocalClusterError(f"racks must be at least 1, got {racks}")
    state_dir = (state_dir or default_state_dir()).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    request: dict[str, Any] = {"brokers": brokers, "version": version, "tls": tls}
    if racks != 3:  # recorded only when not the default, so older records still match
        request["racks"] = racks
    if sasl:  # only then, so clusters recorded before SASL existed still match
        request["sasl"] = True
    with locked(state_dir):
        loaded = load_state(state_dir)
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
        wipe(state_dir)

        dist = ensure_distribution(version)
        java = find_java()
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                return _start(state_dir, dist, java, request, timeout)
            except PortClashError:
                if attempt == attempts:
                    raise
                log.info("Port taken while starting; retrying with new ports")
                loaded = load_state(state_dir)
                if loaded is not None:
                    _stop(loaded[0])
                wipe(state_dir)
        raise AssertionError("unreachable")


def down(state_dir: Path | None = None, timeout: float = STOP_GRACE_SECONDS) -> bool:
    """Stop the cluster and delete its data; True if there was anything to remove.

    Brokers get SIGTERM, then SIGKILL after ``timeout`` seconds. Safe to call repeatedly.
    """
    state_dir = (state_dir or default_state_dir()).resolve()
    if not state_dir.is_dir():
        return False
    with locked(state_dir):
        loaded = load_state(state_dir)
        if loaded is not None:
            _stop(loaded[0], timeout)
        return wipe(state_dir) or loaded is not None


# --------------------------------------------------------------------------- start


def _start(
    state_dir: Path, dist: Path, java: str, request: dict[str, Any], timeout: float
) -> LocalCluster:
    count = int(request["brokers"])
    tls = bool(request["tls"])
    sasl = bool(request.get("sasl"))
    cluster_id = _new_cluster_id()
    ports = _free_ports(count * (2 + tls + sasl))
    sasl_ports = ports[(2 + tls) * count :] if sasl else [None] * count
    version = distribution_version(dist) or str(request["version"])
    racks = [f"az-{(i % int(request.get('racks', 3))) + 1}" for i in range(count)]
    # Placeholder pids until the processes exist.
    brokers = [
        Broker(
            node_id=i + 1,
            port=ports[i],
            controller_port=ports[count + i],
            ssl_port=ports[2 * count + i] if tls else None,
            sasl_port=sasl_ports[i],
            rack=racks[i],
            pid=0,
        )
        for i in range(count)
    ]
    ca_file = make_certificates(state_dir / "tls") if tls else None
    log4j = write_log_configs(state_dir)
    for broker in brokers:
        directory = node_dir(state_dir, broker.node_id)
        (directory / "data").mkdir(parents=True)
        (directory / "server.properties").write_text(
            server_properties(broker, brokers, directory, state_dir / "tls" if tls else None)
        )

    cp = classpath(dist)
    base_cmd = [java, *_jvm_opts(), *log4j, "-cp", cp]
    started = time.monotonic()
    scram_user = (SCRAM_USER, secrets.token_urlsafe(18)) if sasl else None
    node_dirs = [node_dir(state_dir, b.node_id) for b in brokers]
    format_storage(base_cmd, cluster_id, node_dirs, scram_user)
    log.debug("Formatted storage of %d node(s) in %.1fs", count, time.monotonic() - started)
    launched: list[Broker] = []
    try:
        for broker in brokers:
            directory = node_dir(state_dir, broker.node_id)
            cmd = [
                *base_cmd[:1],
                node_marker(directory),  # lets us recognise our own processes
                f"-Dkafka.logs.dir={directory}",
                *base_cmd[1:],
                "kafka.Kafka",
                str(directory / "server.properties"),
            ]
            pid = spawn_detached(cmd, directory / "stdout.log", cwd=directory)
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
        sasl_bootstrap_servers=(
            ",".join(f"{b.host}:{b.sasl_port}" for b in launched) if sasl else None
        ),
        sasl_username=scram_user[0] if scram_user else None,
        sasl_password=scram_user[1] if scram_user else None,
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    # Record pids before waiting, so a crash (or Ctrl-C) here still lets `down` clean up.
    save_state(cluster, request, dist)
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


def _wait_until_ready(cluster: LocalCluster, timeout: float) -> None:
    views: dict[int, set[int] | None] = {}
    for _ in attempts(timeout, 0.2):
        for broker in cluster.brokers:
            if not processes.pid_alive(broker.pid, node_dir(cluster.state_dir, broker.node_id)):
                log_tail = _node_log_tail(cluster.state_dir, broker.node_id)
                if "Address already in use" in log_tail:  # lost a race for a picked port
                    raise PortClashError(log_tail)
                raise LocalClusterError(
                    f"Kafka node {broker.node_id} exited during startup. Log tail:\n{log_tail}"
                )
        views = _views(cluster, 2.0)
        if _all_agree(cluster, views):
            return
    expected = {b.node_id for b in cluster.brokers}
    lagging = [n for n in sorted(expected) if views.get(n) != expected]
    seen = {n: sorted(v) if v is not None else "unreachable" for n, v in views.items()}
    tails = "\n".join(f"--- node {n} ---\n{_node_log_tail(cluster.state_dir, n)}" for n in lagging)
    raise LocalClusterError(
        f"Local Kafka cluster not ready after {timeout:.0f}s. Brokers registered, as "
        f"seen by each node: {seen}; expected {sorted(expected)}.\n{tails}"
    )


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


# --------------------------------------------------------------------------- stop


def _stop(cluster: LocalCluster, timeout: float = STOP_GRACE_SECONDS) -> None:
    processes.stop(
        [(b.pid, node_dir(cluster.state_dir, b.node_id)) for b in cluster.brokers], timeout
    )


def _node_log_tail(state_dir: Path, node_id: int) -> str:
    """The first error of a node's log (the cause, usually) and its last lines."""
    directory = node_dir(state_dir, node_id)
    server_log = directory / "server.log"
    parts = []
    try:
        lines = server_log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    first_error = next((i for i, line in enumerate(lines) if "] ERROR " in line), None)
    if first_error is not None and first_error < len(lines) - processes.LOG_TAIL_LINES:
        excerpt = "\n".join(lines[first_error : first_error + 8])
        parts.append(f"{server_log} (first error):\n{excerpt}\n...")
    parts.append(f"{server_log} (last lines):\n{tail(server_log)}")
    stdout = directory / "stdout.log"
    if stdout.is_file() and stdout.stat().st_size:
        parts.append(f"{stdout}:\n{tail(stdout, 15)}")
    return "\n".join(parts)


def _describe_request(request: dict[str, Any]) -> str:
    tls = ", TLS" if request.get("tls") else ""
    racks = f", {request['racks']} racks" if "racks" in request else ""
    sasl = ", SASL/SCRAM" if request.get("sasl") else ""
    return f"{request.get('brokers')} broker(s){racks}, Kafka {request.get('version')}{tls}{sasl}"
