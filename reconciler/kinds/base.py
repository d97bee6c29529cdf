"""What every resource kind provides, so the engine can plan and apply it without its name.

A kind is a value of `Kind`: its spec (schema and loader), how to observe it, a pure diff,
its fingerprints for the plan's digests, its writes (preflight, apply), its verification and
the inverse of loading. The registry (`kinds.registry.KINDS`) lists them in apply order.

Nothing here (or in any kind's spec and diff modules) imports a client library: kinds get
their clients from the engine (`clients.session.Clients`) and only call their methods.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from reconciler.core.cluster import ClusterView
from reconciler.core.environment import Environment
from reconciler.core.errors import SpecProblem
from reconciler.core.model import Change, Cost, Orphan
from reconciler.core.ownership import matches
from reconciler.specs.boundaries import Boundary
from reconciler.specs.yaml_source import Document, PathKey

if TYPE_CHECKING:
    from reconciler.clients.session import Clients

D = TypeVar("D")
O = TypeVar("O")  # noqa: E741 (desired D, observed O, as in the docs)
Progress = Callable[[str], None]
#: A spec document as plain data, as `show` prints it and `import` writes it.
SpecDocument = dict[str, Any]


class Mode(Enum):
    """What an observation is for."""

    PLAN = "plan"  # what a plan needs, no more
    AGREED = "agreed"  # a view every broker agrees on (apply of a saved plan)
    SNAPSHOT = "snapshot"  # everything, for plans made later against the record


@dataclass(frozen=True)
class Loading:
    """What a kind's loader gets besides its own documents."""

    environment: Environment | None  # None when the Environment document is invalid
    document: Document | None  # the Environment document, for its sections and their lines
    #: Where files the specs name (a price list) must stay; None: anywhere.
    boundary: Boundary | None = None
    #: More documents are still to come (`import` reads the specs before it writes its own):
    #: checks that need every document (an override that matches no topic) wait for them.
    partial: bool = False


@dataclass(frozen=True)
class Context:
    """What a diff may know beyond its own kind: the clock and the Kafka cluster's shape."""

    now: datetime
    cluster: ClusterView | None = None  # None: there is no Kafka to read (yet)


