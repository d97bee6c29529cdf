"""Desired + observed -> Plan for every kind, in registry order: the reviewed unit of work.

`build_plan` is pure. `plan_environment` is the whole read side: load the specs and observe
each kind once (at the same time: `engine.observe`), plan, and ask the services to validate
every write (validate-only calls write nothing), so a pull request's plan already shows
what a broker would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.clients.session import Clients
from reconciler.core.changes import blocked
from reconciler.core.digests import digest
from reconciler.core.model import Change, Cost, Orphan, Plan
from reconciler.engine.model import Desired, Observed
from reconciler.engine.observe import Shared, observe_environment
from reconciler.kinds.base import Context, Mode
from reconciler.kinds.registry import CHECKS, KINDS
from reconciler.specs.collector import collector_paused


@dataclass(frozen=True)
class Planned:
    """A plan together with what it was made from, ready to render or apply."""

    desired: Desired
    clients: Clients
    observed: Observed
    plan: Plan
    #: Every write was validated by its service just now (validate-only), with nothing
    #: in between: apply need not ask again unless time passed (a prompt).
    validated: bool = False


def _unavailable(reason: str, skipped: list[str]) -> str:
    return (
        f"{reason}, so its {' and '.join(skipped)} cannot be read: their changes are planned "
        "once it is ACTIVE (run plan and apply again after this apply)"
    )


def observed_digest(desired: Desired, observed: Observed) -> str:
    """The part of the live state the plan depends on: the cluster's identity (a plan never
    applies to another cluster holding the same resources) and each kind's fingerprint."""
    state: dict[str, Any] = {"cluster": observed.cluster.identity if observed.cluster else None}
    for kind in KINDS:
        if kind.name in observed.kinds:
            value = observed.kinds[kind.name]
            state[kind.name] = kind.fingerprint(desired.kinds[kind.name], value)
        else:
            state[kind.name] = None
    return digest(state)


def build_plan(desired: Desired, observed: Observed, now: datetime | None = None) -> Plan:
    """Every kind's changes in registry order (the order they apply), then orphans, warnings
    (the kinds' and the checks across kinds'), and costs.

    A kind missing from `observed` could not be read (its service does not exist yet): it
    is left out, and the plan says so.
    """
    context = Context(now or datetime.now(UTC), observed.cluster)
    changes: list[Change] = []
    orphans: list[Orphan] = []
    warnings: list[str] = []
    costs: list[Cost] = []
    skipped = []
    for kind in KINDS:
        if kind.name not in observed.kinds:
            skipped.append(kind.label[1])
            continue
        part = kind.diff(desired.kinds[kind.name], observed.kinds[kind.name], context)
        changes.extend(part.changes)
        orphans.extend(part.orphans)
        warnings.extend(part.warnings)
        costs.extend(part.costs)
    for check in CHECKS:
        warnings.extend(check(desired.kinds, context))
    if skipped and observed.unavailable:
        warnings.append(_unavailable(observed.unavailable, skipped))
    return Plan(
        environment=desired.environment.name,
        specs_digest=desired.digest,
        observed_digest=observed_digest(desired, observed),
        changes=tuple(changes),
        orphans=tuple(orphans),
        warnings=tuple(warnings),
        costs=tuple(costs),
    )


def refusal_reason(reason: str) -> str:
    return (
        f"the brokers refused it in validate-only mode ({reason}); nothing was written. "
        "Way out: change the spec so the cluster accepts it (or upgrade the cluster)"
    )


def validate_writes(plan: Plan, clients: Clients, observed: Observed) -> Plan:
    """Ask each kind's service to validate its writes; refused changes become impossible."""
    refused: dict[int, str] = {}
    for kind in KINDS:
        mine = [c for c in plan.changes if c.kind == kind.name and not c.blocked]
        if mine and kind.name in observed.kinds:
            for refusal in kind.preflight(clients, mine):
                refused[id(refusal.change)] = refusal.reason
    if not refused:
        return plan
    changes = tuple(
        blocked(c, refusal_reason(refused[id(c)])) if id(c) in refused else c for c in plan.changes
    )
    return replace(plan, changes=changes)


def plan_environment(
    env_dir: str | Path,
    environ: Mapping[str, str] | None = None,
    *,
    mode: Mode = Mode.PLAN,
    validate: bool = True,
    trusted_base: Path | None = None,
    allow_outside_repo: bool = False,
    shared: Shared | None = None,
) -> Planned:
    """Observe every kind once (while the specs load: `engine.observe`), and plan.

    With `trusted_base` (the base branch's checkout), nothing is contacted unless ENV_DIR
    connects exactly as the base branch says. Unset variables are reported before any
    network call; invalid specs fail the plan, having only read.
    """
    with collector_paused():  # the loaded specs would be walked for every answer's objects
        opened = observe_environment(
            env_dir,
            environ,
            mode=mode,
            trusted_base=trusted_base,
            allow_outside_repo=allow_outside_repo,
            shared=shared,
        )
        plan = build_plan(opened.desired, opened.observed)
        if validate:
            plan = validate_writes(plan, opened.clients, opened.observed)
    return Planned(opened.desired, opened.clients, opened.observed, plan, validated=validate)


#: Environments planned at once: their round trips overlap; beyond this they queue.
CONCURRENT_ENVIRONMENTS = 32


def plan_environments(
    env_dirs: Sequence[Path],
    environ: Mapping[str, str] | None = None,
    *,
    trusted_base: Path | None = None,
    allow_outside_repo: bool = False,
) -> Iterator[tuple[Path, Plan | Exception]]:
    """Plan several environments at once in this process, each on its own thread (their
    clients' round trips overlap), for `plan DIR...` and the drift job.

    Yields each directory's plan, or what failed it, in the order given, each as soon as
    it and every one before it are done; one environment's failure never stops another's.
    Environments that connect exactly alike share one read of their cluster's Metadata
    (`Shared`).
    """

    shared = Shared()

    def one(env_dir: Path) -> Plan:
        planned = plan_environment(
            env_dir,
            environ,
            trusted_base=trusted_base,
            allow_outside_repo=allow_outside_repo,
            shared=shared,
        )
        return planned.plan  # the observed state and the clients are dropped as it ends

    pool = ThreadPoolExecutor(min(len(env_dirs), CONCURRENT_ENVIRONMENTS) or 1, "reconciler-plan")
    try:
        futures = [pool.submit(one, env_dir) for env_dir in env_dirs]
        for env_dir, future in zip(env_dirs, futures, strict=True):
            try:
                yield env_dir, future.result()
            except Exception as exc:  # the caller words it, per environment
                yield env_dir, exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
