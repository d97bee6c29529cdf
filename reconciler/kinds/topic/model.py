"""The Topic kind's values: desired topics with the environment's ownership, live topics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.clients.topics import APIS, UNNAMED_SOURCE, Abilities
from reconciler.core.configs.topic import TOPIC_CONFIGS
from reconciler.core.model import Location
from reconciler.core.ownership import is_internal, matcher, matches

KIND = "Topic"
#: Kafka's name for a topic's own override (DescribeConfigs `source`).
TOPIC_OVERRIDE = "DYNAMIC_TOPIC_CONFIG"
#: The topic configs that name the replicas a replication throttle applies to.
THROTTLED_REPLICAS = (
    "leader.replication.throttled.replicas",
    "follower.replication.throttled.replicas",
)
#: The broker configs that set a replication throttle's rate (bytes per second).
THROTTLE_RATES = ("leader.replication.throttled.rate", "follower.replication.throttled.rate")
#: Replication throttle per broker while replicas move, unless the Environment says otherwise.
DEFAULT_THROTTLE = 50 * 1024 * 1024


def collision_key(name: str) -> str:
    """Kafka refuses two topics whose names differ only by '.' vs '_' (their metrics collide)."""
    return name.replace(".", "_")


@dataclass(frozen=True)
class TopicNames:
    """Every topic a cluster lists, owned or not, and each by its collision key: a topic an
    environment creates may collide with any of them. Made once per Metadata read and shared
    by every environment planned from it (`Clients.derived`)."""

    names: frozenset[str]
    by_key: Mapping[str, str]

    @classmethod
    def of(cls, names: Iterable[str]) -> TopicNames:
        listed = tuple(names)  # in the cluster's order: of two that collide, the last is named
        return cls(frozenset(listed), {collision_key(name): name for name in listed})

    def colliding(self, name: str) -> str | None:
        """The listed topic Kafka would confuse `name` with, or None."""
        return self.by_key.get(collision_key(name))


@dataclass(frozen=True)
class TopicSpec:
    """A desired topic; config values are already in Kafka's canonical string form."""

    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)
    location: Location | None = None


@dataclass(frozen=True)
class TopicPolicy:
    """What the reviewed specs allow for topics (`spec.policy` of the Environment)."""

    allow_delete: bool = False
    min_replication_factor: int = 1
    max_partitions: int | None = None


@dataclass(frozen=True)
class PlacementPolicy:
    """Where replicas live (`spec.placement` of the Environment)."""

    #: None: on when the brokers report racks.
    rack_aware: bool | None = None
    balance: bool = False
    #: Bytes per second per broker while replicas move; None: no throttle.
    throttle: int | None = DEFAULT_THROTTLE


@dataclass(frozen=True)
class Topics:
    """The Topic kind's desired state: the topics, and which others the environment owns."""

    topics: Mapping[str, TopicSpec] = field(default_factory=dict)
    manage: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    policy: TopicPolicy = field(default_factory=TopicPolicy)
    placement: PlacementPolicy = field(default_factory=PlacementPolicy)

    def owns(self, name: str) -> bool:
        """Declared topics are always managed; others only when the ownership globs claim
        them. Internal and ignored topics never are."""
        return bool(self.owned((name,)))

    def owned(self, names: Iterable[str]) -> list[str]:
        """The names `owns` claims, in their order: one pass of the compiled globs over a
        cluster's names (an environment planned beside others sifts all of theirs)."""
        ignored, managed, declared = matcher(self.ignore), matcher(self.manage), self.topics
        return [
            name
            for name in names
            if not is_internal(name) and not ignored(name) and (name in declared or managed(name))
        ]

    def allows(self, name: str) -> bool:
        """Whether a spec may declare `name`: not internal, not ignored, and matching
        topics.manage where there is one (without it, any declared topic is owned)."""
        if is_internal(name) or matches(name, self.ignore):
            return False
        return not self.manage or matches(name, self.manage)

    def only(self, names: set[str]) -> Topics:
        """The same ownership, narrowed to some declared topics (apply's read-back)."""
        kept = {n: t for n, t in self.topics.items() if n in names}
        return Topics(kept, self.manage, self.ignore, self.policy, self.placement)


@dataclass(frozen=True)
class ObservedConfig:
    """One topic config as the broker reports it.

    `inherited` is the value the topic would have without its own override (the next synonym
    below DYNAMIC_TOPIC_CONFIG), which is what removing an override changes the value to.
    """

    value: str | None
    source: str
    sensitive: bool = False
    inherited: str | None = None

    @property
    def is_override(self) -> bool:
        return self.source == TOPIC_OVERRIDE

    def may_be_own(self, name: str) -> bool:
        """An override, or (where the API names no sources) a value other than Kafka's
        default: what `import` declares, since declaring a value a topic has plans nothing."""
        if self.is_override or self.source != UNNAMED_SOURCE:
            return self.is_override
        definition = TOPIC_CONFIGS.get(name)
        return definition is None or definition.default != self.value


@dataclass(frozen=True)
class ObservedTopic:
    """A live topic: its shape, replica placement and every config with its source."""

    name: str
    partitions: int
    replication_factor: int
    replicas: Mapping[int, tuple[int, ...]]
    configs: Mapping[str, ObservedConfig]


@dataclass(frozen=True)
class Moving:
    """A partition the controller is reassigning: from `original` to `target` replicas."""

    original: tuple[int, ...]
    target: tuple[int, ...]


@dataclass(frozen=True)
class ObservedPlacement:
    """The replica-placement state beside the topics: reassignments in flight (every topic's:
    state the plan must not fight), throttle rates set on brokers, and the sizes of the
    partitions a plan would move (bytes; None when the cluster refused DescribeLogDirs)."""

    moving: Mapping[str, Mapping[int, Moving]] = field(default_factory=dict)
    broker_throttles: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    sizes: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    sizes_refused: str | None = None


@dataclass(frozen=True)
class ObservedTopics:
    """The managed live topics with their configs, the names of every live topic (unmanaged
    ones too: a new name may collide with them), the broker defaults a new topic inherits
    for what it does not declare, and the placement state.

    Only the topics the environment owns are read and held: one of twenty environments on a
    cluster of 5,000 topics holds its own 250, not 5,000.
    """

    topics: Mapping[str, ObservedTopic]
    defaults: Mapping[str, str] = field(default_factory=dict)
    placement: ObservedPlacement = field(default_factory=ObservedPlacement)
    #: The topic API that read them (`clients.topics.APIS`): what a plan can ask of it.
    api: str = "kafka"
    #: Every topic the cluster lists, `topics` and the others; None: `topics` are all there
    #: are (a snapshot taken before observations kept only the owned topics).
    names: TopicNames | None = None

    @property
    def abilities(self) -> Abilities:
        return APIS[self.api]

    @property
    def listed(self) -> TopicNames:
        """Every live topic's name (`names`, else those of `topics`)."""
        return self.names if self.names is not None else TopicNames.of(self.topics)
