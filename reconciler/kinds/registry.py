"""The resource kinds, in the order they apply: the MSK cluster before what lives in it.

Adding a kind: its folder under kinds/, its schema under schemas/, and one line here.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import Kind
from reconciler.kinds.msk_cluster.kind import KIND as MSK_CLUSTER
from reconciler.kinds.topic.kind import KIND as TOPIC

KINDS: tuple[Kind[Any, Any], ...] = (MSK_CLUSTER, TOPIC)
BY_NAME: dict[str, Kind[Any, Any]] = {kind.name: kind for kind in KINDS}
