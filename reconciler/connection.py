"""From an Environment's `kafka:` settings to a configured AdminClient.

`${VAR}` references are expanded here, at connect time, so offline commands need no variables.
TLS certificates and host names are verified unless the specs say otherwise.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from confluent_kafka.admin import AdminClient

from reconciler import __version__
from reconciler.errors import SpecError, SpecProblem
from reconciler.model import Connection, Environment

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
LIBRDKAFKA_LOG = logging.getLogger("reconciler.librdkafka")
# librdkafka retries noisily while a broker is down; keep that off the terminal (the errors
# are summarised in the failure message instead) unless `reconciler -v` asks for it.
LIBRDKAFKA_LOG.setLevel(logging.WARNING)
LIBRDKAFKA_LOG.propagate = False


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand ${VAR} and ${VAR:-default}; returns the text and the names that were unset."""
    missing: list[str] = []

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(one, text), missing


def resolve(environment: Environment, environ: Mapping[str, str] | None = None) -> Connection:
    """The environment's connection with every ${VAR} expanded; unset variables are errors."""
    env = os.environ if environ is None else environ
    conn = environment.connection
    problems: list[SpecProblem] = []
    values: dict[str, str | None] = {}
    fields = {
        "bootstrapServers": ("bootstrap_servers", conn.bootstrap_servers),
        "caFile": ("ca_file", conn.ca_file),
        "sasl.username": ("sasl_username", conn.sasl_username),
        "sasl.password": ("sasl_password", conn.sasl_password),
    }
    for spec_field, (attr, raw) in fields.items():
        if raw is None:
            continue
        value, missing = expand(raw, env)
        for name in missing:
            hint = (
                'for the local cluster run: eval "$(reconciler local up)"'
                if name == "KAFKA_BOOTSTRAP_SERVERS"
                else f"export {name}=... before running"
            )
            problems.append(
                SpecProblem(
                    environment.locations.get(spec_field),
                    f"spec.kafka.{spec_field}",
                    f"environment variable {name} is not set",
                    hint,
                )
            )
        values[attr] = value
    if problems:
        raise SpecError(problems)
    return replace(conn, **values)  # type: ignore[arg-type]


def client_config(conn: Connection) -> dict[str, Any]:
    """librdkafka settings: bounded timeouts, verified TLS, quiet logs routed to `logging`."""
    timeout_ms = int(conn.timeout_seconds * 1000)
    config: dict[str, Any] = {
        "bootstrap.servers": conn.bootstrap_servers,
        "security.protocol": conn.security_protocol,
        "client.id": f"msk-reconciler/{__version__}",
        "socket.timeout.ms": max(timeout_ms, 10),
        "socket.connection.setup.timeout.ms": max(timeout_ms, 1000),
        "logger": LIBRDKAFKA_LOG,
    }
    if "SSL" in conn.security_protocol:
        config["enable.ssl.certificate.verification"] = True
        config["ssl.ca.location"] = conn.ca_file or "probe"
        config["ssl.endpoint.identification.algorithm"] = (
            "https" if conn.verify_hostname else "none"
        )
    if conn.sasl_mechanism:
        config["sasl.mechanism"] = conn.sasl_mechanism
        config["sasl.username"] = conn.sasl_username or ""
        config["sasl.password"] = conn.sasl_password or ""
    return config


def admin_client(conn: Connection) -> AdminClient:
    return AdminClient(client_config(conn))
