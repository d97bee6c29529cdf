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

from reconciler.apply import Outcome, Progress, execute, preflight
from reconciler.connection import admin_client, resolve
from reconciler.diff import TOPIC
from reconciler.errors import ReconcilerError
from reconciler.model import Action, Change, Connection, Desired, Observed, Plan
from reconciler.msk.apply import apply_cluster
from reconciler.msk.session import MskSide, observe_msk, plan_msk
from reconciler.observe import observe
from reconciler.plan import build_plan
from reconciler.render.plan_json import plan_to_dict
from reconciler.snapshot import Snapshot, age_notice, load_snapshot
from reconciler.specs.load import load


@dataclass(frozen=True)
class Planned:
    """A plan together with what it was made from, ready to render or apply.

    `observed` (and `admin`) are None when there are no brokers to read yet: an MSK cluster
    that the plan creates.
    """

    desired: Desired
    connection: Connection
    admin: AdminClient | None
    observed: Observed | None
    plan: Plan
    msk: MskSide | None = None


def _connect(
    desired: Desired, environ: Mapping[str, str] | None
) -> tuple[Connection, MskSide | None]:
    """The Kafka connection, with the brokers MSK reports when the specs name none."""
    conn = resolve(desired.environment, environ)  # unset variables fail before any network call
    msk = observe_msk(desired)
    if conn.bootstrap_servers or msk is None:
        return conn, msk
    found = msk.bootstrap(conn.security_protocol, conn.sasl_mechanism)
    if found is None and msk.exists:
        raise ReconcilerError(
            f"MSK reports no bootstrap brokers for securityProtocol {conn.security_protocol} "
            "(is that listener enabled on the cluster, and is it ACTIVE?). Set "
            "spec.kafka.bootstrapServers or the matching securityProtocol"
        )
    return replace(conn, bootstrap_servers=found or ""), msk


def plan_environment(env_dir: str | Path, environ: Mapping[str, str] | None = None) -> Planned:
    """Validate everything offline first, then observe MSK and Kafka once each, and plan."""
    desired = load(env_dir)
    conn, msk = _connect(desired, environ)
    admin, observed = None, None
    if conn.bootstrap_servers:
        admin = admin_client(conn)
        observed = observe(admin, conn, desired.environment, desired.topics)
    cluster_changes, warnings = plan_msk(desired, msk, observed) if msk else ([], [])
    plan = build_plan(desired, observed, cluster_changes, msk.state() if msk else None, warnings)
    return Planned(desired, conn, admin, observed, plan, msk)


def snapshot_environment(env_dir: str | Path, environ: Mapping[str, str] | None = None) -> Snapshot:
    """Observe once, as plan does, and keep it with the time it was read."""
    desired = load(env_dir)
    conn, _ = _connect(desired, environ)
    if not conn.bootstrap_servers:
        raise ReconcilerError("the MSK cluster does not exist yet: there is nothing to snapshot")
    observed = observe(
        admin_client(conn), conn, desired.environment, desired.topics, every_config=True
    )
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
    warnings = [age_notice(snapshot), *plan.warnings]
    if desired.cluster is not None:
        warnings.append(
            "MSK cluster changes are not planned from a snapshot (it records topics only); "
            "the plan on the self-hosted runner shows them"
        )
    return replace(plan, warnings=tuple(warnings))


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
    """Reads the cluster back through every broker, with one client per broker.

    Each broker answers from its own copy of the metadata. Reads can be narrowed to some
    topics, so verifying one change among 10,000 topics costs what one change costs.
    """

    def __init__(self, planned: Planned) -> None:
        self.desired = planned.desired
        self.clients = []
        for broker in planned.observed.brokers if planned.observed else ():
            conn = replace(planned.connection, bootstrap_servers=f"{broker.host}:{broker.port}")
            self.clients.append((admin_client(conn), conn, broker.node_id))

    def read(self, index: int, names: set[str] | None) -> tuple[Desired, Observed]:
        """The specs (narrowed to `names`) and what broker `index` reports for them."""
        admin, conn, node_id = self.clients[index]
        desired = self.desired
        if names is not None:
            topics = {n: t for n, t in desired.topics.items() if n in names}
            desired = replace(desired, topics=topics)
        observed = observe(
            admin, conn, desired.environment, desired.topics, only=names, config_broker=node_id
        )
        return desired, observed

    def plans_on_each(self, first: set[str], others: set[str]) -> list[Plan]:
        """`first` read back on the first broker; `others` on the rest (skipped when empty)."""
        plans = []
        for index in range(len(self.clients)):
            names = first if index == 0 else others
            if index and not names:
                continue
            desired, observed = self.read(index, names)
            plans.append(build_plan(desired, observed, guard_wipe=False))
        return plans


