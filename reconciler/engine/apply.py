"""Apply a plan, every kind in registry order, then verify that the plan is empty.

Before the first write of any kind: a change that no registered kind applies, or one that is
impossible, stops everything; then every kind's writes are validated by its service
(invariant 5: bad input never half-applies). Kinds then apply in registry order (the MSK
cluster before what lives in it); when a kind's changes fail, the later kinds' changes are
not attempted. Each applied kind is then verified (read back until the plan is empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Change, Plan
from reconciler.engine.plan import Planned
from reconciler.kinds.base import ApplyOptions, Context, Kind, KindPlan, Mode, Outcome
from reconciler.kinds.registry import BY_NAME, KINDS
from reconciler.specs.collector import collector_paused


class PreflightFailed(ReconcilerError):
    """A service refused part of the plan in validate-only mode; nothing was written."""


@dataclass(frozen=True)
class Applied:
    outcomes: list[Outcome]
    remaining: Plan

    @property
    def ok(self) -> bool:
        return all(o.done for o in self.outcomes) and not self.remaining.changes


def _refuse_unroutable(plan: Plan) -> None:
    """A change no registered kind applies is an error before any write, never dropped."""
    unknown = sorted({c.kind for c in plan.changes if c.kind not in BY_NAME})
    if unknown:
        raise ReconcilerError(
            f"the plan has changes of kind {', '.join(map(repr, unknown))}, which this version "
            f"does not apply (it knows {', '.join(BY_NAME)}); nothing was applied. Make the "
            "plan again with the reconciler that will apply it"
        )


def preflight(planned: Planned) -> None:
    """Every kind's writes validated by its service; raise with all refusals, having written
    nothing."""
    refusals = []
    for kind in KINDS:
        mine = [c for c in planned.plan.changes if c.kind == kind.name]
        if mine:
            refusals.extend(kind.preflight(planned.clients, mine))
    if refusals:
        raise PreflightFailed(
            "the brokers refused part of the plan in validate-only mode; nothing was written:\n"
            + "\n".join(f"  {r.reason}" for r in refusals)
            + "\n  what to do: fix the specs and run plan again"
        )


def _verify(
    planned: Planned, kind: Kind[Any, Any], outcomes: Sequence[Outcome], options: ApplyOptions
) -> KindPlan:
    """The kind's own read-back, else: observe it again and expect an empty diff."""
    desired = planned.desired.kinds[kind.name]
    environment = planned.desired.environment
    with collector_paused():  # bounded by the settle wait; its answers are short-lived
        if kind.verify is not None:
            return kind.verify(planned.clients, environment, desired, outcomes, options)
        state = kind.observe(planned.clients, environment, desired, Mode.PLAN)
    return kind.diff(desired, state, Context(datetime.now(UTC), planned.observed.cluster))


def apply_and_verify(planned: Planned, options: ApplyOptions) -> Applied:
    """Apply every kind's changes in registry order, then verify each kind that was applied."""
    plan = planned.plan
    _refuse_unroutable(plan)
    if plan.errors:
        raise ReconcilerError("the plan has impossible changes; nothing was applied")
    if not planned.validated:  # again, right before writing: time passed since the plan
        preflight(planned)
    outcomes: list[Outcome] = []
    applied: list[tuple[Kind[Any, Any], list[Outcome]]] = []
    not_attempted: list[Change] = []
    failure: str | None = None
    for kind in KINDS:
        mine = [c for c in plan.changes if c.kind == kind.name]
        if not mine:
            continue
        if failure is not None:
            outcomes += [Outcome(c, False, f"not attempted: {failure}") for c in mine]
            not_attempted += mine
            continue
        results = kind.apply(planned.clients, mine, options)
        outcomes += results
        applied.append((kind, results))
        if not all(o.done for o in results):
            failure = f"the {kind.name} changes before it did not complete"
    left: list[Change] = []
    for kind, results in applied:
        left.extend(_verify(planned, kind, results, options).changes)
    return Applied(
        outcomes, replace(plan, changes=(*left, *not_attempted), orphans=(), warnings=())
    )
