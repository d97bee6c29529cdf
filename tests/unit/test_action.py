"""The composite action's scripts, run for real in a workspace that a pull request filled with
stand-ins for pip and the reconciler: none of them runs.

`action/install.sh` builds a real venv and installs a wheel into it (offline); `action/run.sh`
runs `affected` with a venv whose reconciler is this checkout's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\nspec: {}\n"


def hostile_checkout(root: Path, marker: Path) -> Path:
    """A pull request's checkout whose root holds `pip/`, `reconciler/` and friends, each of
    which writes MARKER when imported."""
    plant = f"import pathlib; pathlib.Path({str(marker)!r}).write_text(__name__)\n"
    for package in ("pip", "reconciler", "click", "yaml"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text(plant)
        (root / package / "__main__.py").write_text(plant)
    (root / "sitecustomize.py").write_text(plant)
    (root / "specs" / "dev").mkdir(parents=True)
    (root / "specs" / "dev" / "environment.yaml").write_text(ENVIRONMENT)
    return root


def action_env(workspace: Path, temp: Path, **extra: str) -> dict[str, str]:
    """What a job gives the action's steps, plus PYTHONPATH pointing into the checkout."""
    temp.mkdir(exist_ok=True)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {
        "PATH": path,
        "HOME": os.environ.get("HOME", str(temp)),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(temp / "output"),
        "GITHUB_STEP_SUMMARY": str(temp / "summary"),
        "PYTHONPATH": str(workspace),  # -I ignores it too
        "VENV": str(temp / "msk-reconciler"),
        **extra,
    }


def wheel(directory: Path) -> Path:
    """A one-module wheel, installable without an index."""
    path = directory / "hello-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello/__init__.py", "GREETING = 'hello'\n")
        info = "hello-1.0.dist-info"
        archive.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: hello\nVersion: 1.0\n")
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(
            f"{info}/RECORD",
            f"hello/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n",
        )
    return path


def test_the_stand_ins_would_run_without_isolation(tmp_path: Path) -> None:
    """The trap works: `python -m pip` in the checkout runs the pull request's `pip`."""
    marker = tmp_path / "ran"
    checkout = hostile_checkout(tmp_path / "ws", marker)
    subprocess.run([sys.executable, "-m", "pip", "--version"], cwd=checkout, check=False)
    assert marker.read_text() == "__main__"


@pytest.mark.timeout(180)
def test_install_runs_none_of_the_checkouts_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    checkout = hostile_checkout(tmp_path / "ws", marker)
    env = action_env(checkout, tmp_path / "temp", REQUIREMENT=str(wheel(tmp_path)))
    result = subprocess.run(
        ["bash", str(ROOT / "action" / "install.sh")],
        cwd=checkout,  # as if a caller ran it in the workspace: it leaves at once
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists(), f"the checkout's {marker.read_text()} ran"
    python = Path(env["VENV"]) / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-I", "-c", "import hello; print(hello.GREETING)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout == "hello\n"


def reconciler_venv(temp: Path) -> Path:
    """A venv whose `reconciler` is this checkout's (its libraries: this interpreter's)."""
    venv = temp / "msk-reconciler"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-I",
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "this-checkout.pth").write_text(f"{ROOT}\n")
    return venv


def commit(checkout: Path, message: str, *flags: str) -> None:
    subprocess.run(
        ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q",
         *flags, "-m", message],
        check=True, capture_output=True,
    )  # fmt: skip


def run_action(checkout: Path, temp: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """action/run.sh as action.yml's step runs it, with the action's defaults."""
    defaults = {
        "ENVIRONMENT": "",
        "SPECS_DIR": "specs",
        "WORKING_DIRECTORY": ".",
        "TRUSTED_BASE": "",
        "PULL_REQUEST": "",
        "HEAD_SHA": "",
        "BRANCH": "main",
        "CHANGED_FROM": "HEAD^1",
        "WAIT_TIMEOUT": "3600",
    }
    return subprocess.run(
        ["bash", str(ROOT / "action" / "run.sh")],
        cwd=checkout,  # as if a caller ran it in the workspace: it leaves at once
        env=action_env(checkout, temp, **{**defaults, **inputs}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_affected_uses_the_venvs_reconciler_never_the_checkouts(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    checkout = hostile_checkout(tmp_path / "ws", marker)
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    commit(checkout, "base", "--allow-empty")
    subprocess.run(["git", "-C", str(checkout), "add", "."], check=True)
    commit(checkout, "pr")
    temp = tmp_path / "temp"
    temp.mkdir()
    reconciler_venv(temp)
    result = run_action(checkout, temp, COMMAND="affected", RECONCILER_ENVIRONMENTS='["dev"]')
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists(), f"the checkout's {marker.read_text()} ran"
    assert result.stdout == '["dev"]\n'
    assert 'environments=["dev"]' in (temp / "output").read_text()


@pytest.mark.parametrize(
    "event", [{"PULL_REQUEST": "7"}, {"PULL_REQUEST": "", "GITHUB_EVENT_NAME": "pull_request"}]
)
def test_plan_on_a_pull_request_without_trusted_base_is_refused(
    tmp_path: Path, event: dict[str, str]
) -> None:
    """Without the base branch's specs the pull request would choose where the plan connects
    and which variables it sends there: the action refuses, says what to pass, runs nothing."""
    checkout = tmp_path / "ws"
    (checkout / "specs" / "dev").mkdir(parents=True)
    temp = tmp_path / "temp"
    result = run_action(checkout, temp, COMMAND="plan", ENVIRONMENT="dev", **event)
    assert result.returncode == 1
    assert result.stdout.startswith("::error::plan on a pull request needs trusted-base")
    assert "trusted-base: ../base" in result.stdout
    assert sorted(p.name for p in (temp / "msk-reconciler-out").iterdir()) == []
    assert not (temp / "summary").exists()


def test_drift_plans_several_environments_in_one_process(tmp_path: Path) -> None:
    """`environment: dev prod`: one plan process for both (each reported, neither stops the
    other), exit 1 when either could not be planned, and no drift issue for an environment
    that has no plan."""
    checkout = tmp_path / "ws"
    for name in ("dev", "prod"):
        (checkout / "specs" / name).mkdir(parents=True)
        (checkout / "specs" / name / "environment.yaml").write_text(
            ENVIRONMENT.replace("name: dev", f"name: {name}")
        )
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    temp = tmp_path / "temp"
    temp.mkdir()
    reconciler_venv(temp)
    result = run_action(checkout, temp, COMMAND="drift", ENVIRONMENT="dev  prod")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "==> " + str(checkout / "specs" / "dev") in result.stdout + result.stderr
    for name in ("dev", "prod"):
        assert f"specs/{name}/environment.yaml:4:7: spec: 'kafka' is a required" in result.stderr
    assert "::error::the drift check could not plan everything" in result.stdout
    out = temp / "msk-reconciler-out"
    assert f"plan-file={out}/{{environment}}/plan.json" in (temp / "output").read_text()
    assert "exitcode=1" in (temp / "output").read_text()
    assert sorted(p.name for p in out.iterdir()) == []  # nothing planned, no issue touched


def test_drift_without_an_environment_says_what_to_pass(tmp_path: Path) -> None:
    result = run_action(tmp_path, tmp_path / "temp", COMMAND="drift", ENVIRONMENT=" ")
    assert result.returncode == 1
    assert result.stdout.startswith("::error::drift needs environment")
