"""The live topics as desired topics, for `import`: the first plan after it is empty.

Each topic keeps its partitions, its replication factor and only its own overrides (what it
inherits from the brokers stays inherited). Internal topics are never imported. A sensitive
override cannot be read back, so it is left out and said.

With shared defaults, a value most imported topics have (as an override or by inheritance)
moves to the Environment's `topics.defaults`, and stays exact: a topic with another value
declares it, also where that value is inherited (declaring what a topic already has plans
nothing).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from reconciler.core.environment import Environment
from reconciler.kinds.base import Discovered, Selection
from reconciler.kinds.topic.documents import readable
from reconciler.kinds.topic.model import ObservedTopic, ObservedTopics, Topics, TopicSpec
from reconciler.kinds.topic.observe import observe_with

if TYPE_CHECKING:
    from reconciler.clients.session import Clients


def _overrides(topic: ObservedTopic) -> dict[str, str]:
    return {
        key: c.value
        for key, c in sorted(topic.configs.items())
        if c.may_be_own(key) and not c.sensitive and c.value is not None
    }


def adopt(observed: ObservedTopics, owner: Topics) -> tuple[Topics, list[str]]:
    """Desired topics equal to the live ones the owner claims (pure)."""
    topics: dict[str, TopicSpec] = {}
    warnings = []
    for name, topic in sorted(observed.topics.items()):
        if not owner.owns(name):
            continue
        secret = sorted(k for k, c in topic.configs.items() if c.is_override and c.sensitive)
        if secret:
            warnings.append(
                f"{name}: the brokers do not reveal {', '.join(secret)}; not imported: add "
                "them to the spec yourself"
            )
        topics[name] = TopicSpec(
            name, topic.partitions, topic.replication_factor, _overrides(topic)
        )
    return Topics(topics, owner.manage, owner.ignore, owner.policy), warnings


def _majority(values: list[Any]) -> Any | None:
    """The value more than half share, if one does."""
    if not values:
        return None
    value, count = Counter(values).most_common(1)[0]
    return value if count * 2 > len(values) else None


def factor_defaults(desired: Topics, observed: ObservedTopics) -> tuple[Topics, dict[str, Any]]:
    """Move what most topics share into `topics.defaults`, keeping every topic exact (pure).

    A config moves only when some topic overrides it (otherwise the brokers' value already is
    everybody's); topics with another effective value then declare theirs.
    """
    specs = list(desired.topics.values())
    defaults: dict[str, Any] = {}
    effective: dict[str, dict[str, str]] = {
        s.name: {
            key: c.value
            for key, c in observed.topics[s.name].configs.items()
            if c.value is not None
        }
        for s in specs
    }
    config_defaults: dict[str, str] = {}
    for key in sorted({k for s in specs for k in s.config}):
        shared = _majority([effective[s.name].get(key) for s in specs])
        if shared is not None:
            config_defaults[key] = shared
    factored = {}
    for spec in specs:
        config = {k: v for k, v in spec.config.items() if config_defaults.get(k) != v}
        for key, value in config_defaults.items():
            mine = effective[spec.name].get(key)
            if mine is not None and mine != value:
                config[key] = mine  # declared, so the default does not change it
        factored[spec.name] = TopicSpec(
            spec.name, spec.partitions, spec.replication_factor, dict(sorted(config.items()))
        )
    if config_defaults:
        defaults["config"] = {k: readable(k, v) for k, v in config_defaults.items()}
    return Topics(factored, desired.manage, desired.ignore, desired.policy), defaults


def discover(
    clients: Clients, environment: Environment, selection: Selection
) -> Discovered[Topics]:
    """The topics `selection` claims, read with every config and its source."""
    owner = Topics(manage=selection.select, ignore=selection.exclude)
    cluster, metadata = clients.cluster()
    first = min((b.node_id for b in cluster.brokers), default=None)
    observed = observe_with(clients.topics(), owner, metadata, first, every_config=True)
    desired, warnings = adopt(observed, owner)
    if not selection.factor_defaults:
        return Discovered(desired, tuple(warnings))
    factored, defaults = factor_defaults(desired, observed)
    return Discovered(factored, tuple(warnings), {"topics": {"defaults": defaults}})
