"""The benchmark's topics and environment directories. Pure apart from writing files.

Every topic exists twice: as Kafka strings (what a bare confluent-kafka CreateTopics sends)
and as the YAML a user would write (durations and sizes with units, lists for
cleanup.policy), with the same values, so a cluster made from the first plans empty against
the second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

MAIN_PREFIX = "bench"
"""Topics of the size-N environment: ``bench-00001`` ... (managed by ``bench-*``)."""
APPLY_PREFIX = "benchapply"
"""Topics that ``apply`` creates: ``benchapply-00001`` ... (not matched by ``bench-*``)."""
ENVIRONMENT_PREFIX = "benchenv"
"""Environments of the many-environments measurement, ``benchenv01`` ..., each owning its
``benchenv01-*`` topics."""
TOPICS_PER_FILE = 500
NAME_DIGITS = 5

_DAY_MS = 86_400_000


@dataclass(frozen=True)
class ConfigValue:
    """One config override: Kafka's string, and the value as written in the spec YAML."""

    kafka: str
    spec: object


@dataclass(frozen=True)
class BenchTopic:
    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, ConfigValue]

    def kafka_config(self) -> dict[str, str]:
        """The overrides as confluent-kafka's NewTopic takes them."""
        return {key: value.kafka for key, value in self.config.items()}


def topic_name(prefix: str, index: int) -> str:
    return f"{prefix}-{index:0{NAME_DIGITS}d}"


# Realistic value pools; each pair is (Kafka's string, how a spec writes it).
_RETENTION: tuple[tuple[str, object], ...] = (
    (str(7 * _DAY_MS), "7d"),
    (str(_DAY_MS), _DAY_MS),
    (str(3 * _DAY_MS), "3d"),
    (str(12 * 3_600_000), "12h"),
)
_COMPRESSION = ("lz4", "zstd", "snappy", "gzip")


def config_mix(index: int) -> dict[str, ConfigValue]:
    """A deterministic mix of overrides: about a third of the topics set retention.ms, a
    fifth cleanup.policy, a quarter compression.type, some min.insync.replicas and
    retention.bytes; roughly a quarter have no override at all."""
    config: dict[str, ConfigValue] = {}
    if index % 3 == 0:
        kafka, spec = _RETENTION[(index // 3) % len(_RETENTION)]
        config["retention.ms"] = ConfigValue(kafka, spec)
    if index % 10 == 1:
        config["cleanup.policy"] = ConfigValue("compact", "compact")
    elif index % 10 == 6:
        config["cleanup.policy"] = ConfigValue("compact,delete", ["delete", "compact"])
    if index % 4 == 2:
        codec = _COMPRESSION[(index // 4) % len(_COMPRESSION)]
        config["compression.type"] = ConfigValue(codec, codec)
    if index % 7 == 3:  # as on the seed cluster: RF 2, min ISR 1
        config["min.insync.replicas"] = ConfigValue("1", 1)
    if index % 8 == 5:
        config["retention.bytes"] = ConfigValue(str(1 << 30), "1GiB")
    return config


def make_topics(
    count: int,
    *,
    prefix: str = MAIN_PREFIX,
    partitions: int = 1,
    replication_factor: int = 1,
) -> list[BenchTopic]:
    """``count`` topics named ``<prefix>-00001`` and up, with the config mix."""
    return [
        BenchTopic(
            name=topic_name(prefix, index),
            partitions=partitions,
            replication_factor=replication_factor,
            config=config_mix(index),
        )
        for index in range(1, count + 1)
    ]


def with_changed_retention(topic: BenchTopic) -> BenchTopic:
    """The same topic with a retention.ms no topic of the mix has (9 days)."""
    changed = dict(topic.config)
    changed["retention.ms"] = ConfigValue(str(9 * _DAY_MS), "9d")
    return replace(topic, config=changed)


def _scalar(value: object) -> str:
    """JSON is valid YAML flow syntax: quoting every scalar this way is always safe."""
    return json.dumps(value)


def topic_document(topic: BenchTopic) -> str:
    lines = [
        "apiVersion: reconciler/v1",
        "kind: Topic",
        "metadata:",
        f"  name: {_scalar(topic.name)}",
        "spec:",
        f"  partitions: {topic.partitions}",
        f"  replicationFactor: {topic.replication_factor}",
    ]
    if topic.config:
        lines.append("  config:")
        lines.extend(f"    {key}: {_scalar(value.spec)}" for key, value in topic.config.items())
    return "\n".join(lines) + "\n"


def topics_file(topics: Sequence[BenchTopic]) -> str:
    """Several Topic documents in one multi-document YAML file."""
    return "---\n".join(topic_document(t) for t in topics)


def environment_document(
    name: str, bootstrap_servers: str, manage: Sequence[str], timeout_seconds: float = 120.0
) -> str:
    return "\n".join(
        [
            "apiVersion: reconciler/v1",
            "kind: Environment",
            "metadata:",
            f"  name: {_scalar(name)}",
            "spec:",
            "  kafka:",
            f"    bootstrapServers: {_scalar(bootstrap_servers)}",
            "    securityProtocol: PLAINTEXT",
            f"    timeoutSeconds: {timeout_seconds:g}",
            "  topics:",
            f"    manage: {_scalar(list(manage))}",
            "  policy:",
            "    allowDelete: false",
            "",
        ]
    )


def env_files(
    name: str,
    bootstrap_servers: str,
    manage: Sequence[str],
    topics: Sequence[BenchTopic],
    *,
    per_file: int = TOPICS_PER_FILE,
    timeout_seconds: float = 120.0,
) -> dict[str, str]:
    """File name -> content of an environment directory: the Environment and the topics,
    ``per_file`` topics to a file."""
    files = {
        "environment.yaml": environment_document(name, bootstrap_servers, manage, timeout_seconds)
    }
    for number, start in enumerate(range(0, len(topics), per_file), 1):
        files[f"topics-{number:03d}.yaml"] = topics_file(topics[start : start + per_file])
    return files


def write_env_dir(directory: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``files`` into ``directory``, leaving unchanged files alone and removing YAML
    files that are not in ``files``; returns the paths that were (re)written."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.yaml"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for file_name, content in files.items():
        path = directory / file_name
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
