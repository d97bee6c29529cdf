"""Engine-level values for unit tests: a plan from some kinds' desired and observed state."""

from __future__ import annotations

from typing import Any

from reconciler.core.cluster import Broker, ClusterView
from reconciler.core.environment import Connection, Environment
from reconciler.core.model import Plan
from reconciler.engine.model import Desired, Observed
from reconciler.engine.plan import build_plan
from reconciler.kinds.base import Loading
from reconciler.kinds.registry import KINDS

ENVIRONMENT = Environment("test", "specs/test", Connection("127.0.0.1:9092"))
BROKERS = tuple(Broker(i, "127.0.0.1", 9092 + i, f"az-{i}") for i in (1, 2, 3))


def desired_of(**kinds: Any) -> Desired:
    """Desired state with the given kinds (by name: Topic=..., MskCluster=...), others empty."""
    empty = {kind.name: kind.load([], Loading(None, None))[0] for kind in KINDS}
    return Desired(ENVIRONMENT, {**empty, **kinds})


def observed_of(cluster: ClusterView | None = None, **kinds: Any) -> Observed:
    """What an observation saw of the given kinds; the others are not planned."""
    return Observed(ClusterView("cluster", BROKERS) if cluster is None else cluster, kinds)


def plan_of(desired: Desired, observed: Observed) -> Plan:
    return build_plan(desired, observed)
