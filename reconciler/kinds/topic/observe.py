"""Read the live topics: the only reader, and a batched one.

No per-topic round trips: one Metadata request for every topic, DescribeConfigs for the
managed topics in pipelined batches, and one for a broker (the values a topic falls back to
when an override is removed: confluent-kafka keys synonyms by name, which loses the
broker-level entry, so the broker is read directly).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reconciler.clients.topics import Keep
from reconciler.core.cluster import ClusterView
from reconciler.core.configs.topic import TOPIC_CONFIGS, canonical_observed
from reconciler.core.environment import Environment
from reconciler.core.errors import ReconcilerError
from reconciler.core.polling import attempts
from reconciler.kinds.base import SETTLE_SECONDS, Mode
from reconciler.kinds.topic.model import (
    TOPIC_OVERRIDE,
    Moving,
    ObservedConfig,
    ObservedPlacement,
    ObservedTopic,
    ObservedTopics,
    TopicNames,
    Topics,
)
from reconciler.kinds.topic.placement import plan_moves

if TYPE_CHECKING:
    from reconciler.clients.session import Clients
    from reconciler.clients.topics import ConfigValue, TopicAdmin, TopicMetadata

#: Broker synonyms in coarser units than the topic config they feed (log.retention.hours...).
_SYNONYM_SCALE = {".hours": 3_600_000, ".minutes": 60_000}
#: Broker defaults a plan checks new topics against (acks=all needs min ISR <= RF).
INHERITED_DEFAULTS = ("min.insync.replicas",)


def inherited_value(name: str, broker: Mapping[str, str] | None) -> str | None:
    """What `name` falls back to without a topic override: the first broker synonym that is
    set (log.retention.ms before .minutes before .hours), else Kafka's default. None when
    the broker's configs could not be read."""
    definition = TOPIC_CONFIGS.get(name)
    if definition is None or broker is None:
        return None
    for synonym in definition.broker_synonyms:
        value = broker.get(synonym)
        if value is None:
            continue
        for suffix, scale in _SYNONYM_SCALE.items():
            if synonym.endswith(suffix) and int(value) > 0:
                value = str(int(value) * scale)
        return canonical_observed(name, value)
    return definition.default


def _kept(key: str, source: str, declared: Collection[str]) -> bool:
    """What a plan can use of a topic's configs: its own overrides and its declared keys."""
    return source == TOPIC_OVERRIDE or key in declared


def _keep(declared: Callable[[str], Collection[str]]) -> Keep:
    """`_kept` as the rule a client applies while the entries arrive (the same two terms:
    the sources kept whatever the key, and each topic's declared keys)."""
    return Keep(frozenset({TOPIC_OVERRIDE}), declared)


def topic_configs(
    entries: Mapping[str, ConfigValue],
    broker: Mapping[str, str] | None,
    declared: Collection[str] = (),
) -> dict[str, ObservedConfig]:
    """DescribeConfigs entries -> canonical observed configs (pure, unit-testable).

    Keeps what a plan can use: the topic's own overrides and the keys its spec declares.
    Inherited values of undeclared keys can never be drift, so converting and holding all
    ~36 configs of every topic would only cost time and memory at 10,000 topics.
    """
    return {
        name: ObservedConfig(
            value=None if entry.sensitive else canonical_observed(name, entry.value),
            source=entry.source,
            sensitive=entry.sensitive,
            inherited=inherited_value(name, broker) if entry.source == TOPIC_OVERRIDE else None,
        )
        for name, entry in entries.items()
        if _kept(name, entry.source, declared)
    }


def _converted(
    kept: Iterator[tuple[str, dict[str, ConfigValue] | None]],
    wanted: Mapping[str, Collection[str]],
    broker: Mapping[str, str] | None,
) -> dict[str, dict[str, ObservedConfig]]:
    return {
        name: topic_configs(entries, broker, wanted[name])
        for name, entries in kept
        if entries is not None and name in wanted
    }


def _describe(
    admin: TopicAdmin,
    wanted: Mapping[str, Collection[str]],
    broker: Mapping[str, str] | None,
) -> dict[str, dict[str, ObservedConfig]]:
    """The configs of `wanted` topics (name -> declared keys); topics the broker does not
    know are left out."""
    kept = admin.topic_configs(wanted, _keep(wanted.__getitem__))
    return _converted(kept, wanted, broker)


@dataclass(frozen=True)
class _Sent:
    """DescribeConfigs sent before what comes back is needed: before the specs were loaded
    (of the topics the ownership globs claim), or before the broker's own configs arrive.
    `declared` holds each topic's declared keys by the time the answers are read (and
    filtered by it): a plan fills it once the specs are loaded."""

    names: frozenset[str]
    declared: dict[str, Collection[str]]
    answers: Iterator[tuple[str, dict[str, ConfigValue] | None]]


