"""The `reconciler` command: validate, show, plan, apply, snapshot, outputs, doctor, github, and
a local cluster.

Exit codes (as `terraform plan`): 0 success or no changes; 1 error (invalid specs, an
unreachable cluster, a change that policy forbids or Kafka cannot make); 2 changes present,
only with --detailed-exitcode.

Each command imports what it uses when it runs, so `reconciler --version` and `validate`
never load a client library.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

import click

from reconciler import __version__
from reconciler.core.errors import ReconcilerError
from reconciler.core.listeners import LISTENERS

if TYPE_CHECKING:
    from reconciler.core.environment import Environment
    from reconciler.core.model import Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
ENV_DIR = click.Path(exists=False, file_okay=False, path_type=Path)
#: Libraries whose exceptions reach the CLI only through a gap in the clients layer; they are
#: still one clear line, never a traceback.
_LIBRARIES = ("confluent_kafka", "botocore", "boto3")


def _outside_repo(command: Any) -> Any:
    return click.option(
        "--allow-outside-repo",
        is_flag=True,
        help="Let include and caFile paths leave the repository (local use only).",
    )(command)


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(EXIT_ERROR)


def _library_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _LIBRARIES


class _Group(click.Group):
    """One clear message and exit 1 for every expected failure, never a traceback; the
    `github` and `local` groups load only when called."""

    lazy: ClassVar[dict[str, str]] = {
        "github": "reconciler.github.cli:github",
        "local": "reconciler.cli_local:local",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attr = self.lazy[name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ReconcilerError, OSError) as exc:  # SpecError included
            _fail(str(exc))
        except Exception as exc:
            if type(exc).__name__ == "LocalKafkaError" or _library_error(exc):
                _fail(f"{type(exc).__name__}: {exc}")
            raise
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
        library = logging.getLogger("reconciler.librdkafka")
        library.setLevel(logging.DEBUG)
        library.propagate = True


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@_outside_repo
def validate(env_dir: Path, allow_outside_repo: bool) -> None:
    """Check ENV_DIR's specs offline: every problem, with file:line:column."""
    from reconciler.engine.load import load
    from reconciler.kinds.registry import KINDS

    desired = load(env_dir, allow_outside_repo=allow_outside_repo)
    counts = [kind.plural(n) for kind in KINDS if (n := kind.count(desired.kinds[kind.name]))]
    click.echo(
        f"{env_dir}: valid ({', '.join(counts) or 'nothing declared'} in "
        f"{len(desired.files)} files, environment {desired.environment.name})"
    )


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@_outside_repo
def show(env_dir: Path, allow_outside_repo: bool) -> None:
    """Print the effective specs of ENV_DIR: includes, defaults and overrides applied."""
    from reconciler.engine.load import load
    from reconciler.engine.show import render_effective

    click.echo(render_effective(load(env_dir, allow_outside_repo=allow_outside_repo)), nl=False)


def _render(plan: Plan, output: str, color: bool) -> str:
    if output == "json":
        from reconciler.render.plan_json import render_json

        return render_json(plan, tool_version=__version__)
    if output == "markdown":
        from reconciler.render.markdown import render_markdown

        return render_markdown(plan)
    from reconciler.render.text import render_text

    return render_text(plan, color=color)


def _interactive() -> bool:
    """Whether a person is at the keyboard (so a command may ask)."""
    return sys.stdin.isatty()


