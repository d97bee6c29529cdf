"""ClientQuota documents -> quotas per entity, byte rates in bytes per second. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.clients.access import Entity
from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location
from reconciler.core.units import UnitError, parse_size_bytes
from reconciler.kinds.access import scope
from reconciler.kinds.base import Loading
from reconciler.kinds.client_quota.model import DEFAULT, KEYS, ClientQuotas, label
from reconciler.specs.yaml_source import Document

_RATES = ("producerByteRate", "consumerByteRate")


def _entity(spec: dict[str, object]) -> Entity:
    pairs: list[tuple[str, str | None]] = []
    for key, kind in (("user", "user"), ("clientId", "client-id")):
        if key in spec:
            name = str(spec[key])
            pairs.append((kind, None if name == DEFAULT else name))
    return tuple(pairs)


def load(documents: Sequence[Document], loading: Loading) -> tuple[ClientQuotas, list[SpecProblem]]:
    owned = scope(loading)
    problems: list[SpecProblem] = []
    quotas: dict[Entity, dict[str, float]] = {}
    locations: dict[Entity, Location] = {}
    for doc in documents:
        spec = doc.data["spec"]
        entity = _entity(spec)
        where = doc.location(("spec",))
        if entity in quotas:
            problems.append(
                SpecProblem(
                    where,
                    "spec",
                    f"{label(entity)} has quotas in two documents",
                    f"keep one; the other is at {locations[entity]}",
                )
            )
            continue
        user = dict(entity).get("user")
        if user is not None and not owned.owns(f"User:{user}", (f"User:{user}",)):
            problems.append(
                SpecProblem(
                    where,
                    "spec.user",
                    f"User:{user} matches access.ignore",
                    "an ignored principal is never changed: remove the document or the pattern",
                )
            )
            continue
        values: dict[str, float] = {}
        for key, value in spec["quotas"].items():
            if key in _RATES:
                try:
                    values[KEYS[key]] = float(parse_size_bytes(value))
                except UnitError as exc:
                    problems.append(
                        SpecProblem(
                            doc.location(("spec", "quotas", key)), f"spec.quotas.{key}", str(exc)
                        )
                    )
                    continue
            else:
                values[KEYS[key]] = float(value)
        quotas[entity] = values
        locations[entity] = where
    return ClientQuotas(quotas, owned, locations), problems
