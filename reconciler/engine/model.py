"""What the engine carries between its stages, for every kind at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.cluster import ClusterView
from reconciler.core.environment import Environment


@dataclass(frozen=True)
class Desired:
    """Everything an environment directory asks for, per kind, and the digest of it."""

    environment: Environment
    #: Kind name -> that kind's desired value (as its loader made it).
    kinds: Mapping[str, Any]
    files: tuple[str, ...] = ()
    digest: str = ""


@dataclass(frozen=True)
class Observed:
    """The live state one observation saw: the Kafka cluster's shape and each kind's state.

    `cluster` is None when there are no brokers to read yet (an MSK cluster to create);
    a kind's state is None when it could not be read for that reason (`unavailable` says why).
    """

    cluster: ClusterView | None
    kinds: Mapping[str, Any] = field(default_factory=dict)
    unavailable: str | None = None