def _color(option: bool | None) -> bool:
    return sys.stdout.isatty() if option is None else option


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a cancelled CI job, `kill`) raises KeyboardInterrupt like Ctrl-C does, once,
    so apply's clean-up (cancel unfinished moves, remove throttles) runs either way; a
    second signal during the clean-up is ignored rather than cutting it short."""
    received = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        if not received:
            received = True
            raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    previous_int = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def _status_line() -> Any:
    """On a terminal, a status line rewritten in place; elsewhere None (plain lines)."""
    if not sys.stdout.isatty():
        return None

    def show(line: str) -> None:
        click.echo(f"\r\x1b[K  {line}", nl=False)

    return show


@main.command()
@click.argument("env_dirs", nargs=-1, required=True, type=ENV_DIR, metavar="ENV_DIR...")
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
    help="Also save the plan as JSON here, for `apply --plan`; with several ENV_DIRs, a "
    "path with {environment} in it (out/{environment}/plan.json), one file each.",
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
@click.option(
    "--trusted-base",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The base branch's checkout: connect only if ENV_DIR connects exactly as it says "
    "there (pull requests).",
)
@_outside_repo
def plan(
    *,
    env_dirs: tuple[Path, ...],
    output: str,
    out_file: Path | None,
    detailed_exitcode: bool,
    color: bool | None,
    observed_file: Path | None,
    trusted_base: Path | None,
    allow_outside_repo: bool,
) -> None:
    """Show what apply would change in ENV_DIR's cluster. Writes nothing to the cluster.

    Several ENV_DIRs are planned at once, one output each in the order given (JSON: one
    document, see the README); the exit code is 1 when any failed, else 2 when any has
    changes (with --detailed-exitcode), else 0.
    """
    if len(env_dirs) > 1:
        if observed_file is not None:
            _fail("--observed takes one ENV_DIR: plan against each snapshot on its own")
        if out_file is not None and _EACH not in str(out_file):
            _fail(
                f"with several ENV_DIRs, --out names one file per environment: put {_EACH} "
                f"in it, e.g. --out 'out/{_EACH}/plan.json'"
            )
        sys.exit(
            _plan_many(
                env_dirs,
                output,
                out_file=out_file,
                detailed_exitcode=detailed_exitcode,
                color=_color(color),
                trusted_base=trusted_base,
                allow_outside_repo=allow_outside_repo,
            )
        )
    [env_dir] = env_dirs
    if observed_file is not None:
        from reconciler.engine.snapshot import plan_from_snapshot

        result = plan_from_snapshot(
            env_dir,
            observed_file,
            trusted_base=trusted_base,
            allow_outside_repo=allow_outside_repo,
        )
    else:
        from reconciler.engine.plan import plan_environment

        result = plan_environment(
            env_dir, trusted_base=trusted_base, allow_outside_repo=allow_outside_repo
        ).plan
    click.echo(_render(result, output, _color(color)), nl=output != "json")
    if out_file is not None:
        _save(result, out_file)
    if result.errors:
        _fail(f"{len(result.errors)} change(s) cannot be made; see the reasons above")
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


#: In `plan --out` with several ENV_DIRs: where each environment's name goes.
_EACH = "{environment}"


def _save(plan: Plan, out_file: Path) -> None:
    """The plan JSON, for `apply --plan` (`{environment}` in the path: its name)."""
    from reconciler.render.plan_json import render_json

    path = Path(str(out_file).replace(_EACH, plan.environment))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_json(plan, tool_version=__version__), encoding="utf-8")


def _exit_code(plan: Plan | None, detailed: bool) -> int:
    """What `plan` of one environment exits with (None: it could not be planned)."""
    if plan is None or plan.errors:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed and plan.has_changes else EXIT_OK


def _plan_many(
    env_dirs: tuple[Path, ...],
    output: str,
    *,
    out_file: Path | None,
    detailed_exitcode: bool,
    color: bool,
    trusted_base: Path | None,
    allow_outside_repo: bool,
) -> int:
    """`plan DIR...`: each environment's output whole, in the order given, as soon as it
    and those before it are planned; returns the combined exit code."""
    from reconciler.engine.plan import plan_environments
    from reconciler.render.plan_json import EnvironmentOutcome, render_environments_json

    outcomes = []
    results = plan_environments(
        env_dirs, trusted_base=trusted_base, allow_outside_repo=allow_outside_repo
    )
    for env_dir, result in results:
        plan, error = (None, result) if isinstance(result, Exception) else (result, None)
        message = None
        if error is not None:
            if not isinstance(error, (ReconcilerError, OSError)) and not _library_error(error):
                raise error
            message = (
                str(error)
                if isinstance(error, (ReconcilerError, OSError))
                else (f"{type(error).__name__}: {error}")
            )
        elif plan is not None and plan.errors:
            message = f"{len(plan.errors)} change(s) cannot be made; see the reasons above"
        outcome = EnvironmentOutcome(
            str(env_dir), _exit_code(plan, detailed_exitcode), plan, message
        )
        outcomes.append(outcome)
        if output == "text":
            click.echo(f"==> {env_dir} <==")
        if plan is not None and output != "json":
            click.echo(_render(plan, output, color))
        if plan is not None and out_file is not None:
            _save(plan, out_file)
        if message is not None:
            click.secho(f"error: {env_dir}: {message}", fg="red", err=True)
    if output == "json":
        click.echo(render_environments_json(outcomes, tool_version=__version__), nl=False)
    codes = {o.exit_code for o in outcomes}
    return EXIT_ERROR if EXIT_ERROR in codes else max(codes)


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
    help="Seconds to wait for each MSK operation (they take 15-45 minutes on real MSK) and "
    "for the replica moves; moves unfinished by then are cancelled.",
)
@click.option(
    "--poll-seconds", default=5.0, show_default=True, help="How often to check MSK operations."
)
@_outside_repo
def apply(
    *,
    env_dir: Path,
    plan_file: Path | None,
    auto_approve: bool,
    color: bool | None,
    wait_timeout: float,
    poll_seconds: float,
    allow_outside_repo: bool,
) -> None:
    """Make ENV_DIR's cluster match its specs, then verify that the plan is empty."""
    from reconciler.core.model import Action
    from reconciler.engine.apply import apply_and_verify
    from reconciler.engine.plan import plan_environment
    from reconciler.kinds.base import ApplyOptions, Mode
    from reconciler.render.text import render_text

    planned = plan_environment(
        env_dir,
        mode=Mode.AGREED if plan_file else Mode.PLAN,
        allow_outside_repo=allow_outside_repo,
    )
    current = planned.plan
    if plan_file is not None:
        from reconciler.engine.saved import check_saved_plan
        from reconciler.render.plan_json import plan_from_json

        saved = plan_from_json(plan_file.read_text(encoding="utf-8"))
        check_saved_plan(saved, current)
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
        planned = replace(planned, validated=False)  # time passed: validate the writes again
        if plan_file is not None:  # the prompt may have waited for hours: look again
            planned = plan_environment(
                env_dir, mode=Mode.AGREED, allow_outside_repo=allow_outside_repo
            )
            check_saved_plan(saved, planned.plan)
    status = _status_line()

    def progress(line: str) -> None:
        click.echo(f"{chr(13) + chr(27) + '[K' if status else ''}  {line}")

    options = ApplyOptions(
        progress=progress,
        wait_seconds=wait_timeout,
        poll_seconds=poll_seconds,
        status=status,
    )
    try:
        with _terminate_as_interrupt():
            applied = apply_and_verify(planned, options)
    except KeyboardInterrupt as exc:
        _fail(
            f"apply interrupted ({exc or 'SIGINT'}); what finished stays, unfinished replica moves "
            "were cancelled and throttles removed. Run plan to see what is left, then apply again"
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
@click.option("--cancel", is_flag=True, help="Cancel them (each partition goes back).")
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@_outside_repo
def reassignments(
    env_dir: Path, cancel: bool, topics: tuple[str, ...], allow_outside_repo: bool
) -> None:
    """List the replica reassignments in flight on ENV_DIR's managed topics; --cancel them.

    A cancelled reassignment puts its partition back on the replicas it had before the move
    (replicas it was copying to are dropped), and the throttles of those topics are removed.
    """
    from reconciler.engine.observe import connect, load_trusted
    from reconciler.kinds.topic.model import KIND
    from reconciler.kinds.topic.reassign import cancel_in_flight, managed_in_flight

    desired = load_trusted(env_dir, allow_outside_repo=allow_outside_repo)
    clients = connect(desired.environment)
    owned = desired.kinds[KIND]
    flights = managed_in_flight(clients, owned, topics)
    for (topic, partition), (original, target) in flights.items():
        click.echo(f"  {topic} partition {partition}: {list(original)} -> {list(target)}")
    if not cancel:
        click.echo(f"{len(flights)} reassignment(s) in flight on managed topics.")
        return
    cancelled, errors = cancel_in_flight(clients, owned, topics)
    for error in errors:
        click.secho(f"  FAILED {error}", fg="red")
    if errors:
        _fail("some cancels or throttle removals failed; run the command again")
    click.echo(f"{cancelled} reassignment(s) cancelled; their throttles removed.")


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
@_outside_repo
def snapshot(env_dir: Path, out_file: Path, allow_outside_repo: bool) -> None:
    """Record ENV_DIR's observed state, for `plan --observed` where it is unreachable."""
    from reconciler.engine.snapshot import dump_snapshot, snapshot_environment

    taken = snapshot_environment(env_dir, allow_outside_repo=allow_outside_repo)
    out_file.write_text(dump_snapshot(taken), encoding="utf-8")
    cluster = taken.observed.cluster
    recorded = ", ".join(name for name, state in taken.observed.kinds.items() if state is not None)
    click.echo(
        f"{out_file}: {recorded or 'nothing'} of {taken.environment}, "
        f"cluster {cluster.cluster_id if cluster else '(not reachable)'}"
    )


@main.command("import")
@click.argument("env_dir", type=ENV_DIR)
@click.option(
    "--select",
    multiple=True,
    metavar="GLOB",
    help="Import only these names [default: all]; a plain name that cannot be imported fails.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Never import these names.")
@click.option(
    "--layout",
    type=click.Choice(["kind", "prefix"]),
    default="kind",
    show_default=True,
    help="One file per kind, or topics grouped by name prefix (topics/<prefix>.yaml).",
)
@click.option(
    "--factor-defaults",
    is_flag=True,
    help="Move config values most topics share into the Environment's topics.defaults.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Rewrite or remove the files an earlier import wrote (and replace topics.defaults).",
)
@_outside_repo
def import_command(
    *,
    env_dir: Path,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    layout: str,
    factor_defaults: bool,
    force: bool,
    allow_outside_repo: bool,
) -> None:
    """Write what ENV_DIR's cluster runs as spec files: the first plan after it is empty."""
    from reconciler.engine.importer import import_environment
    from reconciler.kinds.base import Selection
    from reconciler.kinds.registry import BY_NAME
    from reconciler.specs.files import display_path

    selection = Selection(select or ("*",), exclude, factor_defaults)
    imported = import_environment(
        env_dir,
        selection,
        layout="prefix" if layout == "prefix" else "kind",
        force=force,
        allow_outside_repo=allow_outside_repo,
    )
    what = ", ".join(BY_NAME[name].plural(n) for name, n in imported.counts.items() if n)
    for warning in imported.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    files = [display_path(p) for p in imported.files]
    if imported.environment_changed:
        files.append("the Environment's topics.defaults")
    click.echo(f"imported {what or 'nothing'} into {', '.join(files) or 'no file'}")
    if imported.removed:
        removed = ", ".join(display_path(p) for p in imported.removed)
        click.echo(f"removed {removed}: an earlier import wrote them, and nothing is left to hold")
    click.echo(f"next: reconciler plan {env_dir} (it should show no changes), then commit")


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the schemas here.",
)
def schemas(out_dir: Path) -> None:
    """Write the JSON Schemas of every spec kind, for editors (yaml-language-server) and CI."""
    from reconciler.scaffold import write_schemas

    for path in write_schemas(out_dir):
        click.echo(str(path))


