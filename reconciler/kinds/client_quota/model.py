"""The ClientQuota kind's values: quotas per entity, desired and live.

An entity is Kafka's: a user, a client id, both, or a default (`<default>`, None on the
wire). A change is named by its entity (`user=orders, client-id=orders-producer`), which
`entity_of` reads back, so a saved plan applies to exactly the entity it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.clients.access import Entity
from reconciler.core.model import Location
from reconciler.core.ownership import matches
from reconciler.kinds.access import AccessScope

KIND = "ClientQuota"
DEFAULT = "<default>"
#: Spec key -> Kafka's quota key.
KEYS = {
    "producerByteRate": "producer_byte_rate",
    "consumerByteRate": "consumer_byte_rate",
    "requestPercentage": "request_percentage",
    "controllerMutationRate": "controller_mutation_rate",
}
_SPEC_KEYS = {kafka: spec for spec, kafka in KEYS.items()}
_CLIENT = ", client-id="


def spec_key(kafka_key: str) -> str:
    return _SPEC_KEYS.get(kafka_key, kafka_key)


def label(entity: Entity) -> str:
    return ", ".join(f"{kind}={DEFAULT if name is None else name}" for kind, name in entity)


def entity_of(name: str) -> Entity:
    """The inverse of `label` (for the user and client-id entities the kind manages)."""
    pairs: list[tuple[str, str | None]] = []
    if name.startswith("user="):
        user, _, client = name.removeprefix("user=").partition(_CLIENT)
        pairs.append(("user", None if user == DEFAULT else user))
        if _CLIENT in name:
            pairs.append(("client-id", None if client == DEFAULT else client))
    else:
        client = name.removeprefix("client-id=")
        pairs.append(("client-id", None if client == DEFAULT else client))
    return tuple(pairs)


@dataclass(frozen=True)
class ClientQuotas:
    """Declared quotas (Kafka keys, numbers) per entity, with the Environment's ownership."""

    quotas: Mapping[Entity, Mapping[str, float]] = field(default_factory=dict)
    scope: AccessScope = field(default_factory=AccessScope)
    locations: Mapping[Entity, Location] = field(default_factory=dict)

    def owns(self, entity: Entity) -> bool:
        if entity in self.quotas:
            return True
        names = dict(entity)
        user, client = names.get("user"), names.get("client-id")
        if user is not None and self.scope.owns(f"User:{user}"):
            return True
        return client is not None and matches(client, self.scope.client_ids)

    @property
    def active(self) -> bool:
        return bool(self.quotas) or self.scope.active


@dataclass(frozen=True)
class QuotaEntry:
    """One entity's live quotas; `entity` is its label (`entity_of` reads it back)."""

    entity: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class ObservedQuotas:
    """Every user and client-id entity's quotas (one DescribeClientQuotas)."""

    quotas: tuple[QuotaEntry, ...] = ()

    def by_entity(self) -> dict[Entity, dict[str, float]]:
        return {entity_of(e.entity): dict(e.values) for e in self.quotas}
