"""Execute a plan: the only writer.

Every write is first sent with validate_only, so the brokers check the whole plan before the
first real write (a bad config value never half-applies). Then batched calls in a safe order:
CreateTopics, IncrementalAlterConfigs, CreatePartitions, and DeleteTopics last and only when
everything before it succeeded. Each change gets its own outcome, so a partial failure says
exactly what was and was not done; re-running plan and apply converges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from reconciler.errors import ReconcilerError
from reconciler.model import Action, Change, Plan

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """What happened to one change."""

    change: Change
    done: bool
    detail: str


class PreflightFailed(ReconcilerError):
    """The brokers refused part of the plan in validate-only mode; nothing was written."""


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args:
        error = exc.args[0]
        return f"{error.name()}: {error.str()}" if hasattr(error, "name") else str(error)
    return str(exc)


def _collect(futures: Mapping[str, Future[object]]) -> dict[str, str | None]:
    """Wait for every future; None for success, else the broker's error text."""
    results: dict[str, str | None] = {}
    for name, future in futures.items():
        try:
            future.result()
            results[name] = None
        except Exception as exc:  # each future carries its own broker error
            results[name] = _error_text(exc)
    return results


def _by_resource(futures: Mapping[ConfigResource, Future[object]]) -> dict[str, Future[object]]:
    return {resource.name: future for resource, future in futures.items()}


def _config_ops(change: Change) -> list[ConfigEntry]:
    ops = []
    for diff in change.diff:
        if not diff.field.startswith("config."):
            continue
        key = diff.field.removeprefix("config.")
        if diff.after is None:  # the spec drops this override: fall back to the inherited value
            ops.append(ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE))
        else:
            ops.append(
                ConfigEntry(key, str(diff.after), incremental_operation=AlterConfigOpType.SET)
            )
    return ops


def _new_partitions(change: Change) -> int | None:
    for diff in change.diff:
        if diff.field == "partitions" and diff.after != diff.before:
            return int(diff.after)
    return None


class _Batches:
    """The admin requests a plan needs, built once and sent twice (validate, then for real)."""

    def __init__(self, changes: Iterable[Change]) -> None:
        self.creates: list[Change] = []
        self.configs: list[Change] = []
        self.partitions: list[Change] = []
        self.deletes: list[Change] = []
        for change in changes:
            if change.action is Action.CREATE:
                self.creates.append(change)
            elif change.action is Action.DELETE:
                self.deletes.append(change)
            elif change.action is Action.UPDATE:
                if _config_ops(change):
                    self.configs.append(change)
                if _new_partitions(change) is not None:
                    self.partitions.append(change)
            else:
                raise ReconcilerError(f"cannot apply a {change.action} of {change.name}")

    def create_topics(
        self, admin: AdminClient, timeout: float, validate_only: bool
    ) -> dict[str, str | None]:
        if not self.creates:
            return {}
        topics = []
        for change in self.creates:
            fields = {d.field: d.after for d in change.diff}
            config = {
                k.removeprefix("config."): str(v)
                for k, v in fields.items()
                if k.startswith("config.")
            }
            topics.append(
                NewTopic(
                    change.name,
                    num_partitions=int(fields["partitions"]),
                    replication_factor=int(fields["replicationFactor"]),
                    config=config,
                )
            )
        futures = admin.create_topics(
            topics, operation_timeout=timeout, request_timeout=timeout, validate_only=validate_only
        )
        return _collect(futures)

    def alter_configs(
        self, admin: AdminClient, timeout: float, validate_only: bool
    ) -> dict[str, str | None]:
        if not self.configs:
            return {}
        resources = [
            ConfigResource(ResourceType.TOPIC, c.name, incremental_configs=_config_ops(c))
            for c in self.configs
        ]
        futures = admin.incremental_alter_configs(
            resources, request_timeout=timeout, validate_only=validate_only
        )
        return _collect(_by_resource(futures))

    def create_partitions(
        self, admin: AdminClient, timeout: float, validate_only: bool
    ) -> dict[str, str | None]:
        if not self.partitions:
            return {}
        requests = [NewPartitions(c.name, int(_new_partitions(c) or 0)) for c in self.partitions]
        futures = admin.create_partitions(
            requests,
            operation_timeout=timeout,
            request_timeout=timeout,
            validate_only=validate_only,
        )
        return _collect(futures)

    def delete_topics(self, admin: AdminClient, timeout: float) -> dict[str, str | None]:
        if not self.deletes:
            return {}
        names = [c.name for c in self.deletes]
        futures = admin.delete_topics(names, operation_timeout=timeout, request_timeout=timeout)
        return _collect(futures)


def preflight(admin: AdminClient, plan: Plan, timeout: float) -> None:
    """Ask the brokers to validate every write; raise with all refusals, having written nothing."""
    batches = _Batches(plan.changes)
    refusals: list[str] = []
    for step, results in (
        ("create", batches.create_topics(admin, timeout, validate_only=True)),
        ("update config", batches.alter_configs(admin, timeout, validate_only=True)),
        ("add partitions", batches.create_partitions(admin, timeout, validate_only=True)),
    ):
        refusals.extend(f"  {step} {name}: {err}" for name, err in results.items() if err)
    if refusals:
        raise PreflightFailed(
            "the brokers refused part of the plan in validate-only mode; nothing was written:\n"
            + "\n".join(refusals)
            + "\n  what to do: fix the specs and run plan again"
        )


def execute(admin: AdminClient, plan: Plan, timeout: float, progress: Progress) -> list[Outcome]:
    """Run the plan's writes in order; one outcome per change, whatever happens.

    The caller has run `preflight` before the first write of any kind (MSK included).
    """
    batches = _Batches(plan.changes)
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
            progress(f"{step}: {ok} of {len(results)} succeeded")

    record("create", batches.create_topics(admin, timeout, validate_only=False))
    record("update config", batches.alter_configs(admin, timeout, validate_only=False))
    record("add partitions", batches.create_partitions(admin, timeout, validate_only=False))
    if failures and batches.deletes:
        for change in batches.deletes:
            failures.setdefault(change.name, []).append(
                "delete not attempted because earlier changes failed"
            )
        progress(f"delete: skipped {len(batches.deletes)} because earlier changes failed")
    else:
        record("delete", batches.delete_topics(admin, timeout))
    outcomes = []
    for change in plan.changes:
        if change.name in failures:
            did = done.get(change.name)
            partial = f" ({', '.join(did)} succeeded)" if did else ""
            outcomes.append(Outcome(change, False, "; ".join(failures[change.name]) + partial))
        else:
            outcomes.append(Outcome(change, True, ", ".join(done.get(change.name, []))))
    return outcomes
