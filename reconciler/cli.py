"""The `reconciler` command: validate, show, plan, apply, and a local Kafka cluster.

Exit codes (as `terraform plan`): 0 success or no changes; 1 error (invalid specs, an
unreachable cluster, a change that policy forbids or Kafka cannot make); 2 changes present,
only with --detailed-exitcode.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import KafkaException

from reconciler import __version__
from reconciler.connection import LIBRDKAFKA_LOG
from reconciler.errors import ReconcilerError
from reconciler.github.cli import github
from reconciler.local.kafka import cluster as local_cluster
from reconciler.local.kafka.distribution import DEFAULT_KAFKA_VERSION
from reconciler.local.kafka.errors import LocalKafkaError
from reconciler.local.msk import endpoint as msk_endpoint
from reconciler.model import Action, Plan
from reconciler.pipeline import (
    agreed_plan,
    apply_and_verify,
    check_saved_plan,
    plan_environment,
    plan_from_snapshot,
    snapshot_environment,
)
from reconciler.render.markdown import render_markdown
from reconciler.render.plan_json import plan_from_json, render_json
from reconciler.render.text import render_text
from reconciler.snapshot import dump_snapshot
from reconciler.specs.load import load
from reconciler.specs.show import render_effective

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
ENV_DIR = click.Path(exists=False, file_okay=False, path_type=Path)


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(EXIT_ERROR)


class _Group(click.Group):
    """Turns every ReconcilerError into one clear message and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ReconcilerError, LocalKafkaError) as exc:  # SpecError included
            _fail(str(exc))
        except KafkaException as exc:  # e.g. a caFile librdkafka cannot read
            _fail(f"Kafka client: {exc.args[0] if exc.args else exc}")
        except (BotoCoreError, ClientError) as exc:
            _fail(f"AWS: {exc} (check AWS credentials and region: AWS_PROFILE / AWS_REGION)")
        except OSError as exc:
            _fail(str(exc))
        return None


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", is_flag=True, help="Show client and broker log messages.")
def main(verbose: bool) -> None:
    """Declarative GitOps reconciler for Amazon MSK and Apache Kafka."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.ERROR + 10,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if verbose:
        LIBRDKAFKA_LOG.setLevel(logging.DEBUG)
        LIBRDKAFKA_LOG.propagate = True


@main.command()
@click.argument("env_dir", type=ENV_DIR)
def validate(env_dir: Path) -> None:
    """Check ENV_DIR's specs offline: every problem, with file:line:column."""
    desired = load(env_dir)
    click.echo(
        f"{env_dir}: valid ({len(desired.topics)} topics in {len(desired.files)} files, "
        f"environment {desired.environment.name})"
    )


@main.command()
@click.argument("env_dir", type=ENV_DIR)
def show(env_dir: Path) -> None:
    """Print the effective specs of ENV_DIR: includes, defaults and overrides applied."""
    click.echo(render_effective(load(env_dir)), nl=False)


def _render(plan: Plan, output: str, color: bool) -> str:
    if output == "json":
        return render_json(plan, tool_version=__version__)
    if output == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=color)


