"""A pull request's specs are untrusted: no variable copied where it does not belong, no secret
in the repo, no path out of it, and no connection the base branch did not name."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.core.errors import SpecError
from reconciler.engine.load import load
from reconciler.engine.plan import plan_environment
from reconciler.specs.boundaries import repository_root
from reconciler.specs.files import yaml_files
from reconciler.specs.trust import UntrustedConnection
from reconciler.specs.variables import resolve

TOPIC = (
    "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: orders}\n"
    "spec: {partitions: 1, replicationFactor: 1}\n"
)


def environment(kafka: str = "{bootstrapServers: '${B}', securityProtocol: PLAINTEXT}") -> str:
    head = "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: env}\nspec:\n"
    return f"{head}  kafka: {kafka}\n"


def repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository holding `files`; returns its environment directory `env`."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "env"


def problems(env_dir: Path, *, allow_outside_repo: bool = False) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(env_dir, allow_outside_repo=allow_outside_repo)
    return [str(p) for p in caught.value.problems]


# -- ${VAR} only in connection fields ---------------------------------------------------------


def test_variables_in_connection_fields_are_fine(tmp_path: Path) -> None:
    env_dir = repo(tmp_path, {"env/env.yaml": environment(), "env/t.yaml": TOPIC})
    assert load(env_dir).environment.connection.bootstrap_servers == "${B}"


@pytest.mark.parametrize(
    ("topic", "field"),
    [
        ("metadata: {name: orders, labels: {team: '${USER}'}}\nspec: {partitions: 1, "
         "replicationFactor: 1}", "metadata.labels.team"),
        ("metadata: {name: orders}\nspec: {partitions: 1, replicationFactor: 1, "
         "config: {compression.type: '${AWS_SECRET_ACCESS_KEY}'}}", "spec.config.compression.type"),
    ],
)  # fmt: skip
def test_a_variable_anywhere_else_is_an_error(tmp_path: Path, topic: str, field: str) -> None:
    text = f"apiVersion: reconciler/v1\nkind: Topic\n{topic}\n"
    env_dir = repo(tmp_path, {"env/env.yaml": environment(), "env/t.yaml": text})
    found = [p for p in problems(env_dir) if "${VAR} is expanded only" in p]
    assert len(found) == 1
    assert found[0].startswith("env/t.yaml:") or "/env/t.yaml:" in found[0]
    assert f"{field}:" in found[0]


def test_a_variable_in_the_msk_section_is_an_error(tmp_path: Path) -> None:
    text = environment() + "  msk: {region: '${AWS_REGION}', clusterName: c}\n"
    env_dir = repo(tmp_path, {"env/env.yaml": text})
    assert any("spec.msk.region: ${VAR} is expanded only" in p for p in problems(env_dir))


# -- literal secrets ---------------------------------------------------------------------------

SECRETS = {
    "PEM private key": "# -----BEGIN PRIVATE KEY-----\n# MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n",
    "AWS access key id": "# key: AKIAQWERTYUIOPASDFGH\n",
    "AWS secret access key": "# aws_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "JAAS login": (
        "# org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="app" password="s3cr3t-value";\n'
    ),
    "literal value for a credential": "# token: s3cr3t-value\n",
}


@pytest.mark.parametrize("what", list(SECRETS))
def test_each_literal_secret_is_refused_without_echo(tmp_path: Path, what: str) -> None:
    env_dir = repo(tmp_path, {"env/env.yaml": environment(), "env/t.yaml": SECRETS[what] + TOPIC})
    result = CliRunner().invoke(main, ["validate", str(env_dir)])
    assert result.exit_code == 1
    assert what in result.output and "t.yaml:1:" in result.output
    for secret in ("MIIEvQ", "AKIAQWERTY", "wJalrXUtn", "s3cr3t-value"):
        assert secret not in result.output


def test_references_booleans_and_hashes_are_not_secrets(tmp_path: Path) -> None:
    text = (
        "# sha: 3f786850e387550fdab836ed7e6dc881de23001b\n"
        "apiVersion: reconciler/v1\nkind: Topic\n"
        "metadata: {name: orders, labels: {secret: 'false', tokens-topic: 'yes'}}\n"
        "spec: {partitions: 1, replicationFactor: 1}\n"
    )
    env_dir = repo(tmp_path, {"env/env.yaml": environment(), "env/t.yaml": text})
    assert "orders" in load(env_dir).kinds["Topic"].topics


# -- paths stay in the repository ------------------------------------------------------------


def test_an_include_through_a_link_out_of_the_repo_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "t.yaml").write_text(TOPIC, encoding="utf-8")
    root = tmp_path / "repo"
    env_dir = repo(root, {"env/env.yaml": environment() + "  include: [../shared]\n"})
    (root / "shared").symlink_to(outside)
    [problem] = problems(env_dir)
    assert "spec.include.0: '../shared' is outside the repository" in problem
    assert "--allow-outside-repo" in problem
    loaded = load(env_dir, allow_outside_repo=True)
    assert "orders" in loaded.kinds["Topic"].topics


def test_a_spec_file_linked_out_of_the_repo_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(TOPIC, encoding="utf-8")
    root = tmp_path / "repo"
    env_dir = repo(root, {"env/env.yaml": environment()})
    (env_dir / "t.yaml").symlink_to(tmp_path / "t.yaml")
    [problem] = problems(env_dir)
    assert "t.yaml:1:1: its link target" in problem and "outside the repository" in problem


def test_a_ca_file_outside_the_repo_is_refused(tmp_path: Path) -> None:
    kafka = "{bootstrapServers: 'b:9094', caFile: /home/runner/.aws/credentials}"
    env_dir = repo(tmp_path, {"env/env.yaml": environment(kafka)})
    [problem] = problems(env_dir)
    assert "spec.kafka.caFile: '/home/runner/.aws/credentials' is outside" in problem
    assert "${KAFKA_CA_FILE}" in problem
    assert load(env_dir, allow_outside_repo=True).environment.connection.ca_file


def test_a_ca_file_linked_out_of_the_repo_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = x\n", encoding="utf-8")
    kafka = "{bootstrapServers: 'b:9094', caFile: certs/ca.pem}"
    env_dir = repo(tmp_path / "repo", {"env/env.yaml": environment(kafka)})
    (env_dir.parent / "certs").mkdir()
    (env_dir.parent / "certs" / "ca.pem").symlink_to(secret)
    [problem] = problems(env_dir)
    assert "spec.kafka.caFile: 'certs/ca.pem' is outside the repository" in problem


def test_an_environment_directory_linked_out_of_the_repo_is_refused(tmp_path: Path) -> None:
    """Also when the link's target holds a `.git` of its own: the repository is the one the
    directory is written in, not the one the link leads to."""
    outside = repo(tmp_path / "elsewhere", {"env/env.yaml": environment(), "env/t.yaml": TOPIC})
    root = tmp_path / "repo"
    repo(root, {"README": ""})
    (root / "env").symlink_to(outside)
    result = CliRunner().invoke(main, ["validate", str(root / "env")])
    assert result.exit_code == 1
    assert "env:1:1: the directory is outside the repository" in result.output
    assert "--allow-outside-repo" in result.output
    assert "orders" in load(root / "env", allow_outside_repo=True).kinds["Topic"].topics


def test_a_folder_linked_out_above_the_environment_is_refused(tmp_path: Path) -> None:
    outside = repo(tmp_path / "elsewhere", {"env/env.yaml": environment()})
    root = tmp_path / "repo"
    repo(root, {"README": ""})
    (root / "specs").symlink_to(outside.parent)
    [problem] = problems(root / "specs" / "env")
    assert "the directory is outside the repository" in problem


def test_a_checkout_below_a_linked_folder_keeps_its_boundary(tmp_path: Path) -> None:
    """As on macOS, where /tmp is a link: the checkout is still the repository, and a linked
    environment directory in it still cannot bring a `.git` of its own."""
    real = tmp_path / "real"
    repo(real / "repo", {"env/env.yaml": environment(), "env/t.yaml": TOPIC})
    outside = repo(tmp_path / "elsewhere", {"env/env.yaml": environment()})
    (tmp_path / "link").symlink_to(real)
    (real / "repo" / "linked").symlink_to(outside)
    checkout = tmp_path / "link" / "repo"
    assert repository_root(checkout / "env") == checkout
    assert "orders" in load(checkout / "env").kinds["Topic"].topics
    [problem] = problems(checkout / "linked")
    assert "the directory is outside the repository" in problem


@pytest.mark.parametrize("where", ["caFile", "include", "spec file", "folder"])
def test_a_link_loop_is_an_error_or_passed_over_never_a_hang(tmp_path: Path, where: str) -> None:
    kafka = "{bootstrapServers: 'b:9094', caFile: env/loop}" if where == "caFile" else None
    text = environment(kafka) if kafka else environment()
    if where == "include":
        text += "  include: [loop]\n"
    env_dir = repo(tmp_path, {"env/env.yaml": text, "env/t.yaml": TOPIC})
    name = {"spec file": "loop.yaml", "folder": "sub/loop"}.get(where, "loop")
    (env_dir / name).parent.mkdir(exist_ok=True)
    (env_dir / name).symlink_to(env_dir / name)
    if where in ("spec file", "folder"):
        assert "orders" in load(env_dir).kinds["Topic"].topics
        return
    [problem] = problems(env_dir)
    assert "is a loop of symbolic links" in problem and "env.yaml:" in problem


def test_a_path_the_os_would_refuse_is_an_error_not_a_crash(tmp_path: Path) -> None:
    kafka = '{bootstrapServers: "b:9094", caFile: "certs/ca\\0.pem"}'
    long = "/".join(["a"] * 3000)
    text = environment(kafka) + f'  include: ["../shared\\0", "{long}", "{"b" * 300}"]\n'
    env_dir = repo(tmp_path, {"env/env.yaml": text})
    found = problems(env_dir)
    assert len(found) == 4
    assert sum("holds a NUL character" in p for p in found) == 2
    assert any("spec.kafka.caFile: 'certs/ca\\x00.pem'" in p for p in found)
    assert sum("is longer than a path may be" in p for p in found) == 2


def test_deep_folders_are_an_error_not_a_crash(tmp_path: Path) -> None:
    """2,000 nested folders fit in a path; walking them recursively would blow the stack."""
    env_dir = repo(tmp_path, {"env/env.yaml": environment()})
    deep = env_dir
    for _ in range(40):
        deep /= "a"
    deep.mkdir(parents=True)
    result = CliRunner().invoke(main, ["validate", str(env_dir)])
    assert result.exit_code == 1
    assert "folders nested more than 32 deep" in result.output


# -- the base branch decides where to connect --------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A TCP server on loopback that records every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    seen: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            seen.append(str(peer))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}", seen
    stop.set()
    thread.join()
    server.close()


def pull_request(tmp_path: Path, base_kafka: str, head_kafka: str) -> tuple[Path, Path]:
    base = repo(tmp_path / "base", {"env/env.yaml": environment(base_kafka), "env/t.yaml": TOPIC})
    head = repo(tmp_path / "head", {"env/env.yaml": environment(head_kafka), "env/t.yaml": TOPIC})
    return head, base.parent


@pytest.mark.parametrize(
    "head_kafka",
    [
        "{bootstrapServers: '{listen}', securityProtocol: PLAINTEXT}",
        "{bootstrapServers: 'b-1.prod:9096', securityProtocol: SASL_SSL, sasl: {mechanism: "
        "SCRAM-SHA-512, username: app, password: '${AWS_SECRET_ACCESS_KEY}'}}",
    ],
)
def test_a_changed_connection_is_refused_before_anything_connects(
    tmp_path: Path, listener: tuple[str, list[str]], head_kafka: str
) -> None:
    address, seen = listener
    base_kafka = (
        "{bootstrapServers: 'b-1.prod:9096', securityProtocol: SASL_SSL, sasl: {mechanism: "
        "SCRAM-SHA-512, username: app, password: '${KAFKA_PASSWORD}'}}"
    )
    head, base = pull_request(tmp_path, base_kafka, head_kafka.replace("{listen}", address))
    environ = {"KAFKA_PASSWORD": "kafka-secret-value", "AWS_SECRET_ACCESS_KEY": "aws-secret-value"}
    with pytest.raises(UntrustedConnection) as caught:
        plan_environment(head, environ, trusted_base=base)
    message = str(caught.value)
    assert "nothing was contacted" in message
    assert "spec.kafka." in message and "merges it first" in message
    assert "secret-value" not in message  # references are compared, never their values
    assert seen == []


def test_the_cli_refuses_a_changed_connection_with_exit_1(
    tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    address, seen = listener
    head, base = pull_request(
        tmp_path,
        "{bootstrapServers: 'b-1.prod:9092', securityProtocol: PLAINTEXT}",
        f"{{bootstrapServers: '{address}', securityProtocol: PLAINTEXT}}",
    )
    result = CliRunner().invoke(main, ["plan", str(head), "--trusted-base", str(base)])
    assert result.exit_code == 1
    assert f"spec.kafka.bootstrapServers: 'b-1.prod:9092' -> '{address}'" in result.output
    assert seen == []


def test_a_new_environment_connects_only_once_merged(
    tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    address, seen = listener
    head = repo(
        tmp_path / "head", {"env/env.yaml": environment(f"{{bootstrapServers: '{address}'}}")}
    )
    base = tmp_path / "base"
    base.mkdir()
    with pytest.raises(UntrustedConnection, match="no Environment on the base branch"):
        plan_environment(head, {}, trusted_base=base)
    assert seen == []


def test_a_changed_ca_bundle_is_a_changed_connection(tmp_path: Path) -> None:
    kafka = "{bootstrapServers: 'b:9094', caFile: certs/ca.pem}"
    head, base = pull_request(tmp_path, kafka, kafka)
    (base / "certs").mkdir()
    (base / "certs" / "ca.pem").write_text("reviewed", encoding="utf-8")
    (head.parent / "certs").mkdir()
    (head.parent / "certs" / "ca.pem").write_text("attacker's", encoding="utf-8")
    with pytest.raises(UntrustedConnection, match="the CA bundle's contents changed"):
        plan_environment(head, {}, trusted_base=base)


def test_an_unchanged_connection_goes_on_to_connect(
    tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    """Only the timeout may differ; then the plan connects (here: to the recording server,
    which speaks no Kafka, so the plan fails after connecting)."""
    address, seen = listener
    head, base = pull_request(
        tmp_path,
        f"{{bootstrapServers: '{address}', securityProtocol: PLAINTEXT, timeoutSeconds: 30}}",
        f"{{bootstrapServers: '{address}', securityProtocol: PLAINTEXT, timeoutSeconds: 2}}",
    )
    result = CliRunner().invoke(main, ["plan", str(head), "--trusted-base", str(base)])
    assert result.exit_code == 1
    assert "cannot reach Kafka" in result.output
    assert seen


def test_a_connection_error_names_the_variable_never_its_value(tmp_path: Path) -> None:
    """Without --trusted-base (a laptop, or a workflow that forgot it) a spec may put any of
    the runner's variables into bootstrapServers. Resolving and connecting fail, and the
    error (which becomes the comment) shows the spec's `${SECRET_TOKEN_X}`, not its value."""
    kafka = "{bootstrapServers: '${SECRET_TOKEN_X}.invalid:9', timeoutSeconds: 2}"
    env_dir = repo(tmp_path, {"env/env.yaml": environment(kafka)})
    result = CliRunner().invoke(main, ["plan", str(env_dir)], env={"SECRET_TOKEN_X": "s3cr3tvalue"})
    assert result.exit_code == 1
    assert "cannot reach Kafka at ${SECRET_TOKEN_X}.invalid:9 (SSL)" in result.output
    assert "s3cr3tvalue" not in result.output