def _send(admin: TopicAdmin, names: Collection[str], declared: dict[str, Collection[str]]) -> _Sent:
    """DescribeConfigs of `names` on their way (Kafka's API sends the first requests now)."""
    answers = admin.topic_configs(names, _keep(lambda topic: declared.get(topic, ())))
    return _Sent(frozenset(names), declared, answers)


def _read_lagging(
    admin: TopicAdmin,
    wanted: Mapping[str, Collection[str]],
    configs: dict[str, dict[str, ObservedConfig]],
    broker: Mapping[str, str] | None,
) -> None:
    """Topics listed by Metadata whose configs came back UNKNOWN_TOPIC_OR_PART: either deleted
    in between (gone from Metadata too) or answered by a broker that has not learned of them
    yet (a topic created moments ago). Ask again until each is one or the other."""
    missing = [name for name in wanted if name not in configs]
    if not missing:
        return
    for attempt in attempts(admin.timeout, 0.2):
        if attempt.number > 1:
            configs.update(_describe(admin, {n: wanted[n] for n in missing}, broker))
            missing = [name for name in missing if name not in configs]
        listed = admin.topic_metadata(missing)
        missing = [name for name in missing if name in listed]  # the rest were deleted
        if not missing:
            return
    raise ReconcilerError(
        f"the brokers list {len(missing)} topic(s) (e.g. {missing[0]!r}) but cannot "
        f"describe them after {admin.timeout:g}s; the cluster may be changing. Try again"
    )


def topic_names(cluster: ClusterView, metadata: TopicMetadata) -> TopicNames:
    """Every listed topic's name and collision key (`Clients.derived`: once per cluster read)."""
    return TopicNames.of(metadata)


def observe_with(
    admin: TopicAdmin,
    desired: Topics,
    metadata: TopicMetadata,
    config_broker: int | None,
    *,
    only: Collection[str] | None = None,
    every_config: bool = False,
    names: TopicNames | None = None,
) -> ObservedTopics:
    """Topics, partitions, replica placement and configs of every topic this plan depends on.

    `metadata` is the Metadata `admin` answered. `only` narrows it to some topics (apply's
    verification reads back just what it changed). `every_config` keeps all configs (a
    snapshot must serve specs that declare more later). `config_broker` is the broker whose
    own configs give inherited values; a client meant to ask one broker passes that broker,
    so it never opens a second connection that librdkafka could route topic requests through.
    `names`: `topic_names` of `metadata`, when already made.
    """
    listed = metadata if only is None else {n: metadata[n] for n in only if n in metadata}
    wanted = _wanted(desired, listed, every_config)
    sent = _send(admin, wanted, dict(wanted))  # on their way while the broker's are read
    broker = admin.broker_configs(config_broker) if config_broker is not None else None
    if names is None or only is not None:
        names = TopicNames.of(listed)
    return _observed(admin, listed, broker, wanted, names, sent=sent)


def _wanted(
    desired: Topics, listed: Mapping[str, object], every_config: bool
) -> dict[str, Collection[str]]:
    """The owned topics, in the Metadata's order, each with the config keys it keeps (only
    they are read and held: the others are names, for the collision check)."""
    declared = desired.topics
    return {
        name: TOPIC_CONFIGS if every_config else (declared[name].config if name in declared else ())
        for name in desired.owned(listed)
    }


def _observed(
    admin: TopicAdmin,
    listed: TopicMetadata,
    broker: Mapping[str, str] | None,
    wanted: Mapping[str, Collection[str]],
    names: TopicNames,
    *,
    sent: _Sent | None = None,
) -> ObservedTopics:
    """The `wanted` (owned) topics of `listed`, with their configs, beside every name."""
    configs: dict[str, dict[str, ObservedConfig]] = {}
    if sent is not None:
        sent.declared.update(wanted)
        configs.update(_converted(sent.answers, wanted, broker))
    rest = {n: keys for n, keys in wanted.items() if sent is None or n not in sent.names}
    configs.update(_describe(admin, rest, broker))
    _read_lagging(admin, wanted, configs, broker)
    topics: dict[str, ObservedTopic] = {}
    for name in wanted:
        if name not in configs:
            continue  # deleted since the Metadata call: it no longer exists
        replicas = listed[name]
        topics[name] = ObservedTopic(
            name=name,
            partitions=len(replicas),
            replication_factor=min((len(r) for r in replicas.values()), default=0),
            replicas=replicas,
            configs=configs[name],
        )
    inherited = {key: inherited_value(key, broker) for key in INHERITED_DEFAULTS}
    defaults = {key: value for key, value in inherited.items() if value is not None}
    return ObservedTopics(topics, defaults, api=admin.abilities.key, names=names)


