"""The effective specs of an environment (includes, defaults and overrides applied), as YAML:
the Environment, then every kind's documents in registry order."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.engine.model import Desired
from reconciler.kinds.registry import KINDS
from reconciler.specs import environment as env_kind
from reconciler.specs.documents import document


def effective_documents(desired: Desired) -> list[dict[str, Any]]:
    env = desired.environment
    spec: dict[str, Any] = {
        "kafka": {
            "bootstrapServers": env.connection.bootstrap_servers,
            "securityProtocol": env.connection.security_protocol,
        }
    }
    for kind in KINDS:  # kinds may share a section (policy): merge, do not replace
        for key, value in kind.environment_section(desired.kinds[kind.name]).items():
            spec[key] = {**spec.get(key, {}), **value} if isinstance(value, dict) else value
    documents = [document(env_kind.KIND, env.name, spec)]
    for kind in KINDS:
        documents.extend(kind.to_documents(desired.kinds[kind.name], False))
    return documents


def render_effective(desired: Desired) -> str:
    sources = ", ".join(desired.files)
    header = f"# effective specs of {desired.environment.directory} (from: {sources})\n"
    body = yaml.safe_dump_all(effective_documents(desired), sort_keys=False, explicit_start=True)
    return header + body
