"""Apply MSK changes: the only writer of the control plane.

One operation at a time, in plan order. Before each cluster update it waits until the cluster
is ACTIVE with no operation in flight (never racing another writer), re-reads CurrentVersion,
skips the change when the live cluster already has it, then waits for the MSK operation to
finish, reporting its steps. A stale CurrentVersion (someone else updated in between) is
re-read and retried. Every wait is bounded by `wait_seconds`; on a timeout, an UPDATE_FAILED
operation (with MSK's ErrorInfo) or a FAILED cluster, the remaining changes are not attempted,
so nothing runs on top of a cluster in an unknown state. Requests are rebuilt from the
changes' field diffs over the live cluster, so a saved plan applies what was reviewed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.clients.session import find_cluster_arn
from reconciler.core.errors import ApiError, ConnectionFailure, ReconcilerError
from reconciler.core.model import Change
from reconciler.core.polling import attempts
from reconciler.kinds.base import ApplyOptions, Outcome
from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.fields import (
    MAP_FIELDS,
    create_request,
    flatten,
    from_fields,
    update_request,
)
from reconciler.kinds.msk_cluster.model import OperationStep, parse_label
from reconciler.kinds.msk_cluster.observe import (
    describe_operation,
    find_configuration,
    observe_cluster,
    observe_configuration,
)

if TYPE_CHECKING:
    from reconciler.clients.aws import Service
    from reconciler.clients.session import Clients

#: How often a stale CurrentVersion is re-read before giving up on a change.
VERSION_RETRIES = 3
CLUSTER_OPERATIONS = frozenset(rules.CLUSTER_OPERATIONS)
DESCRIPTION = "Managed by msk-reconciler"


class ApplyFailed(ReconcilerError):
    """One MSK change did not complete; the message says what MSK reported and what to do."""


def _merge(fields: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """Live fields with the change's `after` values laid over them (map keys may vanish)."""
    merged = dict(fields)
    for diff in change.diff:
        merged[diff.field] = diff.after
    return {k: v for k, v in merged.items() if not (v is None and k.split(".")[0] in MAP_FIELDS)}


def _properties(base: Mapping[str, str], change: Change) -> dict[str, str]:
    result = dict(base)
    for diff in change.diff:
        if diff.field.startswith("serverProperties."):
            key = diff.field.removeprefix("serverProperties.")
            if diff.after is None:
                result.pop(key, None)
            else:
                result[key] = str(diff.after)
    return result


def _label_of(change: Change) -> tuple[str | None, str]:
    for diff in change.diff:
        if diff.field == "configuration":
            return diff.before, str(diff.after)
    raise ApplyFailed(f"{change.operation} has no configuration diff")


def _step_text(steps: tuple[OperationStep, ...]) -> str:
    if not steps:
        return ""
    done = sum(1 for s in steps if s.status == "COMPLETED")
    current = next((s for s in steps if s.status not in {"COMPLETED", "PENDING"}), None)
    now = f", {current.name} {current.status}" if current else ""
    return f"step {done}/{len(steps)}{now}"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@dataclass
