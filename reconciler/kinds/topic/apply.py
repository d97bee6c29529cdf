"""Topic writes: validated all at once, then made in a safe order.

Every write is first sent with validate_only, so the brokers check the whole plan before the
first real write (a bad config value never half-applies), and plan runs the same check so a
pull request's plan already shows a broker's refusal. Then batched calls in a safe order:
CreateTopics, IncrementalAlterConfigs, CreatePartitions, and DeleteTopics last and only when
everything before it succeeded. Each change gets its own outcome, so a partial failure says
exactly what was and was not done; re-running plan and apply converges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Action, Change
from reconciler.kinds.base import ApplyOptions, Outcome, Refusal
from reconciler.kinds.topic.risk import CONFIG

if TYPE_CHECKING:
    from reconciler.clients.kafka import ConfigOp, KafkaAdmin, NewTopicRequest, Results
    from reconciler.clients.session import Clients


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
    from reconciler.clients.kafka import NewTopicRequest

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
        for change in changes:
            if change.action is Action.CREATE:
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
            else:
                raise ReconcilerError(f"cannot apply a {change.action} of {change.name}")

    def steps(self, admin: KafkaAdmin, *, validate_only: bool) -> Iterator[tuple[str, Results]]:
        """Every write but deletes (which cannot be validated), each sent as its turn comes."""
        creates = [_new_topic(c) for c in self.creates]
        yield "create", admin.create_topics(creates, validate_only=validate_only)
        yield "update config", admin.alter_topic_configs(self.configs, validate_only=validate_only)
        yield (
            "add partitions",
            admin.create_partitions(self.partitions, validate_only=validate_only),
        )


def preflight(clients: Clients, changes: Sequence[Change]) -> list[Refusal]:
    """Ask the brokers to validate every write; writes nothing."""
    if not changes:
        return []
    by_name = {c.name: c for c in changes}
    refusals: list[Refusal] = []
    for step, results in Batches(changes).steps(clients.kafka(), validate_only=True):
        refusals.extend(
            Refusal(by_name[name], f"{step} {name}: {err}") for name, err in results.items() if err
        )
    return refusals


def apply(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    """Run the writes in order; one outcome per change, whatever happens.

    The engine has run every kind's preflight before the first write of any kind.
    """
    admin = clients.kafka()
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

    for step, results in batches.steps(admin, validate_only=False):
        record(step, results)
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
