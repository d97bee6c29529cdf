"""The GitHub workflows keep the rules of issue 4, checked offline on every test run.

Structure: minimal permissions per job, timeouts everywhere, cluster jobs on the configurable
self-hosted runner with OIDC (read-only role for plan and drift, write role only for apply,
under a GitHub environment, one at a time), forks kept away from the cluster, actions pinned
to full commit SHAs, no persisted git credentials, no expressions inside scripts. Then the
GitHub workflow JSON Schema (check-jsonschema) and zizmor, which must both pass.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.scaffold import PLAN_RUNNER
from reconciler.specs.environment import valid_name

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
NAMES = ("ci", "plan", "apply", "drift")
PIN = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>\S+)(?:\s+#\s*(?P<version>\S+))?"
)
SHA = re.compile(r"[0-9a-f]{40}")
VERSION = re.compile(r"v\d+\.\d+\.\d+")
RUNNER = "vars.RECONCILER_RUNNER"
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
AWS = "aws-actions/configure-aws-credentials"
PLAN_ENVIRONMENT = "reconciler_plan"
#: Every write scope a job may hold, and why; anything else is read or absent.
WRITES = {
    ("plan", "plan"): {"id-token", "pull-requests"},
    ("apply", "apply"): {"id-token", "pull-requests"},
    ("drift", "drift"): {"id-token", "issues"},
    ("drift", "snapshot"): {"id-token"},
}


def load(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())
    # YAML 1.1 reads the key `on` as the boolean true
    return {("on" if key is True else str(key)): value for key, value in data.items()}


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name in NAMES:
        for job_id, job in load(name)["jobs"].items():
            yield name, job_id, job


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = job.get("steps", [])
    return result


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]


def cluster_job(job: dict[str, Any]) -> bool:
    return bool(uses(job, AWS))


def test_the_four_workflows_exist_and_nothing_else() -> None:
    assert sorted(p.stem for p in WORKFLOWS.glob("*.y*ml")) == sorted(NAMES)


def test_triggers() -> None:
    assert set(load("ci")["on"]) == {"push", "pull_request"}
    plan = load("plan")["on"]
    assert list(plan) == ["pull_request"]  # never pull_request_target: forks get no secrets
    assert plan["pull_request"]["paths"] == ["specs/**"]
    apply = load("apply")["on"]
    assert list(apply) == ["push"]
    assert apply["push"] == {"branches": ["main"], "paths": ["specs/**"]}
    drift = load("drift")["on"]
    assert set(drift) == {"schedule", "workflow_dispatch"}
    assert drift["schedule"][0]["cron"]


def test_no_default_permissions_and_minimal_ones_per_job() -> None:
    for name in NAMES:
        assert load(name)["permissions"] == {}, name
    for name, job_id, job in jobs():
        permissions = job["permissions"]
        assert isinstance(permissions, dict), (name, job_id)
        assert permissions.get("contents") == "read", (name, job_id)
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == WRITES.get((name, job_id), set()), (name, job_id)
        assert set(permissions.values()) <= {"read", "write"}, (name, job_id)


def test_every_job_has_a_timeout() -> None:
    for name, job_id, job in jobs():
        timeout = job.get("timeout-minutes")
        assert isinstance(timeout, int), (name, job_id)
        assert 0 < timeout <= (615 if job_id == "apply" else 60), (name, job_id)


def _outlasts_every_wait(job: dict[str, Any], step: dict[str, Any], wait_seconds: int) -> None:
    """apply runs the MSK operations one at a time and then the replica moves, each waited on
    for up to --wait-timeout: the step must end before the job (so the result is recorded)
    and leave room for all of them and an hour of planning and verifying."""
    from reconciler.kinds.msk_cluster.rules import CLUSTER_OPERATIONS

    waits = len(CLUSTER_OPERATIONS) + 1
    assert step["timeout-minutes"] < job["timeout-minutes"]
    assert step["timeout-minutes"] * 60 >= waits * wait_seconds + 3600


def test_the_apply_job_outlasts_every_wait_an_apply_may_make() -> None:
    job = load("apply")["jobs"]["apply"]
    [step] = [s for s in steps(job) if s.get("name") == "Apply"]
    wait = re.search(r"--wait-timeout (\d+)", step["run"])
    assert wait, "the wait is said, not left to the default"
    _outlasts_every_wait(job, step, int(wait[1]))
    scaffolded = _scaffolded()["apply"]["jobs"]["apply"]
    [action] = [s for s in steps(scaffolded) if s.get("with", {}).get("command") == "apply"]
    _outlasts_every_wait(scaffolded, action, int(action["with"]["wait-timeout"]))
    script = (WORKFLOWS.parents[1] / "action" / "run.sh").read_text()
    assert '--wait-timeout "$WAIT_TIMEOUT"' in script


def test_cluster_jobs_run_on_the_configured_self_hosted_runner_and_others_on_hosted() -> None:
    cluster = set()
    for name, job_id, job in jobs():
        runs_on = str(job["runs-on"])
        if cluster_job(job):
            cluster.add((name, job_id))
            assert RUNNER in runs_on, (name, job_id)
            assert "'self-hosted'" in runs_on, (name, job_id)
            assert runs_on.startswith("${{ fromJSON("), (name, job_id)
        else:
            assert runs_on == "ubuntu-latest", (name, job_id)
            assert "id-token" not in job["permissions"], (name, job_id)
    assert cluster == {
        ("plan", "plan"),
        ("apply", "apply"),
        ("drift", "drift"),
        ("drift", "snapshot"),
    }


def test_oidc_roles_read_only_for_plan_and_drift_write_only_for_apply() -> None:
    for name, job_id, job in jobs():
        for step in uses(job, AWS):
            role = step["with"]["role-to-assume"]
            expected = (
                "RECONCILER_APPLY_ROLE_ARN" if name == "apply" else "RECONCILER_PLAN_ROLE_ARN"
            )
            assert role == f"${{{{ vars.{expected} }}}}", (name, job_id)
            assert set(step["with"]) >= {"aws-region", "role-session-name"}
            assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])
            assert job["permissions"]["id-token"] == "write"


def test_apply_runs_under_an_environment_one_at_a_time_never_cancelled() -> None:
    job = load("apply")["jobs"]["apply"]
    assert job["environment"] == "${{ matrix.environment }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "${{ matrix.environment }}" in job["concurrency"]["group"]
    assert job["strategy"]["fail-fast"] is False
    assert "concurrency" not in load("apply")  # a workflow-level group would cancel queued ones
    names = [s.get("name", "") for s in steps(job)]
    check = names.index("Compare with the plan reviewed on the pull request")
    assert check < names.index("Apply")
    apply_step = steps(job)[names.index("Apply")]
    assert "--plan out/plan.json" in apply_step["run"]  # apply refuses a changed state itself


def test_a_pull_requests_plan_waits_for_the_plan_environment_and_nothing_else_deploys() -> None:
    """apply runs under the environment of its name. A pull request's plan, on the self-hosted
    runner, runs under `reconciler_plan`, whose required reviewers approve each run and whose
    subject alone the plan role trusts (docs/gitops.md); no specs directory can have that
    name, so it never doubles as an apply environment."""
    deploying = {(n, j): job["environment"] for n, j, job in jobs() if "environment" in job}
    assert deploying == {
        ("apply", "apply"): "${{ matrix.environment }}",
        ("plan", "plan"): PLAN_ENVIRONMENT,
    }
    assert not valid_name(PLAN_ENVIRONMENT)
    scaffolded = _scaffolded()
    assert scaffolded["plan"]["jobs"]["plan"]["environment"] == PLAN_ENVIRONMENT
    assert scaffolded["apply"]["jobs"]["apply"]["environment"] == "${{ matrix.environment }}"
    assert load("plan")["jobs"]["plan"]["runs-on"] == PLAN_RUNNER
    assert "vars.RECONCILER_PLAN_RUNNER" in PLAN_RUNNER


def test_forks_never_reach_the_cluster() -> None:
    plan_jobs = load("plan")["jobs"]
    assert FORK_GUARD in plan_jobs["plan"]["if"]
    fork = plan_jobs["plan-fork"]
    assert FORK_GUARD.replace("==", "!=") in fork["if"]
    assert not cluster_job(fork)
    assert fork["runs-on"] == "ubuntu-latest"
    assert "--observed out/snapshot.json" in " ".join(s.get("run", "") for s in steps(fork))


def test_pull_requests_run_the_base_branchs_reconciler_which_says_where_to_connect() -> None:
    """A pull request's own code never runs in the plan workflow, and its plans connect only
    where the base branch's specs say (`--trusted-base`)."""
    base = "${{ github.event.pull_request.base.sha }}"
    for job_id, job in load("plan")["jobs"].items():
        checkouts = [c["with"] for c in uses(job, "actions/checkout")]
        assert {"ref": base, "path": "base", "persist-credentials": False} in checkouts, job_id
        installs = [s["run"] for s in steps(job) if "pip install" in s.get("run", "")]
        assert installs and all(
            i.rstrip().endswith('pip install "$GITHUB_WORKSPACE/base"') for i in installs
        ), job_id
    for job_id in ("plan", "plan-fork"):
        runs = [s.get("run", "") for s in steps(load("plan")["jobs"][job_id])]
        plans = [r for r in runs if '"${reconciler[@]}" plan ' in r]
        assert plans and all("--trusted-base base " in r for r in plans), job_id