def _color(option: bool | None) -> bool:
    return sys.stdout.isatty() if option is None else option


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="How to print the plan.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan as JSON here, for `apply --plan`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 none, 1 error), as terraform plan.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text output [default: on a terminal]."
)
@click.option(
    "--observed",
    "observed_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Plan against this snapshot (from `reconciler snapshot`) instead of the cluster.",
)
def plan(
    *,
    env_dir: Path,
    output: str,
    out_file: Path | None,
    detailed_exitcode: bool,
    color: bool | None,
    observed_file: Path | None,
) -> None:
    """Show what apply would change in ENV_DIR's cluster. Writes nothing to the cluster."""
    if observed_file is not None:
        result = plan_from_snapshot(env_dir, observed_file)
    else:
        result = plan_environment(env_dir).plan
    click.echo(_render(result, output, _color(color)), nl=output != "json")
    if out_file is not None:
        out_file.write_text(render_json(result, tool_version=__version__), encoding="utf-8")
    if result.errors:
        _fail(f"{len(result.errors)} change(s) cannot be made; see the reasons above")
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply this saved plan, only if specs and cluster still match it.",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--color/--no-color", default=None, help="Colour the text output [default: on a terminal]."
)
@click.option(
    "--wait-timeout",
    default=3600.0,
    show_default=True,
    help="Seconds to wait for each MSK operation (they take 15-45 minutes on real MSK).",
)
@click.option(
    "--poll-seconds", default=5.0, show_default=True, help="How often to check MSK operations."
)
def apply(
    *,
    env_dir: Path,
    plan_file: Path | None,
    auto_approve: bool,
    color: bool | None,
    wait_timeout: float,
    poll_seconds: float,
) -> None:
    """Make ENV_DIR's cluster match its specs, then verify that the plan is empty."""
    planned = plan_environment(env_dir)
    if plan_file is not None:
        planned = agreed_plan(planned)
    current = planned.plan
    if plan_file is not None:
        check_saved_plan(plan_from_json(plan_file.read_text(encoding="utf-8")), current)
    click.echo(render_text(current, color=_color(color)))
    if current.errors:
        _fail(f"{len(current.errors)} change(s) cannot be made; nothing was applied")
    if not current.changes:
        return
    if not auto_approve:
        if not sys.stdin.isatty():
            _fail("refusing to apply without confirmation: pass --auto-approve in automation")
        if not click.confirm("Apply these changes?", default=False):
            _fail("cancelled; nothing was applied")
    applied = apply_and_verify(
        planned,
        progress=lambda line: click.echo(f"  {line}"),
        msk_wait_seconds=wait_timeout,
        msk_poll_seconds=poll_seconds,
    )
    for outcome in applied.outcomes:
        change = outcome.change
        mark = (
            click.style("done  ", fg="green") if outcome.done else click.style("FAILED", fg="red")
        )
        steps = outcome.detail if (change.action is Action.UPDATE or not outcome.done) else ""
        what = f"{change.kind} {change.name}" + (
            f" ({change.operation})" if change.operation else ""
        )
        click.echo(f"{mark} {change.action} {what}{': ' + steps if steps else ''}")
    if not applied.ok:
        if applied.remaining.changes:
            click.echo("\nStill different after apply:")
            click.echo(render_text(applied.remaining, color=_color(color)))
        _fail("apply did not complete; re-run plan to see what is left, then apply again")
    click.echo(f"Apply complete: {len(applied.outcomes)} changes made; the plan is now empty.")


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@click.option(
    "-o",
    "--output",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the snapshot here.",
)
def snapshot(env_dir: Path, out_file: Path) -> None:
    """Record ENV_DIR's observed cluster state, for `plan --observed` where it is unreachable."""
    taken = snapshot_environment(env_dir)
    out_file.write_text(dump_snapshot(taken), encoding="utf-8")
    click.echo(
        f"{out_file}: {len(taken.observed.topics)} topics of {taken.environment}, "
        f"cluster {taken.observed.cluster_id}"
    )


main.add_command(github)


@main.group()
def local() -> None:
    """A real local Apache Kafka cluster (KRaft) on loopback, for trying the tool and for tests."""


@local.command("up")
@click.option("--brokers", default=3, show_default=True, help="Number of brokers.")
@click.option("--kafka-version", default=DEFAULT_KAFKA_VERSION, show_default=True)
@click.option(
    "--timeout", default=180.0, show_default=True, help="Seconds to wait for the brokers."
)
def local_up(brokers: int, kafka_version: str, timeout: float) -> None:
    """Start the cluster (or keep the running one) and print shell exports of its address.

    Use it as: eval "$(reconciler local up)"
    """
    started = local_cluster.up(brokers=brokers, version=kafka_version, timeout=timeout)
    endpoint = msk_endpoint.start(started.state_dir, started.bootstrap_servers)
    click.echo(
        f"# Kafka {started.kafka_version}: {len(started.brokers)} brokers at "
        f"{started.bootstrap_servers}; MSK endpoint {endpoint.url} "
        f"(cluster {msk_endpoint.LOCAL_CLUSTER!r})",
        err=True,
    )
    click.echo(local_cluster.shell_exports(started))
    click.echo(f"export {msk_endpoint.ENDPOINT_ENV}={endpoint.url}")


@local.command("down")
def local_down() -> None:
    """Stop the cluster and remove its data (harmless when nothing runs)."""
    msk_endpoint.stop(local_cluster.default_state_dir())
    removed = local_cluster.down()
    click.echo(
        "Local Kafka cluster stopped and removed." if removed else "No local cluster to stop."
    )


@local.command("status")
def local_status() -> None:
    """Show the local cluster's brokers and whether they run; exit 1 when it does not."""
    found = local_cluster.status()
    click.echo(local_cluster.render_status(found))
    endpoint = msk_endpoint.running(local_cluster.default_state_dir())
    click.echo(
        f"  MSK endpoint:       {endpoint.url} (pid {endpoint.pid})"
        if endpoint
        else "  MSK endpoint:       not running"
    )
    if found is None or not found.alive:
        sys.exit(EXIT_ERROR)
