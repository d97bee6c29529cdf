"""What the access kinds (Acl, ScramUser, ClientQuota) share: the Environment's ownership of
principals (`spec.access`) and its permission to remove access (`policy.allowAccessRemoval`).

A principal is managed when a spec declares it, or when it matches `access.manage` and not
`access.ignore`; everything of any other principal is never touched. Removing what a managed
principal has and no spec declares takes a client's access away: destructive, and only with
the policy's permission; without it the plan lists it as an orphan. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.core.model import Action, Change, FieldDiff, Orphan, Risk
from reconciler.core.ownership import matches
from reconciler.core.polling import attempts
from reconciler.core.record import decode, encode
from reconciler.kinds.base import ApplyOptions, Context, KindPlan, Loading, Mode, Outcome

if TYPE_CHECKING:
    from reconciler.clients.session import Clients
    from reconciler.core.environment import Environment

D = TypeVar("D")
O = TypeVar("O")  # noqa: E741 (desired D, observed O, as in kinds.base)

_UNNAMEABLE = re.compile(r"[^a-zA-Z0-9._-]")
#: How `policy.allowAccessRemoval` is spelt in the reasons.
PERMISSION = "policy.allowAccessRemoval"


@dataclass(frozen=True)
class AccessScope:
    """The Environment's `spec.access` and the permission to remove."""

    manage: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    client_ids: tuple[str, ...] = ()
    allow_removal: bool = False

    def owns(self, principal: str, declared: Collection[str] = ()) -> bool:
        """Whether this environment may change what `principal` has."""
        if matches(principal, self.ignore):
            return False
        return principal in declared or matches(principal, self.manage)

    @property
    def active(self) -> bool:
        """Whether anything is managed beyond the declared principals (so a kind without
        documents still has live state to read)."""
        return bool(self.manage or self.client_ids)

    def environment_section(self) -> dict[str, Any]:
        """The Environment's parts this scope came from, for `show` (nothing when unset)."""
        if self == AccessScope():
            return {}
        access: dict[str, Any] = {"manage": list(self.manage), "ignore": list(self.ignore)}
        if self.client_ids:
            access["clientIds"] = list(self.client_ids)
        return {"access": access, "policy": {"allowAccessRemoval": self.allow_removal}}

    def fingerprint(self) -> object:
        return [self.manage, self.ignore, self.client_ids, self.allow_removal]


def document_name(text: str) -> str:
    """A document's metadata.name for a principal or an entity (`show`)."""
    return _UNNAMEABLE.sub("-", text.replace("*", "all")) or "all"


def scope(loading: Loading) -> AccessScope:
    """The Environment document's `spec.access` and `policy.allowAccessRemoval`."""
    if loading.document is None:
        return AccessScope()
    spec = loading.document.data["spec"]
    access = spec.get("access") or {}
    policy = spec.get("policy") or {}
    return AccessScope(
        tuple(access.get("manage") or ()),
        tuple(access.get("ignore") or ()),
        tuple(access.get("clientIds") or ()),
        bool(policy.get("allowAccessRemoval", False)),
    )


def removal(
    scope: AccessScope,
    kind: str,
    name: str,
    diffs: Sequence[FieldDiff],
    loses: str,
    *,
    operation: str | None = None,
) -> Change | Orphan:
    """What no spec declares but a managed principal has: a destructive delete with the
    policy's permission, else an orphan that says how to remove or keep it."""
    if not scope.allow_removal:
        return Orphan(
            kind,
            name,
            f"a managed principal's, in no spec; kept because {PERMISSION} is off. Declare "
            f"it, add the principal to access.ignore, or allow removal to take it away",
        )
    reason = f"in no spec and {PERMISSION} is on: {loses}"
    return Change(kind, name, Action.DELETE, Risk.DESTRUCTIVE, tuple(diffs), (reason,), operation)


def read_back(
    observe: Callable[[Clients, Environment, D, Mode], O],
    diff: Callable[[D, O, Context], KindPlan],
) -> Callable[[Clients, Environment, D, Sequence[Outcome], ApplyOptions], KindPlan]:
    """A kind's verify: observe and diff until nothing is left, within the settle bound (a
    broker learns of an ACL, a credential or a quota from the controller within moments)."""

    def verify(
        clients: Clients,
        environment: Environment,
        desired: D,
        outcomes: Sequence[Outcome],
        options: ApplyOptions,
    ) -> KindPlan:
        left = KindPlan()
        for _ in attempts(options.settle_seconds, 0.5):
            state = observe(clients, environment, desired, Mode.PLAN)
            left = diff(desired, state, Context(datetime.now(UTC)))
            if not left.changes:
                break
        return left

    return verify


def kind_parts(
    observe: Callable[[Clients, Environment, D, Mode], O],
    diff: Callable[[D, O, Context], KindPlan],
    observed: type[O],
) -> dict[str, Any]:
    """The parts every access kind has alike: its observe and diff, a snapshot codec for its
    observed dataclass, the settled read-back, and `show`'s Environment section."""

    def load_observed(value: object, path: str) -> O:
        decoded: O = decode(observed, value, path)
        return decoded

    def environment_section(desired: Any) -> dict[str, Any]:
        section: dict[str, Any] = desired.scope.environment_section()
        return section

    return {
        "observe": observe,
        "diff": diff,
        "dump_observed": encode,
        "load_observed": load_observed,
        "verify": read_back(observe, diff),
        "environment_section": environment_section,
    }