# -- no file of a checkout is ever code: Python runs isolated, never in a pull request's checkout

#: Where a command starts in a shell line: at its start, after punctuation (`|`, `&&`, `;`,
#: `(`, `$(`...) and after these keywords.
_COMMAND_START = {"if", "then", "do", "else", "elif", "while"}
_PYTHON = re.compile(r"(?:.*/)?python(?:3(?:\.\d+)?)?")
_PR_TRIGGERS = {"pull_request", "pull_request_target"}


def _commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a bash script, as its words (quotes removed)."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in lexer:
            if token in _COMMAND_START or not token.strip("();|&!") or token.endswith("$"):
                if words:
                    yield words
                words = []
            else:
                words.append(token)
        if words:
            yield words


def unisolated_python(script: str) -> list[str]:
    """Commands that start a Python process which may import from the working directory or
    from PYTHON* variables: anything but `<python> -I ...` (so never `pip` or the
    `reconciler` console script, whose interpreter runs without -I)."""
    found = []
    for words in _commands(script):
        head = words[0]
        python = bool(_PYTHON.fullmatch(head)) and words[1:2] != ["-I"]
        if python or head in {"pip", "pip3", "reconciler"} or head.endswith("/pip"):
            found.append(" ".join(words))
    return found


def _inside(directory: str, checkout: str) -> bool:
    """Whether a working directory (relative to the workspace) lies in a checkout."""
    directory, checkout = posixpath.normpath(directory or "."), posixpath.normpath(checkout)
    return checkout in {".", directory} or directory.startswith(checkout + "/")


