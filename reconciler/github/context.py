"""What a workflow run tells the commands through its environment: repository, run, outputs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path

DEFAULT_BOT = "github-actions[bot]"


def run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The link to the current workflow run, when running in one."""
    env = os.environ if environ is None else environ
    parts = [env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repo, run = parts
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}"


def write_output(name: str, value: str, environ: Mapping[str, str] | None = None) -> bool:
    """Append a step output to $GITHUB_OUTPUT; False when not in a workflow."""
    env = os.environ if environ is None else environ
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        if "\n" in value:  # the multi-line form, with a delimiter no value can contain
            delimiter = f"EOF_{uuid.uuid4().hex}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            handle.write(f"{name}={value}\n")
    return True
