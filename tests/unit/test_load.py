"""Loading specs: located errors, all at once; includes, defaults, overrides; cross-doc checks."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import SpecError
from reconciler.engine.load import load

ENV = """\
apiVersion: reconciler/v1
kind: Environment
metadata: {name: test}
spec:
  kafka: {bootstrapServers: "${BOOTSTRAP}", securityProtocol: PLAINTEXT}
"""


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """The environment's directory, named as its Environment (`test`) says."""
    return tmp_path / "test"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def topic(name: str, body: str = "partitions: 3\n  replicationFactor: 2") -> str:
    return f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {name}}}\nspec:\n  {body}\n"


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(tmp_path)
    return [str(p) for p in caught.value.problems]


def test_loads_topics_with_units_normalised(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV,
            "topics.yaml": topic(
                "orders",
                "partitions: 6\n  replicationFactor: 2\n  config:\n"
                "    retention.ms: 7d\n    retention.bytes: 10GiB\n"
                "    cleanup.policy: [delete, compact]\n    min.insync.replicas: 1",
            ),
        },
    )
    desired = load(tmp_path)
    spec = desired.kinds["Topic"].topics["orders"]
    assert (spec.partitions, spec.replication_factor) == (6, 2)
    assert spec.config["retention.ms"] == "604800000"
    assert spec.config["retention.bytes"] == str(10 * 1024**3)
    assert spec.config["min.insync.replicas"] == "1"
    assert desired.digest.startswith("sha256:")


def test_every_error_is_reported_with_file_line_column_and_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV,
            "a.yaml": topic("orders", "partitons: 3\n  replicationFactor: 2"),
            "b.yaml": topic(
                "payments",
                "partitions: 3\n  replicationFactor: 2\n  config:\n    retention.msec: 1000",
            ),
            "c.yaml": topic("bad", "partitions: 0\n  replicationFactor: 2"),
        },
    )
    found = problems(tmp_path)
    assert any(
        "a.yaml:5:3: spec.partitons: unknown field (did you mean 'partitions'?)" in p for p in found
    ), found
    assert any("b.yaml:8:5" in p and "retention.msec" in p and "retention.ms" in p for p in found)
    assert any("c.yaml:5:15: spec.partitions" in p and "minimum" in p for p in found), found


def test_bad_config_value_names_allowed_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV,
            "t.yaml": topic(
                "orders",
                "partitions: 3\n  replicationFactor: 2\n  config:\n    compression.type: snapy",
            ),
        },
    )
    [problem] = problems(tmp_path)
    assert "t.yaml:8:23: spec.config.compression.type: 'snapy'" in problem
    assert "snappy" in problem


def test_duplicates_isr_and_kafka_name_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV,
            "a.yaml": topic("orders") + "---\n" + topic("orders"),
            "b.yaml": topic(
                "strict",
                "partitions: 3\n  replicationFactor: 2\n  config: {min.insync.replicas: 3}",
            ),
            "c.yaml": topic("metrics.cpu") + "---\n" + topic("metrics_cpu"),
            "d.yaml": topic("__internal"),
            "e.yaml": topic("'..'"),
        },
    )
    text = "\n".join(problems(tmp_path))
    assert "duplicate topic 'orders'" in text
    assert "min.insync.replicas: 3 is greater than replicationFactor 2" in text
    assert "collides with 'metrics.cpu'" in text
    assert "__internal" in text and "internal" in text
    assert "'..'" in text


