"""The `kind: Environment` document -> the core Environment: where and how to connect.

Each kind reads its own sections of the document (`spec.topics`, `spec.policy`) itself.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.core.environment import Connection, Environment, MskRef
from reconciler.specs.yaml_source import Document

KIND = "Environment"
SCHEMA = "environment.schema.json"
#: Connection fields whose lines an error about them points at.
_LOCATED = ("bootstrapServers", "securityProtocol", "caFile", "sasl.username", "sasl.password")


def parse_environment(doc: Document) -> Environment:
    """A schema-valid Environment document as values (`${VAR}` references still in place)."""
    spec = doc.data["spec"]
    kafka = spec["kafka"]
    sasl = kafka.get("sasl") or {}
    msk = spec.get("msk")
    return Environment(
        name=doc.data["metadata"]["name"],
        directory=str(Path(doc.file).parent),
        connection=Connection(
            bootstrap_servers=kafka.get("bootstrapServers", ""),
            security_protocol=kafka.get("securityProtocol", "SSL"),
            ca_file=kafka.get("caFile"),
            verify_hostname=kafka.get("verifyHostname", True),
            sasl_mechanism=sasl.get("mechanism"),
            sasl_username=sasl.get("username"),
            sasl_password=sasl.get("password"),
            timeout_seconds=float(kafka.get("timeoutSeconds", 15)),
            api=kafka.get("api", "kafka"),
        ),
        msk=MskRef(msk.get("region"), msk.get("clusterName"), msk.get("clusterArn"))
        if msk
        else None,
        locations={name: doc.location(("spec", "kafka", *name.split("."))) for name in _LOCATED},
    )
