"""Client quotas behind one facade (DescribeClientQuotas, AlterClientQuotas).

librdkafka has neither call; kafka-python 3.x has their protocol classes, so `QuotaAdmin`
sends them through kafka-python's connection manager on the same connection settings as
`clients.replicas.ReplicaAdmin` (one client library importer for both), returning plain
values and one result per entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafka import errors as kafka_errors
from kafka.protocol.admin import AlterClientQuotasRequest, DescribeClientQuotasRequest

from reconciler.clients.access import Entity
from reconciler.clients.replicas import admin_client, error_name
from reconciler.core.environment import Connection
from reconciler.core.errors import ReconcilerError

#: The entity types the ClientQuota kind manages.
_MANAGED = ("user", "client-id")
#: AlterClientQuotas entity type order: how Kafka keys an entity (user, then client-id).
_ORDER = {"user": 0, "client-id": 1, "ip": 2}


def _entity(pairs: Any) -> Entity:
    found = ((str(e.entity_type), e.entity_name) for e in pairs)
    return tuple(sorted(found, key=lambda pair: _ORDER.get(pair[0], 9)))


def _coded(code: int, message: str | None) -> str:
    return f"{kafka_errors.for_code(code).__name__}: {message}"


class QuotaAdmin:
    """Every client quota of the cluster in one request; changes in one request."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.admin = admin_client(conn, "client quotas")

    def _send(self, request: Any) -> Any:
        manager = self.admin._manager  # kafka-python's own way to send a request it lacks
        try:
            return manager.run(manager.send, request)
        except kafka_errors.KafkaError as exc:
            raise ReconcilerError(
                f"{type(request).__name__.removesuffix('Request')} failed: {error_name(exc)}. "
                "What to do: check that the brokers are up and that the reconciler's principal "
                "may DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster"
            ) from exc

    def quotas(self) -> dict[Entity, dict[str, float]]:
        """Every user and client-id entity's quotas (user+client-id and defaults too): one
        DescribeClientQuotas with no component, not strict (every entity); IP entities are
        left out (the kind does not manage them)."""
        request = DescribeClientQuotasRequest(components=[], strict=False)
        response = self._send(request)
        if response.error_code:
            text = _coded(response.error_code, response.error_message)
            raise ReconcilerError(f"DescribeClientQuotas failed: {text}")
        found: dict[Entity, dict[str, float]] = {}
        for entry in response.entries or ():
            entity = _entity(entry.entity)
            if all(kind in _MANAGED for kind, _ in entity):
                found[entity] = {v.key: float(v.value) for v in entry.values}
        return found

    def alter(
        self, changes: Mapping[Entity, Mapping[str, float | None]], *, validate_only: bool = False
    ) -> dict[Entity, str | None]:
        """Set (a value) or remove (None) quota keys per entity; one result per entity."""
        if not changes:
            return {}
        entry = AlterClientQuotasRequest.EntryData
        request = AlterClientQuotasRequest(
            entries=[
                entry(
                    entity=[entry.EntityData(entity_type=t, entity_name=n) for t, n in entity],
                    ops=[
                        entry.OpData(key=k, value=0.0 if v is None else float(v), remove=v is None)
                        for k, v in ops.items()
                    ],
                )
                for entity, ops in changes.items()
            ],
            validate_only=validate_only,
        )
        response = self._send(request)
        results: dict[Entity, str | None] = {}
        for item in response.entries:
            error = _coded(item.error_code, item.error_message) if item.error_code else None
            results[_entity(item.entity)] = error
        return results

    def close(self) -> None:
        self.admin.close()