@main.command()
@click.argument("root", type=click.Path(file_okay=False, path_type=Path))
@click.option("--environment", default=None, help="The first environment's name [default: dev].")
@click.option("--bootstrap-servers", default=None, help="host:port,... or ${VAR}.")
@click.option(
    "--security-protocol",
    type=click.Choice(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]),
    default=None,
    help="How to reach the brokers [default: SSL].",
)
@click.option("--msk-region", default=None, help="The MSK cluster's region.")
@click.option(
    "--msk-cluster", default=None, help="The MSK cluster's name (its brokers come from MSK)."
)
@click.option("--manage", multiple=True, metavar="GLOB", help="Topics it owns [default: *].")
@click.option("--action", "action_ref", default=None, help="OWNER/REPO@SHA # vX of the action.")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
def init(
    *,
    root: Path,
    environment: str | None,
    bootstrap_servers: str | None,
    security_protocol: str | None,
    msk_region: str | None,
    msk_cluster: str | None,
    manage: tuple[str, ...],
    action_ref: str | None,
    force: bool,
) -> None:
    """Scaffold a specs repository: an environment, its schemas, and the four workflows.

    On a terminal and without any of the flags above --action, asks for the environment and
    how to reach it; given any of them, asks nothing (the others take their defaults).
    """
    from reconciler.scaffold import ACTION, Setup, check_environment_name
    from reconciler.scaffold import init as scaffold

    given = (environment, bootstrap_servers, security_protocol, msk_region, msk_cluster)
    if not any(given) and not manage and _interactive():

        def name(text: str) -> str:
            try:
                check_environment_name(text)
            except ReconcilerError as exc:
                raise click.BadParameter(str(exc)) from None
            return text

        environment = click.prompt("Environment name", default="dev", value_proc=name)
        msk_cluster = click.prompt("MSK cluster name (empty: give the brokers)", default="") or None
        if msk_cluster:
            msk_region = click.prompt("Its region", default="eu-central-1")
        else:
            bootstrap_servers = click.prompt("Bootstrap servers (host:port,... or ${VAR})")
    if msk_region and not msk_cluster:
        _fail("--msk-region names the region of --msk-cluster: pass both, or neither")
    setup = Setup(
        environment=environment or "dev",
        bootstrap_servers=bootstrap_servers,
        security_protocol=security_protocol or "SSL",
        msk_region=msk_region,
        msk_cluster=msk_cluster,
        manage=manage or ("*",),
        action=action_ref or ACTION,
    )
    for path in scaffold(root, setup, force=force):
        click.echo(f"wrote {path}")
    env_dir = root / "specs" / setup.environment
    click.echo(f"next: reconciler import {env_dir} (adopt what the cluster runs), then commit")


