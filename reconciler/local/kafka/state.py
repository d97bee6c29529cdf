"""The local cluster as recorded in its state directory, which outlives the command that
started it.

One directory holds everything: ``cluster.json`` (ports, pids, ids, what was asked for),
``node-<id>/`` (config, data, logs) and ``tls/`` (certificates, when enabled). Liveness is
read from the processes when the record is loaded, so a record never claims a dead broker.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.local.kafka.errors import LocalClusterError
from reconciler.local.kafka.processes import pid_alive

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
"""The contract with specs: ``specs/local`` refers to ``${KAFKA_BOOTSTRAP_SERVERS}``."""
SSL_BOOTSTRAP_ENV = "KAFKA_SSL_BOOTSTRAP_SERVERS"
CA_FILE_ENV = "KAFKA_SSL_CA_FILE"

HOST = "127.0.0.1"
STATE_FILE = "cluster.json"
LOCK_FILE = ".lock"
STATE_FORMAT = 1


@dataclass(frozen=True)
class Broker:
    """One combined broker+controller JVM."""

    node_id: int
    port: int
    controller_port: int
    rack: str
    pid: int
    ssl_port: int | None = None
    #: The SASL/SCRAM listener (SASL_SSL with TLS, else SASL_PLAINTEXT), when started with it.
    sasl_port: int | None = None
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
    sasl_bootstrap_servers: str | None = None
    """SASL/SCRAM-SHA-512 listeners, when started with ``sasl=True``: SASL_SSL with TLS."""
    sasl_username: str | None = None
    #: The SCRAM user's password: a throw-away one, for the local cluster only.
    sasl_password: str | None = None

    @property
    def sasl_protocol(self) -> str:
        return "SASL_SSL" if self.ssl_bootstrap_servers else "SASL_PLAINTEXT"

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


def node_dir(state_dir: Path, node_id: int) -> Path:
    return state_dir / f"node-{node_id}"


@contextlib.contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Serialise up/down on one state directory across processes."""
    with (state_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_state(cluster: LocalCluster, request: dict[str, Any], dist: Path) -> None:
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
        "sasl_bootstrap_servers": cluster.sasl_bootstrap_servers,
        "sasl_username": cluster.sasl_username,
        "sasl_password": cluster.sasl_password,
        "brokers": [
            {
                "node_id": b.node_id,
                "host": b.host,
                "port": b.port,
                "controller_port": b.controller_port,
                "ssl_port": b.ssl_port,
                "sasl_port": b.sasl_port,
                "rack": b.rack,
                "pid": b.pid,
            }
            for b in cluster.brokers
        ],
    }
    tmp = cluster.state_dir / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(cluster.state_dir / STATE_FILE)


def load_state(state_dir: Path) -> tuple[LocalCluster, dict[str, Any]] | None:
    """The recorded cluster and the request that started it, or None if there is none."""
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
            sasl_port=int(b["sasl_port"]) if b.get("sasl_port") else None,
            rack=str(b["rack"]),
            pid=int(b["pid"]),
            alive=pid_alive(int(b["pid"]), node_dir(state_dir, int(b["node_id"]))),
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
        sasl_bootstrap_servers=data.get("sasl_bootstrap_servers"),
        sasl_username=data.get("sasl_username"),
        sasl_password=data.get("sasl_password"),
    )
    return cluster, dict(data["request"])


def wipe(state_dir: Path) -> bool:
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
