"""`reconciler github ...`: the GitHub half of the GitOps loop, called by the workflows.

Each command is one step of a workflow: which environments a change affects, the plan
comment on the pull request, the approved-digest check before apply, the apply result, and
the drift issue. Errors print one line and exit 1, as everywhere in the CLI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Plan
from reconciler.github.affected import affected, discover
from reconciler.github.bodies import (
    Outcome,
    apply_result,
    context_line,
    drift_gone,
    drift_issue,
    error_comment,
    link,
    plan_comment,
    with_result,
)
from reconciler.github.client import GitHub, Repo
from reconciler.github.comments import plan_comment_of, upsert_plan_comment, write_comment
from reconciler.github.context import DEFAULT_BOT, write_output
from reconciler.github.context import run_url as current_run_url
from reconciler.github.issues import close_drift_issue, upsert_drift_issue
from reconciler.github.markers import parse_plan_marker
from reconciler.github.pulls import check_approved, merged_pull, pulls_of_commit
from reconciler.render.plan_json import plan_from_json
from reconciler.specs.environment import directory_name

ENV_DIR = click.Path(file_okay=False, path_type=Path)
FILE = click.Path(dir_okay=False, path_type=Path)


class _Group(click.Group):
    """One clear line and exit 1 for every expected failure, as the main CLI does."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


def _repo_option(f: Any) -> Any:
    return click.option(
        "--repo",
        envvar="GITHUB_REPOSITORY",
        required=True,
        help="OWNER/NAME [default: $GITHUB_REPOSITORY].",
    )(f)


def _bot_option(f: Any) -> Any:
    return click.option(
        "--bot-login",
        envvar="RECONCILER_BOT_LOGIN",
        default=DEFAULT_BOT,
        show_default=True,
        help="Login the workflow's token posts as; only its comments and issues are used.",
    )(f)


def _run_url_option(f: Any) -> Any:
    return click.option(
        "--run-url", default=None, help="Link to the workflow run [default: from $GITHUB_*]."
    )(f)


def _read_plan(path: Path | None) -> Plan | None:
    if path is None or not path.is_file():
        return None
    return plan_from_json(path.read_text(encoding="utf-8"))


def _read_text(path: Path | None) -> str:
    if path is None or not path.is_file():
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _hint(env_dir: Path, url: str | None) -> str:
    """Where the whole plan is when the comment cannot hold it: the run's plan artifact."""
    artifact = f"`plan-{directory_name(env_dir)}` artifact"
    where = f"of {link('this run', url)}" if url else "of this job's run"
    return f"the full plan is in the {artifact} {where}"


def _body(
    env_dir: Path,
    plan_file: Path | None,
    error_file: Path | None,
    commit: str | None,
    url: str | None,
) -> tuple[str, str]:
    """(environment, comment body): the plan when there is one, else why there is none."""
    context = context_line(commit, url)
    plan = _read_plan(plan_file)
    if plan is not None:
        return plan.environment, plan_comment(plan, hint=_hint(env_dir, url), context=context)
    error = _read_text(error_file) or "No plan was made; the job log says why."
    name = directory_name(env_dir)  # the loader holds metadata.name to it; nothing is parsed
    return name, error_comment(name, error, context=context)


@click.group(cls=_Group)
def github() -> None:
    """Pull-request plan comments, approved-plan checks and drift issues (for the workflows)."""


@github.command("affected")
@click.option(
    "--changed-files",
    type=click.File("r", encoding="utf-8"),
    required=True,
    help="Changed paths, one a line, relative to the repository root ('-' for stdin).",
)
@click.option("--specs-dir", type=ENV_DIR, default=Path("specs"), show_default=True)
@click.option(
    "--repo-root",
    type=ENV_DIR,
    default=Path(),
    help="The checkout the changed paths are relative to [default: the current directory]; "
    "the workflows run from outside the pull request's checkout and name it here.",
)
@click.option(
    "--environments",
    envvar="RECONCILER_ENVIRONMENTS",
    default=None,
    help="JSON list of the environments the workflows manage [default: every directory "
    "under --specs-dir with an Environment].",
)
@click.option("--github-output", "output", default=None, help="Also set this step output.")
def affected_command(
    *,
    changed_files: Any,
    specs_dir: Path,
    repo_root: Path,
    environments: str | None,
    output: str | None,
) -> None:
    """Print (as a JSON list) the managed environments the changed files touch."""
    if environments:
        try:
            names = json.loads(environments)
        except json.JSONDecodeError as error:
            raise ReconcilerError(f"--environments is not JSON ({error})") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ReconcilerError('--environments must be a JSON list of names, e.g. ["dev"]')
    else:
        names = discover(specs_dir)
    found = affected(changed_files, specs_dir, names, repo_root)
    text = json.dumps(found)
    click.echo(text)
    if output:
        write_output(output, text)


def _plan_inputs(f: Any) -> Any:
    f = click.option("--commit", default=None, help="The commit the plan is of.")(f)
    f = click.option(
        "--error-file", type=FILE, default=None, help="What `plan` printed on stderr."
    )(f)
    f = click.option("--plan", "plan_file", type=FILE, default=None, help="The plan.json.")(f)
    return click.argument("env_dir", type=ENV_DIR)(f)