def test_includes_defaults_and_overrides(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shared/topics.yaml": topic("orders", "partitions: 3") + "---\n" + topic("audit", "{}"),
            "prod/environment.yaml": ENV.replace("name: test", "name: prod")
            + "  include: [../shared]\n"
            + "  topics:\n"
            + "    defaults: {replicationFactor: 3, config: {min.insync.replicas: 2}}\n"
            + "    overrides:\n"
            + "      orders: {partitions: 12, config: {retention.ms: 14d}}\n"
            + "      'aud*': {partitions: 1}\n",
        },
    )
    desired = load(tmp_path / "prod")
    orders, audit = desired.kinds["Topic"].topics["orders"], desired.kinds["Topic"].topics["audit"]
    assert (orders.partitions, orders.replication_factor) == (12, 3)
    assert orders.config == {"min.insync.replicas": "2", "retention.ms": str(14 * 86_400_000)}
    assert (audit.partitions, audit.replication_factor) == (1, 3)
    assert any(f.endswith("shared/topics.yaml") for f in desired.files)


def test_environments_loaded_together_check_a_shared_include_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plan DIR...`: the file every environment includes is parsed and checked once (its
    documents shared), each environment still applies its own defaults and overrides, a
    problem in it is reported to each, and an edited file is checked afresh."""
    from reconciler.engine import load as loading

    shared = "shared/topics.yaml"
    write(
        tmp_path,
        {
            shared: topic("orders", "partitions: 3"),
            **{
                f"{name}/environment.yaml": ENV.replace("name: test", f"name: {name}")
                + "  include: [../shared]\n"
                + f"  topics: {{defaults: {{replicationFactor: {rf}}}}}\n"
                for name, rf in (("prod", 3), ("stage", 1))
            },
        },
    )
    checked: list[str] = []
    check = loading._check

    def counted(text: str, file: str) -> Any:
        checked.append(file)
        return check(text, file)

    monkeypatch.setattr(loading, "_check", counted)
    parsed = loading.Parsed()

    prod, stage = (load(tmp_path / name, parsed=parsed) for name in ("prod", "stage"))

    assert sum(file.endswith(shared) for file in checked) == 1
    assert prod.kinds["Topic"].topics["orders"].replication_factor == 3
    assert stage.kinds["Topic"].topics["orders"].replication_factor == 1
    (tmp_path / shared).write_text(topic("orders", "partitions: [3]"), encoding="utf-8")
    for name in ("prod", "stage"):
        with pytest.raises(SpecError) as caught:
            load(tmp_path / name, parsed=parsed)
        assert "spec.partitions" in str(caught.value)
    assert sum(file.endswith(shared) for file in checked) == 2


def test_override_of_unknown_topic_and_missing_fields_are_errors(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV + "  topics:\n    overrides:\n      ordrs: {partitions: 2}\n",
            "t.yaml": topic("orders", "replicationFactor: 2"),
        },
    )
    text = "\n".join(problems(tmp_path))
    assert "override 'ordrs' matches no declared topic" in text
    assert "orders: spec.partitions: is required" in text


def test_topics_outside_ownership_are_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV + "  topics:\n    manage: ['payments.*']\n",
            "t.yaml": topic("orders"),
        },
    )
    [problem] = problems(tmp_path)
    assert "orders: metadata.name: is not owned by this environment" in problem


def test_missing_environment_and_yaml_syntax_errors(tmp_path: Path) -> None:
    write(tmp_path, {"t.yaml": "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: [\n"})
    text = "\n".join(problems(tmp_path))
    assert "invalid YAML" in text
    assert "no `kind: Environment` document" in text


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV,
            "t.yaml": topic("orders", "partitions: 3\n  partitions: 4\n  replicationFactor: 2"),
        },
    )
    [problem] = problems(tmp_path)
    assert "t.yaml:6:3: spec.partitions: duplicate key (first defined at line 5)" in problem


def test_cross_config_rules_are_checked(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environment.yaml": ENV,
            "t.yaml": topic(
                "orders",
                "partitions: 3\n  replicationFactor: 2\n  config:\n"
                "    min.compaction.lag.ms: 2h\n    max.compaction.lag.ms: 1h",
            ),
        },
    )
    [problem] = problems(tmp_path)
    assert "orders: spec.config.min.compaction.lag.ms" in problem
    assert "greater than max.compaction.lag.ms" in problem


def test_a_secret_written_into_the_specs_is_refused_without_echoing_it(tmp_path: Path) -> None:
    env = ENV.replace(
        "securityProtocol: PLAINTEXT}",
        "securityProtocol: SASL_SSL, sasl: {mechanism: SCRAM-SHA-512, password: hunter2}}",
    )
    write(tmp_path, {"environment.yaml": env})
    found = problems(tmp_path)  # the schema's ${VAR} rule, and the secret scan
    assert len(found) == 2
    assert any("spec.kafka.sasl.password: does not match" in p for p in found)
    assert any("environment.yaml:5:" in p and "literal value for a credential" in p for p in found)
    assert not any("hunter2" in p for p in found)


def test_the_environment_is_named_after_its_directory(tmp_path: Path) -> None:
    """The workflows, the GitHub environment and the pull-request comment know an environment
    by its directory: a dev directory saying `name: prod` would edit prod's comment."""
    write(tmp_path.parent / "dev", {"environment.yaml": ENV.replace("name: test", "name: prod")})
    [problem] = problems(tmp_path.parent / "dev")
    assert problem.startswith("dev/environment.yaml:3:") or "/dev/environment.yaml:3:" in problem
    assert "metadata.name: is 'prod', but the environment's directory is 'dev'" in problem
    assert "set `name: dev`, or rename the directory to 'prod'" in problem


def msk_environment(msk: str) -> str:
    return ENV + f"  msk: {msk}\n"


def test_an_environment_may_name_its_cluster_by_arn(tmp_path: Path) -> None:
    import yaml

    from tests.unit.test_msk_spec import SEED_DOC

    arn = "arn:aws:kafka:eu-central-1:123456789012:cluster/malawi-pg-kafka-cluster/abc-1"
    cluster = yaml.safe_dump(SEED_DOC)
    env_dir = tmp_path / "test"
    write(
        env_dir,
        {"environment.yaml": msk_environment(f"{{clusterArn: '{arn}'}}"), "c.yaml": cluster},
    )
    assert load(env_dir).kinds["MskCluster"].spec.name == "malawi-pg-kafka-cluster"

    other = arn.replace("malawi-pg-kafka-cluster", "other")
    write(env_dir, {"environment.yaml": msk_environment(f"{{clusterArn: '{other}'}}")})
    [problem] = problems(env_dir)
    assert "metadata.name: the Environment's msk names cluster 'other'" in problem

    both = f"{{clusterName: malawi-pg-kafka-cluster, clusterArn: '{other}'}}"
    write(env_dir, {"environment.yaml": msk_environment(both)})
    found = problems(env_dir)
    assert any(
        "spec.msk.clusterArn: names cluster 'other', but spec.msk.clusterName is" in p
        for p in found
    )


def test_a_value_shared_by_many_topics_is_judged_for_each(tmp_path: Path) -> None:
    """Normalised values are remembered per config and value (and its type): each topic with a
    bad one still gets its own located problem, and `true` is never taken for `1`."""
    documents = [
        topic(f"t{i}", "partitions: 1\n  replicationFactor: 1\n  config: {retention.ms: 7x}")
        for i in range(3)
    ]
    documents.append(
        topic("flag", "partitions: 1\n  replicationFactor: 1\n  config: {min.insync.replicas: 1}")
    )
    documents.append(
        topic(
            "bool", "partitions: 1\n  replicationFactor: 1\n  config: {min.insync.replicas: true}"
        )
    )
    write(tmp_path, {"environment.yaml": ENV, "topics.yaml": "---\n".join(documents)})
    found = problems(tmp_path)
    assert [p.split(":")[1] for p in found if "retention.ms" in p] == ["7", "15", "23"]
    assert any("topics.yaml:39:" in p and "min.insync.replicas" in p for p in found), found
    assert len(found) == 4
