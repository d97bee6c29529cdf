"""The plain values the access kinds (Acl, ScramUser, ClientQuota) get from the clients.

Kafka's own names, upper case as the protocol spells them (`READ`, `PREFIXED`), so a value
read from the brokers and one built from a spec compare equal. Importing this module loads
no client library.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Kafka's wildcard: a principal (`User:*`), a host or a literal resource name.
WILDCARD = "*"


@dataclass(frozen=True, order=True)
class AclEntry:
    """One ACL binding: who may (or may not) do what on which resource pattern, from where."""

    principal: str  # User:orders-service
    resource_type: str  # TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, DELEGATION_TOKEN
    resource_name: str
    pattern_type: str  # LITERAL, PREFIXED
    operation: str  # READ, WRITE, DESCRIBE, ...
    permission: str  # ALLOW, DENY
    host: str = WILDCARD


@dataclass(frozen=True, order=True)
class ScramCredential:
    """A user's SCRAM credential as the broker reports it: never the password (the broker
    keeps only a salted hash), so a password change cannot be seen from here."""

    user: str
    mechanism: str  # SCRAM-SHA-256, SCRAM-SHA-512
    iterations: int


@dataclass(frozen=True)
class ScramUpsert:
    """A credential to set; `password` is resolved at apply time and never rendered."""

    user: str
    mechanism: str
    iterations: int
    password: str

    def __repr__(self) -> str:  # keep the password out of tracebacks and logs
        return f"ScramUpsert({self.user!r}, {self.mechanism!r}, {self.iterations})"


#: A client quota's entity: (entity type, name) pairs, user before client-id; a name of None
#: is the type's default entity (Kafka's `<default>`).
Entity = tuple[tuple[str, str | None], ...]
#: The quota keys the kind manages (Kafka's names), each a float on the wire.
QUOTA_KEYS = (
    "producer_byte_rate",
    "consumer_byte_rate",
    "request_percentage",
    "controller_mutation_rate",
)
