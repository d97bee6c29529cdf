"""The CLI's offline commands on the repository's real specs, and its error contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_repository_specs_are_valid_without_any_variables(env: str) -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "specs" / env)], env={})
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_show_prints_effective_specs_of_the_seed_topics() -> None:
    result = CliRunner().invoke(main, ["show", str(ROOT / "specs" / "dev")])
    assert result.exit_code == 0, result.output
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    topics = {d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "Topic"}
    assert topics == {
        "production-topic": {
            "partitions": 6,
            "replicationFactor": 2,
            "config": {
                "compression.type": "snappy",
                "min.insync.replicas": 1,
                "retention.ms": 604800000,
            },
        },
        "test-topic": {"partitions": 3, "replicationFactor": 2, "config": {}},
    }


def test_local_override_changes_only_the_local_environment() -> None:
    result = CliRunner().invoke(main, ["show", str(ROOT / "specs" / "local")])
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    production = next(d for d in documents if d["metadata"]["name"] == "production-topic")
    assert production["spec"]["config"]["retention.ms"] == 86_400_000


def test_invalid_specs_exit_1_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: x}\n"
        "spec:\n  kafka: {bootstrapServers: 'b:9092'}\n  polcy: {}\n",
        encoding="utf-8",
    )
    (tmp_path / "t.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: a}\n"
        "spec: {partitions: 1, replicationFactor: 1, config: {cleanup.policy: compacted}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "env.yaml:6:3: spec.polcy: unknown field (did you mean 'policy'?)" in result.output
    assert "t.yaml:4:" in result.output and "compacted" in result.output
    assert "Traceback" not in result.output


def test_unset_variable_is_a_located_error_with_what_to_do(tmp_path: Path) -> None:
    env_dir = tmp_path / "x"
    env_dir.mkdir()
    (env_dir / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: x}\nspec:\n"
        "  kafka:\n    bootstrapServers: ${KAFKA_BOOTSTRAP_SERVERS}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["plan", str(env_dir)], env={"KAFKA_BOOTSTRAP_SERVERS": ""})
    assert result.exit_code == 1
    assert "environment.yaml:6:23: spec.kafka.bootstrapServers" in result.output
    assert "KAFKA_BOOTSTRAP_SERVERS is not set" in result.output
    assert 'eval "$(reconciler local up)"' in result.output


def test_apply_without_a_terminal_needs_auto_approve(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["apply", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "is not a directory" in result.output


def test_msk_unreachable_says_what_to_do(tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL_KAFKA": "http://127.0.0.1:1", "AWS_MAX_ATTEMPTS": "1"}
    result = CliRunner().invoke(main, ["plan", str(ROOT / "specs" / "local")], env=env)
    assert result.exit_code == 1
    assert "MSK: reading the cluster failed" in result.output
    assert 'eval "$(reconciler local up)"' in result.output
