"""The resource kinds, in the order they apply: the MSK cluster before what lives in it, and
the checks that look across kinds. SCRAM users come before the ACLs that name them.

Adding a kind: its folder under kinds/, its schema under schemas/, and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.kinds import capacity
from reconciler.kinds.acl.kind import KIND as ACL
from reconciler.kinds.base import Context, Kind
from reconciler.kinds.client_quota.kind import KIND as CLIENT_QUOTA
from reconciler.kinds.msk_cluster.kind import KIND as MSK_CLUSTER
from reconciler.kinds.scram_user.kind import KIND as SCRAM_USER
from reconciler.kinds.topic.kind import KIND as TOPIC

KINDS: tuple[Kind[Any, Any], ...] = (MSK_CLUSTER, TOPIC, SCRAM_USER, ACL, CLIENT_QUOTA)
BY_NAME: dict[str, Kind[Any, Any]] = {kind.name: kind for kind in KINDS}

#: Pure checks over every kind's desired state (by kind name), each returning plan warnings.
Check = Callable[[Mapping[str, Any], Context], list[str]]
CHECKS: tuple[Check, ...] = (capacity.check,)