class _Applier:
    msk: Service
    logs: Service
    options: ApplyOptions
    arns: dict[str, str] = field(default_factory=dict)
    configurations: dict[str, str] = field(default_factory=dict)

    def progress(self, line: str) -> None:
        self.options.progress(line)

    def waiting(self) -> Any:
        return attempts(self.options.wait_seconds, self.options.poll_seconds)

    # -- lookups -----------------------------------------------------------------------------

    def cluster_arn(self, name: str) -> str:
        if name not in self.arns:
            arn = find_cluster_arn(self.msk, name)
            if arn is None:
                raise ApplyFailed(f"MSK cluster {name} does not exist (any more); plan again")
            self.arns[name] = arn
        return self.arns[name]

    def configuration_arn(self, name: str) -> str:
        if name not in self.configurations:
            found = find_configuration(self.msk, name)
            if found is None:
                raise ApplyFailed(f"MSK configuration {name} does not exist; plan again")
            self.configurations[name] = found.arn
        return self.configurations[name]

    def _describe(self, arn: str) -> dict[str, Any]:
        info: dict[str, Any] = self.msk.call("describe_cluster_v2", ClusterArn=arn)["ClusterInfo"]
        return info

    # -- waiting -----------------------------------------------------------------------------

    def wait_until_ready(self, name: str) -> None:
        """Block until ACTIVE with nothing in flight; refuse a FAILED or DELETING cluster."""
        arn = self.cluster_arn(name)
        last = what = ""
        for _ in self.waiting():
            info = self._describe(arn)
            state = str(info.get("State"))
            running = info.get("ActiveOperationArn")
            if state == "ACTIVE" and not running:
                return
            if state in {"FAILED", "DELETING"}:
                detail = (info.get("StateInfo") or {}).get("Message")
                raise ApplyFailed(
                    f"MSK cluster {name} is {state}{f' ({detail})' if detail else ''}: MSK "
                    "accepts no update in this state"
                )
            what = state
            if running:
                operation = describe_operation(self.msk, str(running))
                what = f"{state}: {operation.type} {_step_text(operation.steps)}"
            if what != last:
                self.progress(f"waiting for MSK cluster {name} ({what})")
                last = what
        raise ApplyFailed(
            f"MSK cluster {name} was still {what} after {self.options.wait_seconds:g}s; nothing "
            "was changed by this step. Run apply again once the cluster is ACTIVE"
        )

    def wait_for_operation(self, operation_arn: str, label: str) -> str:
        """Follow one cluster operation to UPDATE_COMPLETE, reporting each step change."""
        last = state = ""
        for attempt in self.waiting():
            operation = describe_operation(self.msk, operation_arn)
            state = operation.state
            if state == "UPDATE_COMPLETE":
                self.progress(f"{label}: complete after {attempt.elapsed:.0f}s")
                return f"{label}: UPDATE_COMPLETE"
            if state == "UPDATE_FAILED":
                raise ApplyFailed(
                    f"{label} failed: MSK reports {operation.error or 'no error info'} "
                    f"(operation {operation_arn}). MSK keeps the previous settings; fix the "
                    "cause and run plan again"
                )
            text = f"{state} {_step_text(operation.steps)}".strip()
            if text != last:
                self.progress(f"{label}: {text} ({attempt.elapsed:.0f}s)")
                last = text
        raise ApplyFailed(
            f"{label} was still {state} after {self.options.wait_seconds:g}s; MSK keeps "
            "running it, nothing after it was attempted. Run plan again once it finishes "
            f"(operation {operation_arn})"
        )

    def wait_for_creation(self, name: str) -> str:
        arn = self.cluster_arn(name)
        state = ""
        for attempt in self.waiting():
            info = self._describe(arn)
            state = str(info.get("State"))
            if state == "ACTIVE":
                self.progress(f"CreateClusterV2 {name}: ACTIVE after {attempt.elapsed:.0f}s")
                return f"CreateClusterV2: {name} is ACTIVE"
            if state == "FAILED":
                reason = info.get("StateInfo") or {}
                raise ApplyFailed(
                    f"MSK could not create {name}: {reason.get('Code', '')} "
                    f"{reason.get('Message', 'no state info')}".strip()
                )
        raise ApplyFailed(
            f"MSK cluster {name} was still {state} after {self.options.wait_seconds:g}s; MSK "
            "keeps creating it. Run plan again once it is ACTIVE"
        )

    # -- operations --------------------------------------------------------------------------

    def run(self, change: Change) -> str:
        operation = change.operation or ""
        if operation in CLUSTER_OPERATIONS:
            return self.cluster_update(change)
        handler = {
            "CreateLogGroup": self.create_log_group,
            "PutRetentionPolicy": self.put_retention,
            "CreateConfiguration": self.write_configuration,
            "UpdateConfiguration": self.write_configuration,
            "CreateClusterV2": self.create_cluster,
            "TagResource": self.tag,
            "UntagResource": self.untag,
        }.get(operation)
        if handler is None:
            raise ApplyFailed(f"no MSK operation to apply for {change.name} ({operation or '?'})")
        return handler(change)

    def _request(self, change: Change, live_fields: Mapping[str, Any]) -> dict[str, Any]:
        operation = str(change.operation)
        if operation == "UpdateClusterConfiguration":
            name, revision = parse_label(_label_of(change)[1])
            return {
                "ConfigurationInfo": {"Arn": self.configuration_arn(name), "Revision": revision}
            }
        desired = from_fields(change.name, _merge(live_fields, change))
        return update_request(operation, desired, (d.field for d in change.diff))

    def cluster_update(self, change: Change) -> str:
        operation = str(change.operation)
        for _ in range(VERSION_RETRIES):
            self.wait_until_ready(change.name)
            live = observe_cluster(self.msk, self.logs, self.cluster_arn(change.name))
            if live is None:
                raise ApplyFailed(f"MSK cluster {change.name} disappeared; plan again")
            if operation == "UpdateClusterConfiguration":
                after = _label_of(change)[1]
                if live.configuration is not None and live.configuration.label == after:
                    return f"{operation}: already {after}"
            else:
                fields = flatten(live.actual)
                if all(fields.get(d.field) == d.after for d in change.diff):
                    return f"{operation}: already in place"
            body = self._request(change, flatten(live.actual))
            try:
                response = self.msk.call(
                    _snake(operation),
                    ClusterArn=live.arn,
                    CurrentVersion=live.current_version,
                    **body,
                )
            except ApiError as exc:
                if exc.code == "BadRequestException" and exc.message == rules.STALE_VERSION:
                    self.progress(f"{operation}: the cluster version changed meanwhile; re-reading")
                    continue
                raise ApplyFailed(f"{operation} refused: {exc.code}: {exc.message}") from exc
            self.progress(f"{operation} started on {change.name}")
            return self.wait_for_operation(str(response["ClusterOperationArn"]), operation)
        raise ApplyFailed(
            f"{operation}: the cluster's CurrentVersion kept changing ({VERSION_RETRIES} tries); "
            "another writer is active. Run plan again"
        )

    def create_cluster(self, change: Change) -> str:
        fields = {d.field: d.after for d in change.diff}
        label = fields.pop("configuration", None)
        spec = from_fields(change.name, fields)
        request: dict[str, Any] = {"ClusterName": spec.name, "Provisioned": create_request(spec)}
        if label:
            name, revision = parse_label(str(label))
            request["Provisioned"]["ConfigurationInfo"] = {
                "Arn": self.configuration_arn(name),
                "Revision": revision,
            }
        if spec.tags:
            request["Tags"] = dict(spec.tags)
        response = self._send("CreateClusterV2", "create_cluster_v2", **request)
        self.arns[change.name] = str(response["ClusterArn"])
        self.progress(f"CreateClusterV2 {change.name}: {response.get('State', 'CREATING')}")
        return self.wait_for_creation(change.name)

    def _send(self, label: str, operation: str, **params: Any) -> dict[str, Any]:
        """One MSK write; MSK's refusal becomes this change's failure, in MSK's words."""
        try:
            return self.msk.call(operation, **params)
        except ApiError as exc:
            raise ApplyFailed(f"{label} refused: {exc.code}: {exc.message}") from exc

    def write_configuration(self, change: Change) -> str:
        """A new configuration, or a new revision over the one the plan was made from."""
        before, after = _label_of(change)
        name, revision = parse_label(after)
        operation = str(change.operation)
        base: Mapping[str, str] = {}
        if operation == "UpdateConfiguration" and before is not None:
            base_name, base_revision = parse_label(before)
            base = observe_configuration(
                self.msk, self.configuration_arn(base_name), base_revision
            ).server_properties
        text = rules.render_server_properties(_properties(base, change)).encode()
        label = f"{operation} {name}"
        if operation == "CreateConfiguration":
            response = self._send(
                label,
                "create_configuration",
                Name=name,
                ServerProperties=text,
                Description=DESCRIPTION,
            )
            self.configurations[name] = str(response["Arn"])
        else:
            arn = self.configuration_arn(name)
            response = self._send(
                label,
                "update_configuration",
                Arn=arn,
                ServerProperties=text,
                Description=DESCRIPTION,
            )
        got = int(response["LatestRevision"]["Revision"])
        if got != revision:
            raise ApplyFailed(
                f"MSK made revision {got} of {name}, not the planned {revision}: someone else "
                "changed the configuration. Plan again"
            )
        return f"{operation}: {after}"

    def create_log_group(self, change: Change) -> str:
        name = str(change.diff[0].after)
        try:
            self.logs.call("create_log_group", logGroupName=name)
        except ApiError as exc:
            if exc.code != "ResourceAlreadyExistsException":
                raise ApplyFailed(f"CreateLogGroup {name}: {exc.message}") from exc
            return f"CreateLogGroup: {name} already exists"
        return f"CreateLogGroup: {name}"

    def put_retention(self, change: Change) -> str:
        diff = change.diff[0]
        group = diff.field.removeprefix("logGroup[").removesuffix("].retentionDays")
        try:
            self.logs.call(
                "put_retention_policy", logGroupName=group, retentionInDays=int(diff.after)
            )
        except ApiError as exc:
            raise ApplyFailed(f"PutRetentionPolicy {group}: {exc.message}") from exc
        return f"PutRetentionPolicy: {group} keeps {diff.after} days"

    def tag(self, change: Change) -> str:
        tags = {d.field.removeprefix("tags."): str(d.after) for d in change.diff}
        self.msk.call("tag_resource", ResourceArn=self.cluster_arn(change.name), Tags=tags)
        return f"TagResource: {', '.join(sorted(tags))}"

    def untag(self, change: Change) -> str:
        keys = [d.field.removeprefix("tags.") for d in change.diff]
        self.msk.call("untag_resource", ResourceArn=self.cluster_arn(change.name), TagKeys=keys)
        return f"UntagResource: {', '.join(keys)}"


def apply_changes(
    msk: Service, logs: Service, changes: Sequence[Change], options: ApplyOptions
) -> list[Outcome]:
    """Run the plan's MskCluster changes in order; one Outcome per change, whatever happens.

    Refuses (raises, having written nothing) when any of them is impossible. After a failure
    the remaining changes are reported as not attempted.
    """
    if any(c.blocked for c in changes):
        raise ReconcilerError("the plan has impossible MSK changes; nothing was applied")
    applier = _Applier(msk, logs, options)
    outcomes: list[Outcome] = []
    failure: str | None = None
    for change in changes:
        if failure is not None:
            outcomes.append(Outcome(change, False, f"not attempted: {failure}"))
            continue
        try:
            outcomes.append(Outcome(change, True, applier.run(change)))
        except (ApplyFailed, ApiError, ConnectionFailure) as exc:  # AWS errors after retries
            outcomes.append(Outcome(change, False, str(exc)))
            failure = f"{change.operation} on {change.name} did not complete"
            options.progress(str(exc))
    return outcomes


def apply(clients: Clients, changes: Sequence[Change], options: ApplyOptions) -> list[Outcome]:
    return apply_changes(clients.msk(), clients.logs(), changes, options)