def agreed_plan(planned: Planned, settle_seconds: float = 30.0) -> Planned:
    """The plan made from what every broker reports, once they agree.

    A change made moments ago may not have reached every broker yet; a saved plan's digest
    compared with one broker's stale view could let a stale plan through (invariant 4).
    """
    if planned.observed is None:
        return planned
    verifier = _Verifier(planned)
    everything = range(len(verifier.clients))
    deadline = time.monotonic() + settle_seconds
    with ThreadPoolExecutor(max_workers=max(1, len(verifier.clients))) as pool:
        while True:
            views = [o for _, o in pool.map(lambda i: verifier.read(i, None), everything)]
            digests = {build_plan(planned.desired, o).observed_digest for o in views}
            if len(digests) == 1:
                break
            if time.monotonic() > deadline:
                raise ReconcilerError(
                    f"the brokers still disagree about the cluster's state after "
                    f"{settle_seconds:g}s; nothing was applied. Try again in a moment"
                )
            time.sleep(0.2)
    observed = views[0]
    plan = build_plan(
        planned.desired,
        observed,
        [c for c in planned.plan.changes if c.kind != TOPIC],
        planned.msk.state() if planned.msk else None,
        planned.plan.warnings,
    )
    return replace(planned, observed=observed, plan=plan)


def _expected_partitions(change: Change) -> int | None:
    """Partitions a changed topic has once applied (None: it is gone)."""
    if change.action is Action.DELETE:
        return None
    after = {d.field: d.after for d in change.diff}.get("partitions")
    return int(after) if after is not None else -1  # -1: exists, count unchanged


def _metadata_settled(admin: AdminClient, changes: list[Change], timeout: float) -> bool:
    """Cheap first check: this broker lists created topics, not deleted ones, new counts."""
    topics = admin.list_topics(timeout=timeout).topics
    for change in changes:
        expected = _expected_partitions(change)
        listed = topics.get(change.name)
        if expected is None and listed is not None:
            return False
        if expected is not None and (
            listed is None or expected not in (-1, len(listed.partitions))
        ):
            return False
    return True


def _verify_topics(planned: Planned, failed: set[str], settle_seconds: float) -> Plan:
    """Read the changed topics back until every broker reports the empty plan.

    First the cheap Metadata on every broker (creates, deletes, partition counts); then the
    full read-back on one broker, and on the others only for topics whose configs were
    altered: a created topic's configs reach a broker in the same metadata record batch as
    the topic itself, so a broker that lists it has them.
    """
    changes = [c for c in planned.plan.changes if c.name not in failed]
    verifier = _Verifier(planned)
    changed = {c.name for c in planned.plan.changes}
    altered = {c.name for c in changes if c.action is Action.UPDATE}
    timeout = planned.connection.timeout_seconds
    deadline = time.monotonic() + settle_seconds
    while True:
        ready = all(_metadata_settled(a, changes, timeout) for a, _, _ in verifier.clients)
        if ready or time.monotonic() > deadline:
            plans = verifier.plans_on_each(changed, altered)
            remaining = max(plans, key=lambda p: len(p.changes))
            settled = all({c.name for c in p.changes} <= failed for p in plans)  # failures stay
            if settled or time.monotonic() > deadline:
                return remaining
        time.sleep(0.2)


def _msk_changes_left(planned: Planned) -> list[Change]:
    """Read MSK again after applying: what the cluster still lacks."""
    after = observe_msk(planned.desired)
    return plan_msk(planned.desired, after, planned.observed)[0] if after else []


def apply_and_verify(
    planned: Planned,
    progress: Progress,
    settle_seconds: float = 30.0,
    *,
    msk_wait_seconds: float = 3600.0,
    msk_poll_seconds: float = 10.0,
) -> Applied:
    """Apply the cluster's MSK operations, then the topic changes, then verify both.

    The brokers validate every topic write before the first write of any kind; MSK
    operations run first (topics may depend on them) and each is waited for. Topic changes
    are then read back until every broker reports the empty plan: brokers learn new
    metadata moments after the controller commits it, and verifying through each of them
    means the next `plan`, whichever broker it asks, sees the applied state.
    """
    plan = planned.plan
    cluster_changes = [c for c in plan.changes if c.kind != TOPIC]
    topics = replace(plan, changes=tuple(c for c in plan.changes if c.kind == TOPIC))
    timeout = planned.connection.timeout_seconds
    if plan.errors:
        raise ReconcilerError("the plan has impossible changes; nothing was applied")
    if topics.changes and planned.admin is not None:
        preflight(planned.admin, topics, timeout)
    outcomes: list[Outcome] = []
    if cluster_changes and planned.msk is not None:
        msk = planned.msk
        outcomes = apply_cluster(
            msk.kafka,
            msk.logs,
            cluster_changes,
            progress,
            wait_timeout=msk_wait_seconds,
            poll_seconds=msk_poll_seconds,
        )
        if not all(o.done for o in outcomes):
            skipped = "not attempted: the MSK changes before it did not complete"
            outcomes += [Outcome(c, False, skipped) for c in topics.changes]
            left = _msk_changes_left(planned)
            return Applied(outcomes, replace(plan, changes=(*left, *topics.changes)))
    remaining = replace(topics, changes=())
    if topics.changes and planned.admin is not None:
        outcomes += execute(planned.admin, topics, timeout, progress)
        failed = {o.change.name for o in outcomes if not o.done}
        remaining = _verify_topics(planned, failed, settle_seconds)
    if cluster_changes:
        remaining = replace(remaining, changes=(*_msk_changes_left(planned), *remaining.changes))
    return Applied(outcomes, remaining)
