"""The pipeline of DESIGN.md in one place: load -> observe -> plan -> apply -> verify.

The CLI calls these; tests call them too, so what is tested is what users run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka.admin import AdminClient

from reconciler.apply import Outcome, Progress, execute
from reconciler.connection import admin_client, resolve
from reconciler.errors import ReconcilerError
from reconciler.model import Connection, Desired, Observed, Plan
from reconciler.observe import observe
from reconciler.plan import build_plan
from reconciler.render.plan_json import plan_to_dict
from reconciler.snapshot import Snapshot, age_notice, load_snapshot
from reconciler.specs.load import load


@dataclass(frozen=True)
class Planned:
    """A plan together with what it was made from, ready to render or apply."""

    desired: Desired
    connection: Connection
    admin: AdminClient
    observed: Observed
    plan: Plan


def plan_environment(env_dir: str | Path, environ: Mapping[str, str] | None = None) -> Planned:
    """Validate everything offline first, then observe once and plan."""
    desired = load(env_dir)
    conn = resolve(desired.environment, environ)
    admin = admin_client(conn)
    observed = observe(admin, conn, desired.environment, desired.topics)
    return Planned(desired, conn, admin, observed, build_plan(desired, observed))


def snapshot_environment(env_dir: str | Path, environ: Mapping[str, str] | None = None) -> Snapshot:
    """Observe once, as plan does, and keep it with the time it was read."""
    desired = load(env_dir)
    conn = resolve(desired.environment, environ)
    observed = observe(admin_client(conn), conn, desired.environment, desired.topics)
    return Snapshot(desired.environment.name, datetime.now(UTC), observed)


def plan_from_snapshot(env_dir: str | Path, snapshot_file: Path) -> Plan:
    """Plan offline against a snapshot; its age goes first in the warnings of every output."""
    desired = load(env_dir)
    snapshot = load_snapshot(snapshot_file.read_text(encoding="utf-8"))
    if snapshot.environment != desired.environment.name:
        raise ReconcilerError(
            f"{snapshot_file} is a snapshot of {snapshot.environment!r}, "
            f"not {desired.environment.name!r}"
        )
    plan = build_plan(desired, snapshot.observed)
    return replace(plan, warnings=(age_notice(snapshot), *plan.warnings))


class StalePlan(ReconcilerError):
    """The saved plan was made from other specs or another cluster state."""


def check_saved_plan(saved: Plan, current: Plan) -> None:
    """A saved plan applies only to the state it was made from (DESIGN invariant 4)."""
    if saved.environment != current.environment:
        raise StalePlan(
            f"the plan is for environment {saved.environment!r}, not {current.environment!r}"
        )
    if saved.specs_digest != current.specs_digest:
        raise StalePlan(
            "the specs changed since the plan was made "
            f"({saved.specs_digest[:19]} -> {current.specs_digest[:19]}); nothing was applied. "
            "Run plan again and review it"
        )
    if saved.observed_digest != current.observed_digest:
        raise StalePlan(
            "the cluster changed since the plan was made "
            f"({saved.observed_digest[:19]} -> {current.observed_digest[:19]}); nothing was "
            "applied. Run plan again and review the new plan"
        )
    from deepdiff import DeepDiff  # only `apply --plan` needs it; it costs 0.2 s to import

    before, after = plan_to_dict(saved, tool_version=""), plan_to_dict(current, tool_version="")
    difference = DeepDiff(before["changes"], after["changes"], ignore_order=False)
    if difference:
        raise StalePlan(
            "the saved plan's changes differ from what the same specs and state give now "
            f"(a different reconciler version?): {difference.pretty()}; nothing was applied"
        )


@dataclass(frozen=True)
class Applied:
    outcomes: list[Outcome]
    remaining: Plan

    @property
    def ok(self) -> bool:
        return all(o.done for o in self.outcomes) and not self.remaining.changes


class _Verifier:
    """Re-plans the changed topics through every broker at once, with one client per broker.

    Each broker answers from its own copy of the metadata; only the topics the plan touched
    are read back, so verifying one change among 10,000 topics costs what one change costs.
    """

    def __init__(self, planned: Planned) -> None:
        names = {c.name for c in planned.plan.changes}
        self.desired = replace(
            planned.desired, topics={n: t for n, t in planned.desired.topics.items() if n in names}
        )
        self.names = names
        self.clients = []
        for broker in planned.observed.brokers:
            conn = replace(planned.connection, bootstrap_servers=f"{broker.host}:{broker.port}")
            self.clients.append((admin_client(conn), conn))

    def plans(self, pool: ThreadPoolExecutor) -> list[Plan]:
        def one(client: tuple[AdminClient, Connection]) -> Plan:
            admin, conn = client
            observed = observe(
                admin, conn, self.desired.environment, self.desired.topics, only=self.names
            )
            return build_plan(self.desired, observed)

        return list(pool.map(one, self.clients))


def apply_and_verify(planned: Planned, progress: Progress, settle_seconds: float = 30.0) -> Applied:
    """Apply, then read the changed topics back until every broker reports the empty plan.

    Brokers learn new metadata moments after the controller commits it; verifying through
    each of them means the next `plan`, whichever broker it asks, sees the applied state.
    """
    outcomes = execute(planned.admin, planned.plan, planned.connection.timeout_seconds, progress)
    failed = {o.change.name for o in outcomes if not o.done}
    verifier = _Verifier(planned)
    deadline = time.monotonic() + settle_seconds
    with ThreadPoolExecutor(max_workers=max(1, len(verifier.clients))) as pool:
        while True:
            plans = verifier.plans(pool)
            remaining = max(plans, key=lambda p: len(p.changes))
            settled = all({c.name for c in p.changes} <= failed for p in plans)  # failures stay
            if settled or time.monotonic() > deadline:
                return Applied(outcomes, remaining)
            time.sleep(0.2)
