"""Acl documents -> the Kafka ACL bindings they mean. Pure.

Per principal, the way teams think (Strimzi KafkaUser, JulieOps): `topics` it may read
(READ and DESCRIBE), write (WRITE and DESCRIBE) or describe; `groups` it consumes in (READ);
`transactionalIds` (WRITE and DESCRIBE); and plain `acls` in Strimzi's form for the rest.
Several documents may name one principal: their bindings add up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.clients.access import WILDCARD, AclEntry
from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location
from reconciler.kinds.access import scope
from reconciler.kinds.acl.model import Acls
from reconciler.kinds.base import Loading
from reconciler.specs.yaml_source import Document

#: What each word of `topics[].access` grants on the topic.
TOPIC_ACCESS = {
    "read": ("READ", "DESCRIBE"),
    "write": ("WRITE", "DESCRIBE"),
    "describe": ("DESCRIBE",),
}
#: Plain `acls[].resource.type` -> Kafka's resource type.
RESOURCE_TYPES = {
    "topic": "TOPIC",
    "group": "GROUP",
    "cluster": "CLUSTER",
    "transactionalId": "TRANSACTIONAL_ID",
}
#: The one name of the cluster resource.
CLUSTER_NAME = "kafka-cluster"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def operation(name: str) -> str:
    """Strimzi's `DescribeConfigs` -> Kafka's `DESCRIBE_CONFIGS`."""
    return _CAMEL.sub("_", name).upper()


def _pattern(item: Mapping[str, Any]) -> tuple[str, str]:
    """A `{name}` or `{prefix}` item -> (resource name, pattern type)."""
    if "prefix" in item:
        return str(item["prefix"]), "PREFIXED"
    return str(item["name"]), "LITERAL"


def _bindings(doc: Document, problems: list[SpecProblem]) -> list[AclEntry]:
    spec = doc.data["spec"]
    principal: str = spec["principal"]
    host: str = spec.get("host", WILDCARD)
    found: list[AclEntry] = []

    def add(
        resource: str,
        pattern: tuple[str, str],
        operations: Sequence[str],
        allow: str = "ALLOW",
        at: str = WILDCARD,
    ) -> None:
        name, pattern_type = pattern
        found.extend(
            AclEntry(principal, resource, name, pattern_type, op, allow, at) for op in operations
        )

    for item in spec.get("topics") or ():
        operations = dict.fromkeys(op for word in item["access"] for op in TOPIC_ACCESS[word])
        add("TOPIC", _pattern(item), list(operations), at=host)
    for item in spec.get("groups") or ():
        add("GROUP", _pattern(item), ["READ"], at=host)
    for item in spec.get("transactionalIds") or ():
        add("TRANSACTIONAL_ID", _pattern(item), ["WRITE", "DESCRIBE"], at=host)
    for index, item in enumerate(spec.get("acls") or ()):
        resource = item["resource"]
        kind = RESOURCE_TYPES[resource["type"]]
        name = resource.get("name")
        where = ("spec", "acls", index, "resource")
        if kind == "CLUSTER":
            if name not in (None, CLUSTER_NAME):
                problems.append(
                    _problem(
                        doc,
                        where,
                        f"the cluster resource is named {CLUSTER_NAME!r}",
                        f"leave name out, or write {CLUSTER_NAME}",
                    )
                )
                continue
            name = CLUSTER_NAME
        elif name is None:
            problems.append(
                _problem(
                    doc,
                    where,
                    f"a {resource['type']} resource needs a name",
                    "name the resource, or `*` for every one (flagged in the plan)",
                )
            )
            continue
        pattern_type = "PREFIXED" if resource.get("patternType") == "prefixed" else "LITERAL"
        allow = "DENY" if item.get("type") == "deny" else "ALLOW"
        add(
            kind,
            (name, pattern_type),
            [operation(op) for op in item["operations"]],
            allow,
            item.get("host", host),
        )
    return found


def _problem(doc: Document, path: tuple[str | int, ...], message: str, hint: str) -> SpecProblem:
    return SpecProblem(doc.location(path), ".".join(map(str, path)), message, hint)


def load(documents: Sequence[Document], loading: Loading) -> tuple[Acls, list[SpecProblem]]:
    owned = scope(loading)
    problems: list[SpecProblem] = []
    bindings: set[AclEntry] = set()
    locations: dict[str, Location] = {}
    for doc in documents:
        principal = doc.data["spec"]["principal"]
        locations.setdefault(principal, doc.location(("spec", "principal")))
        if not owned.owns(principal, (principal,)):
            problems.append(
                _problem(
                    doc,
                    ("spec", "principal"),
                    f"{principal} matches access.ignore",
                    "an ignored principal is never changed: remove the document or the pattern",
                )
            )
            continue
        bindings.update(_bindings(doc, problems))
    return Acls(tuple(sorted(bindings)), tuple(sorted(locations)), owned, locations), problems
