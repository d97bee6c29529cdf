"""The effective specs of an environment (includes, defaults and overrides applied), as YAML."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.model import Desired


def _number_or_text(value: str) -> int | str:
    """Show 604800000 as a number, keep 'compact,delete' or '0.5' as Kafka writes them."""
    return int(value) if value.lstrip("-").isdigit() else value


def effective_documents(desired: Desired) -> list[dict[str, Any]]:
    env = desired.environment
    environment: dict[str, Any] = {
        "apiVersion": "reconciler/v1",
        "kind": "Environment",
        "metadata": {"name": env.name},
        "spec": {
            "kafka": {
                "bootstrapServers": env.connection.bootstrap_servers,
                "securityProtocol": env.connection.security_protocol,
            },
            "topics": {"manage": list(env.managed_topics), "ignore": list(env.ignored_topics)},
            "policy": {
                "allowDelete": env.policy.allow_delete,
                "minReplicationFactor": env.policy.min_replication_factor,
            },
        },
    }
    documents = [environment]
    for topic in desired.topics.values():
        metadata: dict[str, Any] = {"name": topic.name}
        if topic.labels:
            metadata["labels"] = dict(topic.labels)
        documents.append(
            {
                "apiVersion": "reconciler/v1",
                "kind": "Topic",
                "metadata": metadata,
                "spec": {
                    "partitions": topic.partitions,
                    "replicationFactor": topic.replication_factor,
                    "config": {k: _number_or_text(v) for k, v in topic.config.items()},
                },
            }
        )
    return documents


def render_effective(desired: Desired) -> str:
    sources = ", ".join(desired.files)
    header = f"# effective specs of {desired.environment.directory} (from: {sources})\n"
    body = yaml.safe_dump_all(effective_documents(desired), sort_keys=False, explicit_start=True)
    return header + body