@dataclass(frozen=True)
class KindPlan:
    """One kind's share of a plan, in the order its changes must run."""

    changes: tuple[Change, ...] = ()
    orphans: tuple[Orphan, ...] = ()
    warnings: tuple[str, ...] = ()
    costs: tuple[Cost, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What happened to one change."""

    change: Change
    done: bool
    detail: str


@dataclass(frozen=True)
class Refusal:
    """A write the service would refuse, found without writing (validate-only)."""

    change: Change
    reason: str


@dataclass(frozen=True)
class Selection:
    """What `import` adopts: names matching `select` and none of `exclude` (globs)."""

    select: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    #: Move values most resources share into the Environment's defaults (exact either way).
    factor_defaults: bool = False

    def covers(self, name: str) -> bool:
        return matches(name, self.select) and not matches(name, self.exclude)

    @property
    def named(self) -> tuple[str, ...]:
        """The names `--select` spells out (no glob): asked for explicitly, so a name that
        cannot be imported fails the import instead of being skipped."""
        return tuple(p for p in self.select if not any(c in p for c in "*?["))


@dataclass(frozen=True)
class Adopting(Generic[D]):
    """What `import` gives a kind's `discover` besides the clients."""

    environment: Environment
    #: The Environment document as it is loaded (its sections: ownership, defaults, policy).
    document: Document
    #: The kind's desired value from the files `import` did not write: what the user declares
    #: (left as written, never written again), with the Environment's ownership and policy.
    declared: D
    selection: Selection


def _everything(name: str) -> bool:
    return True


@dataclass(frozen=True)
class Discovered(Generic[D, O]):
    """What `import` found of one kind.

    `desired` is what the kind's documents say (`to_documents` writes it): loaded with the
    Environment as it will be (`environment` merged in), it equals `observed`, which is what
    the kind read; the engine checks exactly that with the kind's diff before it keeps the
    files. `warnings` say what was left out and why; `refusals`, what was asked for by name
    and cannot be imported (the import then writes nothing). `covers` names the resources
    this import speaks for: documents an earlier import wrote for other names are kept.
    """

    desired: D
    observed: O
    warnings: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()
    environment: dict[str, Any] = field(default_factory=dict)
    covers: Callable[[str], bool] = _everything


#: Bound on a read until every broker agrees (a change reaches them within moments).
SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class ApplyOptions:
    """`progress` prints a line; `status`, where given (a terminal), replaces the previous
    status line in place, so a long wait can report often; without it, long waits print a
    plain line every `poll_seconds` (CI logs)."""

    progress: Progress
    wait_seconds: float = 3600.0  # bound on each long operation (MSK: 15-45 minutes)
    poll_seconds: float = 10.0
    settle_seconds: float = SETTLE_SECONDS
    status: Progress | None = None


def deferred(module: str, name: str) -> Callable[..., Any]:
    """A kind's part, imported at its first call: `validate` and `show` load every kind but
    call only its spec parts, so the observe, diff and apply modules and the client facades
    they import are never loaded by them."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = f"{module}.{name}"
    return call


def _no_preflight(clients: Clients, changes: Sequence[Change]) -> list[Refusal]:
    return []


def _no_documents(desired: Any, readable: bool) -> list[SpecDocument]:
    return []


def _no_section(desired: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Kind(Generic[D, O]):
    """One resource kind. `verify` None: observe again and expect an empty diff."""

    name: str
    #: schemas/<file>: the single source of its documents' structure.
    schema: str
    #: How `validate` counts it: ("topic", "topics").
    label: tuple[str, str]
    load: Callable[[Sequence[Document], Loading], tuple[D, list[SpecProblem]]]
    count: Callable[[D], int]
    #: Everything in the specs that can change this kind's plan (no secrets).
    spec_fingerprint: Callable[[D], object]
    observe: Callable[[Clients, Environment, D, Mode], O]
    diff: Callable[[D, O, Context], KindPlan]
    #: The part of the live state its plan depends on (invariant 4).
    fingerprint: Callable[[D, O], object]
    apply: Callable[[Clients, Sequence[Change], ApplyOptions], list[Outcome]]
    dump_observed: Callable[[O], object]
    load_observed: Callable[[object, str], O]
    #: Validate every write without writing (plan shows refusals; apply refuses to start).
    preflight: Callable[[Clients, Sequence[Change]], list[Refusal]] = _no_preflight
    #: The start of `observe` that needs only the Environment, so a plan reads the cluster
    #: while the specs load: given what the Environment alone declares (the kind's loader
    #: over none of its documents), it sends its reads and returns the rest of the
    #: observation, which takes the desired value once loaded. None: observe after loading.
    prepare: Callable[[Clients, Environment, D, Mode], Callable[[D], O]] | None = None
    verify: (
        Callable[[Clients, Environment, D, Sequence[Outcome], ApplyOptions], KindPlan] | None
    ) = None
    #: The inverse of loading: the kind's documents (`readable`: values in units, as a
    #: person writes them: 7d, 1GiB), and its part of the Environment's spec.
    to_documents: Callable[[D, bool], list[SpecDocument]] = _no_documents
    environment_section: Callable[[D], dict[str, Any]] = _no_section
    #: Live state -> desired value, for `import` (None: the kind cannot be imported yet).
    discover: Callable[[Clients, Adopting[D]], Discovered[D, O]] | None = None
    #: The file `import` writes its documents to (`<file>.yaml`).
    file: str = ""
    #: Spec paths of its documents that take a `${VAR}` reference (a password): expanded
    #: by the kind when it applies, never at load, and never rendered as a value.
    variables: frozenset[PathKey] = frozenset()

    def plural(self, count: int) -> str:
        return f"{count} {self.label[0] if count == 1 else self.label[1]}"