@github.command("plan-body")
@_plan_inputs
@_run_url_option
def plan_body(
    *,
    env_dir: Path,
    plan_file: Path | None,
    error_file: Path | None,
    commit: str | None,
    run_url: str | None,
) -> None:
    """Print the plan comment (for the job summary): the plan, or why none was made."""
    _name, body = _body(env_dir, plan_file, error_file, commit, run_url or current_run_url())
    click.echo(body, nl=False)


@github.command("comment-plan")
@_plan_inputs
@click.option("--pr", "number", type=int, required=True, help="Pull request number.")
@_repo_option
@_bot_option
@_run_url_option
def comment_plan(
    *,
    env_dir: Path,
    plan_file: Path | None,
    error_file: Path | None,
    commit: str | None,
    number: int,
    repo: str,
    bot_login: str,
    run_url: str | None,
) -> None:
    """Create or update the pull request's one comment for ENV_DIR's environment."""
    name, body = _body(env_dir, plan_file, error_file, commit, run_url or current_run_url())
    gh, where = GitHub.from_env(), Repo.parse(repo)
    action, comment = upsert_plan_comment(
        gh, where, number, environment=name, body=body, bot=bot_login
    )
    click.echo(f"{action.value} the {name} plan comment on #{number}: {comment.url}")


@github.command("merged-pr")
@click.option("--commit", required=True, help="The pushed commit ($GITHUB_SHA).")
@click.option("--branch", default=None, help="Only pull requests merged into this branch.")
@_repo_option
@click.option("--github-output", "output", default=None, help="Also set this step output.")
def merged_pr(*, commit: str, branch: str | None, repo: str, output: str | None) -> None:
    """Print the number of the merged pull request that made COMMIT; exit 1 when none did."""
    pull = merged_pull(pulls_of_commit(GitHub.from_env(), Repo.parse(repo), commit), commit, branch)
    click.echo(str(pull.number))
    if output:
        write_output(output, str(pull.number))


@github.command("check-approved")
@click.option("--plan", "plan_file", type=FILE, required=True, help="The plan made just now.")
@click.option("--pr", "number", type=int, required=True, help="The merged pull request.")
@_repo_option
@_bot_option
def check_approved_command(*, plan_file: Path, number: int, repo: str, bot_login: str) -> None:
    """Exit 0 only if the plan's digests equal those on the pull request's reviewed comment."""
    plan = _read_plan(plan_file)
    if plan is None:
        raise ReconcilerError(f"{plan_file} does not exist: no plan was made")
    gh, where = GitHub.from_env(), Repo.parse(repo)
    comment = plan_comment_of(gh, where, number, plan.environment, bot_login)
    marker = parse_plan_marker(comment.body) if comment else None
    check_approved(plan, marker, number)
    click.echo(
        f"the plan of {plan.environment} is the one reviewed on #{number} "
        f"({plan.specs_digest[:19]}, {plan.observed_digest[:19]})"
    )


@github.command("record-apply")
@click.argument("env_dir", type=ENV_DIR)
@click.option("--pr", "number", type=int, required=True, help="The merged pull request.")
@click.option(
    "--outcome",
    type=click.Choice([o.value for o in Outcome]),
    required=True,
    help="How the apply ended.",
)
@click.option("--plan", "plan_file", type=FILE, default=None, help="The plan that was applied.")
@click.option("--log", "logs", type=FILE, multiple=True, help="Output to show (the tail).")
@_repo_option
@_bot_option
@_run_url_option
def record_apply(
    *,
    env_dir: Path,
    number: int,
    outcome: str,
    plan_file: Path | None,
    logs: tuple[Path, ...],
    repo: str,
    bot_login: str,
    run_url: str | None,
) -> None:
    """Add the apply result to the environment's plan comment; the reviewed plan stays."""
    plan = _read_plan(plan_file)
    name = plan.environment if plan is not None else directory_name(env_dir)
    gh, where = GitHub.from_env(), Repo.parse(repo)
    comment = plan_comment_of(gh, where, number, name, bot_login)
    if comment is None:
        raise ReconcilerError(f"pull request #{number} has no {name} plan comment to update")
    log = "\n".join(text for text in map(_read_text, logs) if text.strip())
    result = apply_result(Outcome(outcome), plan, log=log, run_url=run_url or current_run_url())
    action, updated = write_comment(gh, where, number, comment, with_result(comment.body, result))
    click.echo(f"{action.value} the {name} plan comment on #{number}: {updated.url}")


@github.command("drift")
@click.option("--plan", "plan_file", type=FILE, required=True, help="The drift check's plan.")
@_repo_option
@_bot_option
@_run_url_option
def drift(*, plan_file: Path, repo: str, bot_login: str, run_url: str | None) -> None:
    """Open or update the environment's drift issue, or close it when the plan is empty."""
    plan = _read_plan(plan_file)
    if plan is None:
        raise ReconcilerError(f"{plan_file} does not exist: no plan was made")
    gh, where = GitHub.from_env(), Repo.parse(repo)
    env = plan.environment
    if plan.has_changes:
        title, body = drift_issue(plan, hint="the full plan is in the drift run's artifacts")
        action, issue = upsert_drift_issue(gh, where, env, title=title, body=body, bot=bot_login)
        click.echo(f"{action.value} the drift issue of {env}: {issue.url}")
        return
    closed = close_drift_issue(gh, where, env, drift_gone(run_url or current_run_url()), bot_login)
    click.echo(f"closed the drift issue of {env}: {closed.url}" if closed else f"no drift in {env}")