def read_moving(clients: Clients) -> dict[str, dict[int, Moving]]:
    """Reassignments in flight in the whole cluster (ListPartitionReassignments).

    While a partition moves, Metadata lists its old and new replicas together, so the
    Metadata a plan reads must be newer than the listing: a move that finishes in between
    then shows its target, which the plan waits for (observe reads Metadata again when
    anything moves).
    """
    moving: dict[str, dict[int, Moving]] = {}
    for (topic, partition), flight in clients.replicas().reassignments().items():
        moving.setdefault(topic, {})[partition] = Moving(flight.original, flight.target)
    return moving


def read_placement(
    clients: Clients, cluster: ClusterView, moving: dict[str, dict[int, Moving]]
) -> ObservedPlacement:
    """The reassignments read before, and the throttle rates set on each broker."""
    throttles = clients.replicas().broker_throttles(b.node_id for b in cluster.brokers)
    return ObservedPlacement(moving=moving, broker_throttles=throttles)


def with_sizes(
    clients: Clients, desired: Topics, observed: ObservedTopics, cluster: ClusterView
) -> ObservedTopics:
    """The sizes of the partitions the plan moves (DescribeLogDirs), for its estimate; a
    cluster that refuses DescribeLogDirs gives a plan that says so."""
    moving = {
        name
        for name, topic in plan_moves(desired, observed, cluster).items()
        if any(set(m.after) - set(m.before) for m in topic.moves)
    }
    if not moving:
        return observed
    try:
        found = clients.replicas().sizes(moving, (b.node_id for b in cluster.brokers))
    except ReconcilerError as exc:
        placement = replace(observed.placement, sizes_refused=str(exc))
        return replace(observed, placement=placement)
    sizes: dict[str, dict[int, int]] = {}
    for (topic, partition), size in found.items():
        sizes.setdefault(topic, {})[partition] = size
    return replace(observed, placement=replace(observed.placement, sizes=sizes))


def _lowest(cluster: ClusterView) -> int | None:
    return min((b.node_id for b in cluster.brokers), default=None)


def _with_placement(
    clients: Clients,
    desired: Topics,
    observed: ObservedTopics,
    cluster: ClusterView,
    moving: dict[str, dict[int, Moving]],
) -> ObservedTopics:
    observed = replace(observed, placement=read_placement(clients, cluster, moving))
    return with_sizes(clients, desired, observed, cluster)


def observe(
    clients: Clients, environment: Environment, desired: Topics, mode: Mode
) -> ObservedTopics:
    """The Topic kind's observation; an agreed one waits until every broker says the same.

    Inherited values come from the lowest broker id's own configs. The placement state
    (reassignments, throttles, sizes of what would move) is read once, beside the topics,
    where the topic API can read it.
    """
    cluster, metadata = clients.cluster()
    admin = clients.topics()
    placed = admin.abilities.moves_replicas
    moving = read_moving(clients) if placed else {}
    if moving:  # Metadata newer than the listing: a move finished in between shows its target
        metadata = admin.topic_metadata()
    if mode is Mode.AGREED and admin.abilities.per_broker:
        from reconciler.kinds.topic.verify import agreed

        observed = agreed(clients, desired, settle_seconds=SETTLE_SECONDS)
    else:
        every = mode is Mode.SNAPSHOT
        names = None if moving else clients.derived(topic_names)
        observed = observe_with(
            admin, desired, metadata, _lowest(cluster), every_config=every, names=names
        )
    return _with_placement(clients, desired, observed, cluster, moving) if placed else observed


def prepare(
    clients: Clients, environment: Environment, claimed: Topics, mode: Mode
) -> Callable[[Topics], ObservedTopics]:
    """`observe`'s reads that need only the Environment, sent while the specs load:
    Metadata, DescribeCluster, the reassignments, the broker's configs, and the first
    DescribeConfigs of the topics the ownership globs claim (`claimed`: the Environment's
    ownership, no declared topic). The rest (declared topics outside the globs, the keys
    each keeps, the placement) waits for the specs. An agreed observation (a saved plan)
    is read whole afterwards.
    """
    if mode is Mode.AGREED:
        return lambda desired: observe(clients, environment, desired, mode)
    cluster, metadata = clients.cluster()
    admin = clients.topics()
    placed = admin.abilities.moves_replicas
    moving = read_moving(clients) if placed else {}
    if moving:
        metadata = admin.topic_metadata()
    names = TopicNames.of(metadata) if moving else clients.derived(topic_names)
    first = _lowest(cluster)
    broker = admin.broker_configs(first) if first is not None else None
    sent = _send(admin, claimed.owned(metadata), {})

    def finish(desired: Topics) -> ObservedTopics:
        wanted = _wanted(desired, metadata, mode is Mode.SNAPSHOT)
        observed = _observed(admin, metadata, broker, wanted, names, sent=sent)
        return _with_placement(clients, desired, observed, cluster, moving) if placed else observed

    return finish