def test_redact_replaces_every_expanded_value_with_its_reference(tmp_path: Path) -> None:
    kafka = (
        "{bootstrapServers: '${HOST}:9096,${HOST_2:-b-2}:9096', securityProtocol: SASL_SSL, "
        "sasl: {mechanism: SCRAM-SHA-512, username: '${USER_NAME}', password: '${PASSWORD}'}}"
    )
    env_dir = repo(tmp_path, {"env/env.yaml": environment(kafka)})
    environ = {"HOST": "b-1.internal", "USER_NAME": "app", "PASSWORD": "pw-b-1.internal-x"}
    conn = resolve(load(env_dir).environment, environ)
    assert conn.bootstrap_servers == "b-1.internal:9096,b-2:9096"  # a default is spec text
    text = f"{conn.bootstrap_servers} as {conn.sasl_username}/{conn.sasl_password}"
    assert conn.redact(text) == "${HOST}:9096,b-2:9096 as ${USER_NAME}/${PASSWORD}"
    assert "b-1.internal" not in repr(conn)


# -- what else a hostile pull request could try -------------------------------------------------


def test_names_from_the_specs_cannot_start_a_line_or_an_escape_code(tmp_path: Path) -> None:
    """A key or file name with a newline would print a line the Actions runner reads as a
    workflow command; an escape code would rewrite the terminal."""
    text = TOPIC.replace("spec: {", 'spec: {"x\\n::set-output name=ok::yes\\u001b[2J": 1, ')
    env_dir = repo(tmp_path, {"env/env.yaml": environment(), "env/t\x1b[31m.yaml": text})
    result = CliRunner().invoke(main, ["validate", str(env_dir)])
    assert result.exit_code == 1
    assert "unknown field" in result.output and "x\\n::set-output" in result.output
    assert "\x1b" not in result.output
    assert not any(line.lstrip().startswith("::") for line in result.output.splitlines())


