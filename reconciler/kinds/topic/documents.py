"""Topics as spec documents again: the inverse of loading, for `show` and `import`."""

from __future__ import annotations

from typing import Any

from reconciler.core import units
from reconciler.core.configs.topic import SPECIAL_VALUES, TOPIC_CONFIGS
from reconciler.kinds.base import SpecDocument
from reconciler.kinds.topic.model import KIND, Topics
from reconciler.specs.documents import document, natural


def readable(key: str, value: str) -> Any:
    """A canonical config value as a person writes it, parsing back to the same value:
    604800000 -> "7d", 1073741824 -> "1GiB", "compact,delete" -> [compact, delete], -1 stays."""
    definition = TOPIC_CONFIGS.get(key)
    if definition is None or value in SPECIAL_VALUES.get(key, {}):
        return natural(value)
    if definition.type == "list":
        return value.split(",") if value else []
    if definition.unit is not None and value.isdigit() and int(value) > 0:
        number = int(value)
        text = (
            units.format_duration_ms(number)
            if definition.unit == "ms"
            else units.format_bytes(number)
        )
        return number if text.endswith(("ms", "B")) and not text.endswith("iB") else text
    return natural(value)


def to_documents(desired: Topics, readable_values: bool) -> list[SpecDocument]:
    """Configs keep Kafka's canonical text, numbers shown as numbers; readable: in units."""
    show = readable if readable_values else (lambda key, value: _number(value))
    return [
        document(
            KIND,
            topic.name,
            {
                "partitions": topic.partitions,
                "replicationFactor": topic.replication_factor,
                "config": {k: show(k, v) for k, v in topic.config.items()},
            },
            topic.labels,
        )
        for topic in desired.topics.values()
    ]


def _number(value: str) -> int | str:
    number = units.integer(value)
    return value if number is None else number
