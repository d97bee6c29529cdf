"""`reconciler init` scaffolds a specs repository whose specs validate and whose workflows
pass GitHub's schema and zizmor; the action they use does too."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.unit.test_workflows import _tool, _zizmor

ROOT = Path(__file__).resolve().parents[2]


def init(root: Path, *args: str, stdin: str | None = None) -> str:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    result = CliRunner().invoke(main, ["init", str(root), *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def check_workflows(*paths: Path, schema: str = "vendor.github-workflows") -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in paths:
        assert [f["ident"] for f in _zizmor(path)] == [], path


def test_init_writes_a_repository_that_validates_and_passes_the_workflow_checks(
    tmp_path: Path,
) -> None:
    out = init(tmp_path, "--environment", "prod", "--msk-cluster", "orders", "--msk-region",
               "eu-central-1", "--manage", "orders.*")  # fmt: skip
    assert "reconciler import" in out
    environment = (tmp_path / "specs" / "prod" / "environment.yaml").read_text()
    assert environment.startswith(
        "# yaml-language-server: $schema=../../schemas/environment.schema.json\n"
    )
    assert "msk: {region: eu-central-1, clusterName: orders}" in environment
    assert "bootstrapServers" not in environment  # the brokers come from MSK
    assert (tmp_path / "schemas" / "topic.schema.json").is_file()
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "specs" / "prod")])
    assert result.exit_code == 0, result.output
    workflows = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    assert [p.stem for p in workflows] == ["apply", "ci", "drift", "plan"]
    check_workflows(*workflows)
    text = "".join(p.read_text() for p in workflows)
    assert "pip install ." not in text  # a pinned release, never the repository's own code
    assert 'version: "0.1.0"' in text and "msk-reconciler==0.1.0" in text
    assert "trusted-base: ../base" in text


def test_init_asks_on_a_terminal_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reconciler.cli._interactive", lambda: True)
    init(tmp_path, stdin="staging\n\nb-1.example:9094\n")
    environment = (tmp_path / "specs" / "staging" / "environment.yaml").read_text()
    assert 'bootstrapServers: "b-1.example:9094"' in environment
    again = CliRunner().invoke(main, ["init", str(tmp_path), "--environment", "staging"])
    assert again.exit_code == 1
    assert "already exist; nothing was written" in again.output


def test_the_action_passes_githubs_schema_and_zizmor() -> None:
    check_workflows(ROOT / "action.yml", schema="vendor.github-actions")
    for script in ("run.sh", "install.sh"):
        text = (ROOT / "action" / script).read_text()
        assert "${{" not in text, script  # inputs arrive as environment variables only


def test_schemas_are_written_for_editors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schemas", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "acl.schema.json",
        "clientquota.schema.json",
        "environment.schema.json",
        "msk-prices.schema.json",
        "mskcluster.schema.json",
        "plan.schema.json",
        "scramuser.schema.json",
        "topic.schema.json",
    ]


def test_init_never_replaces_a_schema_without_force(tmp_path: Path) -> None:
    schema = tmp_path / "schemas" / "topic.schema.json"
    schema.parent.mkdir()
    schema.write_text("{}  # the repository's own")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--environment", "prod"])
    assert result.exit_code == 1
    assert "schemas/topic.schema.json already exist; nothing was written" in result.output
    assert schema.read_text() == "{}  # the repository's own"
    assert not (tmp_path / "specs").exists()
    forced = CliRunner().invoke(main, ["init", str(tmp_path), "--environment", "prod", "--force"])
    assert forced.exit_code == 0, forced.output
    assert schema.read_text().startswith("{\n")


@pytest.mark.parametrize("name", ["Prod", "dev_1", "../x", "-dev"])
def test_init_refuses_a_name_validate_would_refuse(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "repo"), "--environment", name])
    assert result.exit_code == 1
    assert f"environment name {name!r} is not allowed" in result.output
    assert not (tmp_path / "repo").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--manage", "orders.*"], 'manage: ["orders.*"]'),
        (["--security-protocol", "SASL_SSL"], "securityProtocol: SASL_SSL"),
        (["--msk-cluster", "c", "--msk-region", "eu-west-1"], "region: eu-west-1"),
    ],
)
def test_init_asks_nothing_when_any_flag_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], expected: str
) -> None:
    monkeypatch.setattr("reconciler.cli._interactive", lambda: True)
    out = init(tmp_path, *flags, stdin="")
    assert "Environment name" not in out
    assert expected in (tmp_path / "specs" / "dev" / "environment.yaml").read_text()


def test_init_refuses_a_region_without_its_cluster(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--msk-region", "eu-west-1"])
    assert result.exit_code == 1
    assert "--msk-region names the region of --msk-cluster" in result.output
    assert not (tmp_path / "specs").exists()


def test_the_prompt_asks_again_for_a_name_validate_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reconciler.cli._interactive", lambda: True)
    out = init(tmp_path, stdin="Prod\nprod\n\nb-1.example:9094\n")
    assert "environment name 'Prod' is not allowed" in out
    assert (tmp_path / "specs" / "prod" / "environment.yaml").is_file()