@pytest.mark.parametrize("password", ["12345678", "[hunter2-value]", "{v: hunter2-value}"])
def test_no_other_message_echoes_a_literal_credential(tmp_path: Path, password: str) -> None:
    """The schema's own messages would ("12345678 is not of type 'string'")."""
    kafka = (
        "{bootstrapServers: 'b:9096', securityProtocol: SASL_SSL, "
        f"sasl: {{mechanism: SCRAM-SHA-512, username: app, password: {password}}}}}"
    )
    env_dir = repo(tmp_path, {"env/env.yaml": environment(kafka)})
    found = problems(env_dir)
    assert any("a literal value for a credential" in p for p in found)
    assert any("is not of type" in p and "***" in p for p in found)
    assert not any("12345678" in p or "hunter2-value" in p for p in found)


def test_a_folder_included_many_times_is_walked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.engine import load as load_module

    walks: list[Path] = []

    def counted(root: Path) -> list[Path]:
        walks.append(root)
        return yaml_files(root)

    text = environment() + "  include: [" + ", ".join(["../shared"] * 5000) + "]\n"
    env_dir = repo(tmp_path, {"env/env.yaml": text, "shared/t.yaml": TOPIC})
    monkeypatch.setattr(load_module, "yaml_files", counted)
    assert list(load(env_dir).kinds["Topic"].topics) == ["orders"]
    assert walks.count((tmp_path / "shared").resolve()) == 1


def test_an_environment_reads_a_bounded_number_of_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.engine import load as load_module

    monkeypatch.setattr(load_module, "MAX_ENVIRONMENT_BYTES", 4096)
    big = "".join(TOPIC.replace("orders", f"orders-{i}") + "---\n" for i in range(60))
    text = environment() + "  include: [../shared]\n"
    env_dir = repo(tmp_path, {"env/env.yaml": text, "shared/t.yaml": big})
    [problem] = problems(env_dir)
    assert (
        "env:1:1: its spec files hold" in problem and "an environment may read at most" in problem
    )
