"""The plan as values: changes, their field-level diffs and risks, orphans, the Plan itself.

Everything here is immutable and free of I/O, so every stage between load and render is a
pure function of these values, whatever the kind of resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.core.text import one_line


@dataclass(frozen=True)
class Location:
    """Where a value was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{one_line(self.file)}:{self.line}:{self.column}"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"


class Risk(StrEnum):
    """Ordered from harmless to refused; `max()` over a change's parts gives its risk."""

    SAFE = "safe"
    DISRUPTIVE = "disruptive"
    DESTRUCTIVE = "destructive"
    IMPOSSIBLE = "impossible"

    @property
    def rank(self) -> int:
        return _RISK_ORDER.index(self)


_RISK_ORDER = tuple(Risk)


@dataclass(frozen=True)
class FieldDiff:
    """One field of one resource: before -> after. `None` means absent.

    `sensitive` is set by the kind that knows the field holds a secret; every renderer masks
    such values, whatever the field is called.
    """

    field: str
    before: Any
    after: Any
    risk: Risk = Risk.SAFE
    reason: str | None = None
    sensitive: bool = False


@dataclass(frozen=True)
class Change:
    """One resource change in a plan, with the field-level diff and why it is risky.

    `kind` routes the change to the kind that applies it; `operation` names the API call
    where one resource needs several (MSK updates). `notes` are what the plan measured when
    it was made (e.g. bytes a reassignment copies): shown to the reviewer, but not part of
    what a saved plan must still match, since the cluster keeps moving under them.
    """

    kind: str
    name: str
    action: Action
    risk: Risk
    diff: tuple[FieldDiff, ...]
    reasons: tuple[str, ...] = ()
    operation: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.risk is Risk.IMPOSSIBLE


@dataclass(frozen=True)
class Orphan:
    """A managed resource that exists on the cluster but in no spec."""

    kind: str
    name: str
    reason: str


@dataclass(frozen=True)
class CostPart:
    """One metered quantity of a month at its unit price; `unit_price` None: no price known."""

    component: str  # "brokers", "storage", "provisioned throughput"
    quantity: float
    unit: str  # "kafka.t3.small broker-hours", "GB-months", "MB/s-months"
    unit_price: float | None

    @property
    def monthly(self) -> float | None:
        return None if self.unit_price is None else self.quantity * self.unit_price


@dataclass(frozen=True)
class Cost:
    """What one resource costs a month before and after the plan, and where the prices came
    from. A side is None when the resource does not exist on it (before a create)."""

    kind: str
    name: str
    region: str | None
    currency: str
    source: str
    before: tuple[CostPart, ...] | None
    after: tuple[CostPart, ...] | None

    @staticmethod
    def total(parts: tuple[CostPart, ...] | None) -> float | None:
        """The month's total; None when a part has no price (unknown is said, not guessed)."""
        if parts is None:
            return 0.0
        monthly = [p.monthly for p in parts]
        return None if None in monthly else sum(m for m in monthly if m is not None)

    @property
    def unpriced(self) -> tuple[CostPart, ...]:
        """The parts, on either side, that have no price."""
        sides = (*(self.before or ()), *(self.after or ()))
        return tuple(dict.fromkeys(p for p in sides if p.unit_price is None))


@dataclass(frozen=True)
class Plan:
    """The reviewed unit of work: what changes, how risky, and the state it was made from."""

    environment: str
    specs_digest: str
    observed_digest: str
    changes: tuple[Change, ...]
    orphans: tuple[Orphan, ...] = ()
    warnings: tuple[str, ...] = ()
    #: Monthly costs before -> after of the resources a kind can price (MSK clusters).
    costs: tuple[Cost, ...] = ()

    @property
    def errors(self) -> tuple[Change, ...]:
        """Changes that cannot be made; any of them makes plan and apply exit 1."""
        return tuple(c for c in self.changes if c.blocked)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.orphans)