def _load_environment(env_dir: Path, allow_outside_repo: bool) -> Environment:
    from reconciler.engine.load import load

    return load(env_dir, allow_outside_repo=allow_outside_repo).environment


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json", "env", "properties"]),
    default="text",
    show_default=True,
    help="text/json: every output, as terraform output prints them; env/properties: the "
    "client settings of one listener.",
)
@click.option(
    "--listener",
    type=click.Choice([listener.name for listener in LISTENERS]),
    help="The listener for env/properties [default: the one securityProtocol uses].",
)
@_outside_repo
def outputs(env_dir: Path, fmt: str, listener: str | None, allow_outside_repo: bool) -> None:
    """Print what `terraform output` gives for ENV_DIR's MSK cluster: ARN, version, bootstrap
    brokers per listener, ZooKeeper connect strings; or a client's env / properties."""
    from reconciler.clients.session import Clients
    from reconciler.kinds.msk_cluster.observe import reading
    from reconciler.kinds.msk_cluster.outputs import read_outputs, render_outputs
    from reconciler.specs.variables import expand

    environment = _load_environment(env_dir, allow_outside_repo)
    msk = environment.msk
    if msk is None:
        raise ReconcilerError(
            f"{env_dir}: outputs reads the MSK cluster, and this Environment names none: add "
            "spec.msk (region, clusterName) to it"
        )
    connection = environment.connection
    if connection.ca_file:  # only a path; a variable that is not set means "no CA bundle"
        connection = replace(connection, ca_file=expand(connection.ca_file, os.environ)[0] or None)
    clients = Clients(connection, msk)
    with reading("reading the cluster's outputs"):
        found = read_outputs(clients.msk(), msk.cluster, msk.region)
    click.echo(render_outputs(found, fmt, connection, listener), nl=False)


@main.command()
@click.argument("env_dir", type=ENV_DIR)
@_outside_repo
def doctor(env_dir: Path, allow_outside_repo: bool) -> None:
    """Check, one line each, what ENV_DIR's connection needs: the MSK cluster, each broker's
    DNS, TCP, listener and TLS, SASL, the reconciler's permissions, the security groups.
    Exits 1 when a check fails, with what to do."""
    from reconciler.doctor.checks import render
    from reconciler.doctor.run import run_doctor

    report = run_doctor(env_dir, allow_outside_repo=allow_outside_repo)
    click.echo(render(report.header, report.checks), nl=False)
    if report.failed:
        sys.exit(EXIT_ERROR)