def checkout_violations(workflow: dict[Any, Any]) -> list[str]:
    """Every Python process a workflow starts is isolated (`python -I`), and on a pull request
    no step runs with the pull request's checkout as its working directory: a `pip/` or
    `reconciler/` folder there would otherwise be imported in place of the real one."""
    on = workflow.get("on") or workflow.get(True) or {}
    pull_request = bool(_PR_TRIGGERS & set(on if isinstance(on, dict | list) else [on]))
    default = (workflow.get("defaults") or {}).get("run", {}).get("working-directory", "")
    found = []
    for job_id, job in workflow["jobs"].items():
        job_default = (job.get("defaults") or {}).get("run", {}).get("working-directory", default)
        checkouts = [
            str((c.get("with") or {}).get("path", "."))
            for c in uses(job, "actions/checkout")
            if "ref" not in (c.get("with") or {})  # a pull request's run: its merge commit
        ]
        for step in steps(job):
            if "run" not in step:
                continue
            where = f"{job_id}: {step.get('name') or step['run'].splitlines()[0]}"
            found += [f"{where}: not `python -I`: {c}" for c in unisolated_python(step["run"])]
            cwd = str(step.get("working-directory", job_default))
            if pull_request and "${{" not in cwd and any(_inside(cwd, c) for c in checkouts):
                found.append(f"{where}: runs in the pull request's checkout ({cwd or '.'})")
    return found


def test_the_rule_catches_a_pull_requests_pip_standing_in_for_the_real_one() -> None:
    """The shape the review found in plan.yml: `python -m pip install ../base` run inside the
    pull request's checkout, then the `reconciler` console script."""
    workflow = yaml.safe_load(
        "on: pull_request\njobs:\n  plan:\n    defaults: {run: {working-directory: pr}}\n"
        "    steps:\n      - uses: actions/checkout@x\n        with: {path: pr}\n"
        "      - run: python -m pip install ../base\n"
        "      - run: |\n          set +e\n          reconciler plan specs/dev || pip list\n"
        "        working-directory: ${{ runner.temp }}\n"
    )
    assert checkout_violations(workflow) == [
        "plan: python -m pip install ../base: not `python -I`: python -m pip install ../base",
        "plan: python -m pip install ../base: runs in the pull request's checkout (pr)",
        "plan: set +e: not `python -I`: reconciler plan specs/dev",
        "plan: set +e: not `python -I`: pip list",
    ]
    isolated = '"$RUNNER_TEMP/venv/bin/python" -I -m reconciler plan x | tee out.log'
    assert unisolated_python(isolated) == []
    assert unisolated_python('r=$(python -m reconciler --version); x=("$V/python" -I)') == [
        "python -m reconciler --version"
    ]


