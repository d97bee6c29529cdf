"""`reconciler init`: a specs repository of one's own, ready for the GitOps loop.

It writes an environment directory with its Environment, the JSON Schemas the editor lines
point at, and the four workflows, which run the msk-reconciler action at a pinned commit and
install a pinned release (never the repository's own code). Existing files are never
replaced without `force`.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reconciler import __version__
from reconciler.core.errors import ReconcilerError
from reconciler.specs.environment import valid_name
from reconciler.specs.schema import SCHEMA_DIR

#: The action this release's workflows use, pinned to a commit as zizmor requires (the commit
#: that added action.yml to this repository); --action pins another fork or release.
ACTION = "msk-reconciler/msk-reconciler@2867a52b2677c99b6e79ca77f3dc48ca073f6871 # v0.1.0"
WORKFLOWS = ("plan", "apply", "drift", "ci")
RUNNER = (
    "${{ fromJSON(startsWith(vars.RECONCILER_RUNNER, '[') && vars.RECONCILER_RUNNER || "
    "format('[\"{0}\"]', vars.RECONCILER_RUNNER || 'self-hosted')) }}"
)
#: The plan job's runner: RECONCILER_PLAN_RUNNER when set (a runner whose network position
#: cannot write to the cluster), else the same as the others.
_PLAN = "(vars.RECONCILER_PLAN_RUNNER || vars.RECONCILER_RUNNER)"
PLAN_RUNNER = (
    f"${{{{ fromJSON(startsWith({_PLAN}, '[') && {_PLAN} || "
    f"format('[\"{{0}}\"]', {_PLAN} || 'self-hosted')) }}}}"
)


class _Template(string.Template):
    delimiter = "%%"  # GitHub's ${{ }} and the specs' ${VAR} stay as they are


@dataclass(frozen=True)
class Setup:
    """What the new repository's first environment connects to."""

    environment: str = "dev"
    bootstrap_servers: str | None = None
    security_protocol: str = "SSL"
    msk_region: str | None = None
    msk_cluster: str | None = None
    manage: tuple[str, ...] = ("*",)
    action: str = ACTION
    version: str = __version__

    @property
    def variable(self) -> str:
        """The runner variable that holds the brokers, when MSK does not give them."""
        return f"MSK_{self.environment.upper().replace('-', '_')}_BOOTSTRAP_SERVERS"


def _template(name: str) -> _Template:
    text = resources.files("reconciler").joinpath("templates", name).read_text(encoding="utf-8")
    return _Template(text)


def environment_text(setup: Setup) -> str:
    kafka = []
    if setup.bootstrap_servers is not None or setup.msk_cluster is None:
        servers = setup.bootstrap_servers or f"${{{setup.variable}}}"
        kafka.append(f"    bootstrapServers: {json.dumps(servers)}")
    kafka.append(f"    securityProtocol: {setup.security_protocol}")
    msk = ""
    if setup.msk_cluster:
        region = f"region: {setup.msk_region}, " if setup.msk_region else ""
        msk = f"  msk: {{{region}clusterName: {setup.msk_cluster}}}\n"
    return _template("environment.yaml").substitute(
        SCHEMAS="../../schemas",
        NAME=setup.environment,
        KAFKA="\n".join(kafka),
        MSK=msk,
        MANAGE=json.dumps(list(setup.manage)),
    )


def workflow_text(name: str, setup: Setup) -> str:
    variables = f"      {setup.variable}: ${{{{ vars.{setup.variable} }}}}"
    return _template(f"workflows/{name}.yml").substitute(
        ACTION=setup.action,
        VERSION=setup.version,
        RUNNER=RUNNER,
        PLAN_RUNNER=PLAN_RUNNER,
        VARIABLES=variables,
        ENVIRONMENT_NAMES=json.dumps(setup.environment),
    )


def schema_files(out: Path) -> dict[Path, str]:
    """The JSON Schemas of every spec kind (and of the plan JSON) as OUT's files would be."""
    return {
        out / schema.name: schema.read_text(encoding="utf-8")
        for schema in sorted(SCHEMA_DIR.glob("*.schema.json"))
    }


def write_schemas(out: Path) -> list[Path]:
    """The JSON Schemas of every spec kind (and of the plan JSON), for editors and CI."""
    out.mkdir(parents=True, exist_ok=True)
    files = schema_files(out)
    for target, text in files.items():
        target.write_text(text, encoding="utf-8")
    return list(files)


def check_environment_name(name: str) -> None:
    """Refuse a name `validate` would refuse, or that would put the files elsewhere."""
    if not valid_name(name):
        raise ReconcilerError(
            f"environment name {name!r} is not allowed: use lowercase letters, digits and - "
            "(not first or last), e.g. prod or eu-dev; it names the directory under specs/, "
            "the GitHub environment and the plan comment"
        )


def init(root: Path, setup: Setup, *, force: bool = False) -> list[Path]:
    """Write the repository's files; refuse (writing nothing) where one exists already, or
    when the environment's name is not one `validate` accepts."""
    check_environment_name(setup.environment)
    files = {
        root / "specs" / setup.environment / "environment.yaml": environment_text(setup),
        **{
            root / ".github" / "workflows" / f"{name}.yml": workflow_text(name, setup)
            for name in WORKFLOWS
        },
        **schema_files(root / "schemas"),
    }
    existing = [p for p in files if p.exists()]
    if existing and not force:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise ReconcilerError(f"{names} already exist; nothing was written (--force replaces)")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
