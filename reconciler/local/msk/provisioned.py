"""The checks MSK makes on a cluster's settings (via `reconciler.kinds.msk_cluster.rules`),
on the field values of the table in `reconciler.kinds.msk_cluster.fields`: `read_wire`'s for a
stored cluster, or the ones an update would leave.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.fields import BY_PATH, Enabled, get_in, operation_fields
from reconciler.local.msk.wire import Json


def security(fields: Mapping[str, Any]) -> rules.Security:
    return rules.Security(
        client_broker=str(fields["encryption.inTransit.clientBroker"]),
        in_cluster=bool(fields["encryption.inTransit.inCluster"]),
        unauthenticated=bool(fields["clientAuthentication.unauthenticated"]),
        tls=bool(fields["clientAuthentication.tls.certificateAuthorityArns"]),
        scram=bool(fields["clientAuthentication.sasl.scram"]),
        iam=bool(fields["clientAuthentication.sasl.iam"]),
    )


def security_problems(fields: Mapping[str, Any]) -> list[str]:
    return rules.security_problems(security(fields))


def logging_problem(request: Json) -> str | None:
    """A log destination turned on without its target, in a request's LoggingInfo
    (CreateClusterV2's or UpdateMonitoring's): the table would read it as off."""
    for field in operation_fields("UpdateMonitoring"):
        codec, path = field.codec, field.request_path
        if isinstance(codec, Enabled) and path:
            entry = get_in(request, path) or {}
            if entry.get("Enabled") and not entry.get(codec.member):
                return f"{path.rpartition('.')[2]} broker logs need {codec.member} when enabled"
    return None


def sent(request: Json, field: str, *, update: bool = False) -> Any:
    """A field's value in a request as sent, before the table's codec reads it: at its update
    request path with `update`, else where DescribeClusterV2 holds it (for what a request may
    carry though its operation does not take it)."""
    row = BY_PATH[field]
    return get_in(request, str(row.request_path if update else row.wire))