def _scaffolded() -> dict[str, dict[str, Any]]:
    from reconciler.scaffold import WORKFLOWS as TEMPLATES
    from reconciler.scaffold import Setup, workflow_text

    return {name: yaml.safe_load(workflow_text(name, Setup())) for name in TEMPLATES}


@pytest.mark.parametrize("name", ["plan", "apply", "drift"])
def test_no_python_process_imports_from_a_checkout(name: str) -> None:
    """ci.yml is the exception: it tests the pull request's own code, on a hosted runner
    with no credentials."""
    assert checkout_violations(load(name)) == []


def test_the_scaffolded_workflows_and_the_action_import_nothing_from_a_checkout() -> None:
    for name, workflow in _scaffolded().items():
        assert checkout_violations(workflow) == [], name
    action = yaml.safe_load((WORKFLOWS.parents[1] / "action.yml").read_text())
    runs = [s for s in action["runs"]["steps"] if "run" in s]
    assert runs
    for step in runs:
        # the caller's workspace may be a pull request's checkout: every step runs elsewhere
        assert step["working-directory"] == "${{ runner.temp }}", step["name"]
        assert unisolated_python(step["run"]) == [], step["name"]


def test_plan_fails_on_errors_not_changes_and_drift_fails_on_drift() -> None:
    plan = load("plan")["jobs"]["plan"]
    run = {s.get("id"): s.get("run", "") for s in steps(plan)}
    assert "--detailed-exitcode" in run["plan"]
    assert "set +e" in run["plan"]
    fail = steps(plan)[-1]
    assert '"$EXIT_CODE" = 1' in fail["run"]
    drift = load("drift")["jobs"]["drift"]
    assert "--detailed-exitcode" in {s.get("id"): s.get("run", "") for s in steps(drift)}["plan"]
    assert "2) " in steps(drift)[-1]["run"]


def test_the_scaffolded_drift_job_plans_every_environment_in_one_process() -> None:
    """Like this repository's own drift.yml: one job, no matrix, the action given every
    environment's name (it plans them with one `plan DIR...`)."""
    from reconciler.scaffold import Setup, workflow_text

    drift = yaml.safe_load(workflow_text("drift", Setup(environment="prod")))["jobs"]["drift"]
    assert "strategy" not in drift
    assert "matrix" not in json.dumps(drift)
    [action] = [s for s in steps(drift) if s.get("with", {}).get("command") == "drift"]
    assert action["with"]["environment"] == "prod"


def test_every_checkout_drops_its_credentials() -> None:
    for name, job_id, job in jobs():
        for step in uses(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, (name, job_id)


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    pins: dict[str, set[str]] = {}
    for name in NAMES:
        for line in (WORKFLOWS / f"{name}.yml").read_text().splitlines():
            if "uses:" not in line:
                continue
            match = PIN.match(line)
            assert match, f"{name}: {line.strip()}"
            assert SHA.fullmatch(match["sha"]), f"{name}: not a 40-hex commit: {line.strip()}"
            assert match["version"], f"{name}: say the version in a comment: {line.strip()}"
            assert VERSION.fullmatch(match["version"]), f"{name}: {line.strip()}"
            pins.setdefault(match["action"].split("/", 2)[1], set()).add(match["sha"])
    assert {k: len(v) for k, v in pins.items() if len(v) > 1} == {}  # one version everywhere


def test_scripts_take_values_from_env_never_from_expressions() -> None:
    for name, job_id, job in jobs():
        for step in steps(job):
            assert "${{" not in step.get("run", ""), (name, job_id, step.get("name"))


def test_no_secrets_are_used() -> None:
    for name in NAMES:
        assert "secrets." not in (WORKFLOWS / f"{name}.yml").read_text(), name


def test_the_workflows_match_githubs_schema() -> None:
    result = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *sorted(str(p) for p in WORKFLOWS.glob("*.yml")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1


def _zizmor(target: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--format",
            "json",
            "--min-severity",
            "medium",
            "--no-progress",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # 0: no findings; 10 + the highest severity: findings. Anything else failed to audit.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_zizmor_finds_nothing_at_medium_or_above() -> None:
    findings = _zizmor(WORKFLOWS)
    assert [f["ident"] for f in findings] == []


def test_zizmor_does_flag_what_these_workflows_avoid(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    idents = {f["ident"] for f in _zizmor(tmp_path / "bad.yml")}
    assert {"artipacked", "template-injection"} <= idents


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is a dev dependency (pip install -e '.[dev]')"
    return path


@pytest.mark.parametrize("name", NAMES)
def test_each_workflow_says_what_it_does(name: str) -> None:
    text = (WORKFLOWS / f"{name}.yml").read_text()
    assert text.startswith("# "), name
    assert load(name)["name"] == name
