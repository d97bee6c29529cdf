"""Topic writes: validated all at once, then made in a safe order.

Every write is first sent with validate_only, so the brokers check the whole plan before the
first real write (a bad config value never half-applies), and plan runs the same check so a
pull request's plan already shows a broker's refusal (a reassignment has no validate-only
form; its throttle configs are validated). Then batched calls in a safe order:
CreateTopics, IncrementalAlterConfigs, the replica moves (`reassign`), CreatePartitions (after
the moves, so new partitions take the new replication factor), the removal of throttles left
behind, and DeleteTopics last and only when everything before it succeeded. Each change gets
its own outcome, so a partial failure says exactly what was and was not done; re-running plan
and apply converges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Action, Change
from reconciler.kinds.base import ApplyOptions, Outcome, Refusal
from reconciler.kinds.topic.placement import REMOVE_THROTTLES
from reconciler.kinds.topic.reassign import (
    move_replicas,
    planned_moves,
    planned_throttle,
    remove_broker_throttles,
    throttle_configs,
    throttle_removals,
)
from reconciler.kinds.topic.risk import CONFIG

if TYPE_CHECKING:
    from reconciler.clients.session import Clients
    from reconciler.clients.topics import ConfigOp, NewTopicRequest, Results


def _config_ops(change: Change) -> list[ConfigOp]:
    """SET for a new value; None (DELETE) where the spec drops an override."""
    return [
        (d.field.removeprefix(CONFIG), None if d.after is None else str(d.after))
        for d in change.diff
        if d.field.startswith(CONFIG)
    ]


def _new_partitions(change: Change) -> int | None:
    for diff in change.diff:
        if diff.field == "partitions" and diff.after != diff.before:
            return int(diff.after)
    return None


def _new_topic(change: Change) -> NewTopicRequest:
    from reconciler.clients.topics import NewTopicRequest

    fields = {d.field: d.after for d in change.diff}
    return NewTopicRequest(
        change.name,
        int(fields["partitions"]),
        int(fields["replicationFactor"]),
        {k.removeprefix(CONFIG): str(v) for k, v in fields.items() if k.startswith(CONFIG)},
    )


class Batches:
    """The admin requests a plan needs, built once and sent twice (validate, then for real)."""

    def __init__(self, changes: Iterable[Change]) -> None:
        self.creates: list[Change] = []
        self.configs: dict[str, list[ConfigOp]] = {}
        self.partitions: dict[str, int] = {}
        self.deletes: list[Change] = []
        self.moves: list[Change] = []
        self.throttles: list[Change] = []
        for change in changes:
            if change.operation == REMOVE_THROTTLES:
                self.throttles.append(change)
            elif change.action is Action.CREATE:
                self.creates.append(change)
            elif change.action is Action.DELETE:
                self.deletes.append(change)
            elif change.action is Action.UPDATE:
                ops = _config_ops(change)
                if ops:
                    self.configs[change.name] = ops
                count = _new_partitions(change)
                if count is not None:
                    self.partitions[change.name] = count
                if planned_moves([change]):
                    self.moves.append(change)
            else:
                raise ReconcilerError(f"cannot apply a {change.action} of {change.name}")

    def steps(
        self, clients: Clients, options: ApplyOptions | None
    ) -> list[tuple[str, Callable[[], Results]]]:
        """Every write but deletes, in order, each sent when called; without `options` (a
        preflight) validate-only, and the moves as their throttle configs validated."""
        admin, check = clients.topics(), options is None
        creates = [_new_topic(c) for c in self.creates]
        moves: Callable[[], Results]
        if options is None:
            moves = lambda: _validate_throttles(clients, self.moves, self.throttles)  # noqa: E731
        else:
            moves = lambda: move_replicas(clients, self.moves, options)  # noqa: E731
        return [
            ("create", lambda: admin.create_topics(creates, validate_only=check)),
            ("update config", lambda: admin.alter_topic_configs(self.configs, validate_only=check)),
            ("move replicas", moves),
            (
                "add partitions",
                lambda: admin.create_partitions(self.partitions, validate_only=check),
            ),
        ]


def _validate_throttles(
    clients: Clients, moves: Sequence[Change], removals: Sequence[Change]
) -> Results:
    """The throttle configs a move sets, and removals of left-behind ones, validate-only."""
    if not moves and not removals:
        return {}
    rate = planned_throttle(moves)
    brokers, topics = throttle_configs(planned_moves(moves), rate) if rate else ({}, {})
    for change in removals:
        brokers.update(throttle_removals(change))
    answered = clients.replicas().set_configs(brokers, topics, validate_only=True)
    refused = "; ".join(f"{name}: {err}" for name, err in sorted(answered.items()) if err)
    return {c.name: refused or None for c in (*moves, *removals)}


def preflight(clients: Clients, changes: Sequence[Change]) -> list[Refusal]:
    """Ask the brokers to validate every write; writes nothing."""
    if not changes:
        return []
    by_name = {c.name: c for c in changes}
    refusals: list[Refusal] = []
    for step, send in Batches(changes).steps(clients, None):
        refusals.extend(
            Refusal(by_name[name], f"{step} {name}: {err}") for name, err in send().items() if err
        )
    return refusals


def apply(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    """Run the writes in order; one outcome per change, whatever happens.

    The engine has run every kind's preflight before the first write of any kind.
    """
    admin = clients.topics()
    batches = Batches(changes)
    failures: dict[str, list[str]] = {}
    done: dict[str, list[str]] = {}

    def record(step: str, results: Mapping[str, str | None]) -> None:
        for name, err in results.items():
            if err:
                failures.setdefault(name, []).append(f"{step} failed: {err}")
            else:
                done.setdefault(name, []).append(step)
        if results:
            ok = sum(1 for e in results.values() if not e)
            options.progress(f"{step}: {ok} of {len(results)} succeeded")

    for step, send in batches.steps(clients, options):
        record(step, send())
    record("remove throttles", remove_broker_throttles(clients, batches.throttles))
    if failures and batches.deletes:
        for change in batches.deletes:
            failures.setdefault(change.name, []).append(
                "delete not attempted because earlier changes failed"
            )
        options.progress(f"delete: skipped {len(batches.deletes)} because earlier changes failed")
    else:
        record("delete", admin.delete_topics([c.name for c in batches.deletes]))
    outcomes = []
    for change in changes:
        if change.name in failures:
            did = done.get(change.name)
            partial = f" ({', '.join(did)} succeeded)" if did else ""
            outcomes.append(Outcome(change, False, "; ".join(failures[change.name]) + partial))
        else:
            outcomes.append(Outcome(change, True, ", ".join(done.get(change.name, []))))
    return outcomes
