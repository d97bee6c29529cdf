"""Topics as spec documents again: the inverse of loading, for `show` and `import`."""

from __future__ import annotations

from reconciler.kinds.base import SpecDocument
from reconciler.kinds.topic.model import KIND, Topics
from reconciler.specs.documents import document


def to_documents(desired: Topics) -> list[SpecDocument]:
    """Configs keep Kafka's canonical text; numbers are shown as numbers."""
    return [
        document(
            KIND,
            topic.name,
            {
                "partitions": topic.partitions,
                "replicationFactor": topic.replication_factor,
                "config": {
                    k: int(v) if v.lstrip("-").isdigit() else v for k, v in topic.config.items()
                },
            },
            topic.labels,
        )
        for topic in desired.topics.values()
    ]
