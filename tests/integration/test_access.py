"""The access kinds on a real broker that enforces them (SASL/SCRAM, StandardAuthorizer): the
reconciler connects over SCRAM as the super user; clients are denied, allowed after apply and
denied again after the removal; unmanaged principals are never touched."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from confluent_kafka import Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from reconciler.cli import main
from reconciler.local.kafka.state import LocalCluster

pytestmark = pytest.mark.integration

Cli = Callable[..., Result]


@pytest.fixture
def admin(secured_cluster: LocalCluster) -> AdminClient:
    """A super user (the plaintext listener is User:ANONYMOUS, a super user here)."""
    return AdminClient({"bootstrap.servers": secured_cluster.bootstrap_servers})


@pytest.fixture
def cli(secured_cluster: LocalCluster) -> Cli:
    """The CLI, connected over SASL_PLAINTEXT SCRAM-SHA-512 as the cluster's super user."""
    environ = {
        "ACCESS_BOOTSTRAP": str(secured_cluster.sasl_bootstrap_servers),
        "ACCESS_USER": str(secured_cluster.sasl_username),
        "ACCESS_PASSWORD": str(secured_cluster.sasl_password),
    }

    def run(*args: str, **extra: str) -> Result:
        return CliRunner().invoke(main, list(args), env={**environ, **extra})

    return run


def environment(directory: Path, manage: str, allow_removal: bool = False, **extra: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "environment.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: acc}\nspec:\n"
        "  kafka:\n"
        '    bootstrapServers: "${ACCESS_BOOTSTRAP}"\n'
        "    securityProtocol: SASL_PLAINTEXT\n"
        '    sasl: {mechanism: SCRAM-SHA-512, username: "${ACCESS_USER}", '
        'password: "${ACCESS_PASSWORD}"}\n'
        f'  access: {{manage: ["{manage}"]}}\n'
        f"  policy: {{allowAccessRemoval: {str(allow_removal).lower()}}}\n",
        encoding="utf-8",
    )


def scram_user(admin: AdminClient, name: str, password: str) -> None:
    credential = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
    upsert = UserScramCredentialUpsertion(name, credential, password.encode())
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result()


def produce_error(cluster: LocalCluster, user: str, password: str, topic: str) -> str | None:
    """Why USER may not write one message to TOPIC (None: it was delivered)."""
    producer = Producer(
        {
            "bootstrap.servers": str(cluster.sasl_bootstrap_servers),
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": user,
            "sasl.password": password,
            "message.timeout.ms": 15000,
            "enable.idempotence": False,
        }
    )
    errors: list[object] = []
    producer.produce(topic, b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(20)
    producer.close()
    assert len(errors) == 1, "the broker never answered"
    return None if errors[0] is None else str(errors[0])


def can_produce(cluster: LocalCluster, user: str, password: str, topic: str) -> bool:
    """Whether USER may write to TOPIC: delivered, or refused by the authorizer."""
    error = produce_error(cluster, user, password, topic)
    assert error is None or "AUTHORIZATION" in error.upper(), error
    return error is None


def bindings_of(admin: AdminClient, principal: str) -> set[tuple[str, str]]:
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, principal, None,  # type: ignore[arg-type]
        AclOperation.ANY, AclPermissionType.ANY,
    )  # fmt: skip
    found = admin.describe_acls(everything).result()
    return {(b.name, AclOperation(b.operation).name) for b in found}


@pytest.fixture
def names() -> Iterator[tuple[str, str, str]]:
    """A topic, a managed application user and its password, unique per test."""
    tag = secrets.token_hex(3)
    yield f"acc-{tag}-orders", f"app-{tag}", secrets.token_urlsafe(12)


def test_a_client_is_denied_then_allowed_after_apply_then_denied_after_removal(
    secured_cluster: LocalCluster,
    admin: AdminClient,
    cli: Cli,
    tmp_path: Path,
    names: tuple[str, str, str],
) -> None:
    topic, user, password = names
    cli = partial(cli, APP_PASSWORD=password)  # the user below is declared too
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    scram_user(admin, user, password)
    # another team's binding on the topic: the topic has ACLs, so the app is denied; and it is
    # a principal this environment does not manage, so it must survive everything below
    other = AclBinding(
        ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:other-team", "*",
        AclOperation.READ, AclPermissionType.ALLOW,
    )  # fmt: skip
    admin.create_acls([other])[other].result()
    assert not can_produce(secured_cluster, user, password, topic)

    env = tmp_path / "acc"
    environment(env, manage=f"User:{user}*")
    app = (
        f"apiVersion: reconciler/v1\nkind: ScramUser\nmetadata: {{name: {user}}}\nspec:\n"
        "  password: ${APP_PASSWORD}\n  iterations: 4096\n---\n"  # as made above: no change
        f"apiVersion: reconciler/v1\nkind: Acl\nmetadata: {{name: {user}}}\nspec:\n"
        f"  principal: User:{user}\n  topics:\n    - {{name: {topic}, access: [read, write]}}\n"
        f"  groups:\n    - {{name: {user}}}\n"
    )
    (env / "acls.yaml").write_text(app, encoding="utf-8")
    plan = cli("plan", str(env), "--output", "json")
    assert plan.exit_code == 0, plan.output
    changes = json.loads(plan.output)["changes"]
    assert sorted(c["name"] for c in changes) == sorted(
        f"User:{user} ALLOW {op} {resource} from *"
        for op, resource in (
            ("READ", f"topic:{topic}"),
            ("WRITE", f"topic:{topic}"),
            ("DESCRIBE", f"topic:{topic}"),
            ("READ", f"group:{user}"),
        )
    )
    applied = cli("apply", str(env), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = cli("plan", str(env), "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # idempotent: nothing left
    assert can_produce(secured_cluster, user, password, topic)

    # out of band: one more binding for a managed principal shows as exactly that
    extra = AclBinding(
        ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, f"User:{user}-audit", "*",
        AclOperation.DESCRIBE, AclPermissionType.ALLOW,
    )  # fmt: skip
    admin.create_acls([extra])[extra].result()
    drift = json.loads(cli("plan", str(env), "--output", "json").output)
    assert drift["changes"] == []
    assert [o["name"] for o in drift["orphans"]] == [
        f"User:{user}-audit ALLOW DESCRIBE topic:{topic} from *"
    ]  # kept: removal needs the policy's permission

    # the app may no longer write: without permission the removal is refused (kept) ...
    (env / "acls.yaml").write_text(app.replace("access: [read, write]", "access: [read]"))
    kept = cli("apply", str(env), "--auto-approve")
    assert kept.exit_code == 0, kept.output
    assert (topic, "WRITE") in bindings_of(admin, f"User:{user}")
    # ... and with it, it is made, destructive, and the client is denied again
    environment(env, manage=f"User:{user}*", allow_removal=True)
    plan = json.loads(cli("plan", str(env), "--output", "json").output)
    assert sorted((c["action"], c["risk"], c["name"]) for c in plan["changes"]) == [
        ("delete", "destructive", f"User:{user} ALLOW WRITE topic:{topic} from *"),
        ("delete", "destructive", f"User:{user}-audit ALLOW DESCRIBE topic:{topic} from *"),
    ]
    removed = cli("apply", str(env), "--auto-approve")
    assert removed.exit_code == 0, removed.output
    assert not can_produce(secured_cluster, user, password, topic)
    assert bindings_of(admin, f"User:{user}") == {
        (topic, "READ"), (topic, "DESCRIBE"), (user, "READ")
    }  # fmt: skip
    assert bindings_of(admin, "User:other-team") == {(topic, "READ")}  # never touched


def test_a_scram_user_made_by_apply_logs_in_and_its_password_is_never_printed(
    secured_cluster: LocalCluster,
    admin: AdminClient,
    cli: Cli,
    tmp_path: Path,
    names: tuple[str, str, str],
) -> None:
    topic, user, password = names
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    env = tmp_path / "acc"
    environment(env, manage=f"User:{user}*")
    (env / "users.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: ScramUser\nmetadata: {{name: {user}}}\n"
        "spec:\n  password: ${APP_PASSWORD}\n  iterations: 4096\n"
        f"---\napiVersion: reconciler/v1\nkind: Acl\nmetadata: {{name: {user}}}\nspec:\n"
        f"  principal: User:{user}\n  topics:\n    - {{name: {topic}, access: [write]}}\n",
        encoding="utf-8",
    )
    outputs = []
    refused = cli("apply", str(env), "--auto-approve")  # the variable is not set
    outputs.append(refused.output)
    assert refused.exit_code == 1 and "${APP_PASSWORD} is not set" in refused.output
    plan = cli(
        "plan",
        str(env),
        "--output",
        "json",
        "--out",
        str(tmp_path / "plan.json"),
        APP_PASSWORD=password,
    )
    outputs += [plan.output, (tmp_path / "plan.json").read_text()]
    [create] = [c for c in json.loads(plan.output)["changes"] if c["kind"] == "ScramUser"]
    assert create["name"] == user and create["operation"] == "AlterUserScramCredentials"
    applied = cli(
        "apply",
        str(env),
        "--plan",
        str(tmp_path / "plan.json"),
        "--auto-approve",
        APP_PASSWORD=password,
    )
    outputs.append(applied.output)
    assert applied.exit_code == 0, applied.output
    assert can_produce(secured_cluster, user, password, topic)  # made by apply: it logs in
    again = cli("plan", str(env), "--detailed-exitcode", APP_PASSWORD=password)
    outputs.append(again.output)
    assert again.exit_code == 0, again.output
    # rotation: a new password and a new iteration count set it again
    rotated = password + "-2"
    (env / "users.yaml").write_text((env / "users.yaml").read_text().replace("4096", "8192"))
    rotate = cli("apply", str(env), "--auto-approve", APP_PASSWORD=rotated)
    outputs.append(rotate.output)
    assert rotate.exit_code == 0, rotate.output
    assert can_produce(secured_cluster, user, rotated, topic)
    # the old password is refused at login
    assert produce_error(secured_cluster, user, password, topic) is not None
    # drift and the other outputs of the cycle: a markdown comment, a snapshot, a plan on it
    markdown = cli("plan", str(env), "--output", "markdown", APP_PASSWORD=rotated)
    snapshot = tmp_path / "snapshot.json"
    taken = cli("snapshot", str(env), "--output", str(snapshot), APP_PASSWORD=rotated)
    assert taken.exit_code == 0, taken.output
    offline = cli("plan", str(env), "--observed", str(snapshot), APP_PASSWORD=rotated)
    outputs += [markdown.output, taken.output, snapshot.read_text(), offline.output]
    for text in outputs:
        assert password not in text and rotated not in text


def test_client_quotas_plan_apply_drift_and_ownership(
    secured_cluster: LocalCluster, cli: Cli, tmp_path: Path, names: tuple[str, str, str]
) -> None:
    from reconciler.clients.quotas import QuotaAdmin
    from reconciler.core.environment import Connection

    _topic, user, _password = names
    quotas = QuotaAdmin(Connection(secured_cluster.bootstrap_servers, "PLAINTEXT"))
    other = (("user", f"other-{user}"),)
    quotas.alter({other: {"producer_byte_rate": 1000.0}})  # another team's: never touched
    env = tmp_path / "acc"
    environment(env, manage=f"User:{user}*")
    (env / "quotas.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: ClientQuota\nmetadata: {{name: {user}}}\nspec:\n"
        f"  user: {user}\n  quotas: {{producerByteRate: 1MiB, consumerByteRate: 2MiB}}\n---\n"
        f"apiVersion: reconciler/v1\nkind: ClientQuota\nmetadata: {{name: {user}-batch}}\n"
        f"spec:\n  user: {user}\n  clientId: batch\n"
        "  quotas: {requestPercentage: 25, controllerMutationRate: 5}\n",
        encoding="utf-8",
    )
    plan = json.loads(cli("plan", str(env), "--output", "json").output)
    assert sorted((c["name"], c["action"]) for c in plan["changes"]) == [
        (f"user={user}", "create"),
        (f"user={user}, client-id=batch", "create"),
    ]
    applied = cli("apply", str(env), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert cli("plan", str(env), "--detailed-exitcode").exit_code == 0
    live = quotas.quotas()
    assert live[(("user", user),)] == {
        "producer_byte_rate": 1048576.0,
        "consumer_byte_rate": 2097152.0,
    }
    assert live[(("user", user), ("client-id", "batch"))] == {
        "request_percentage": 25.0, "controller_mutation_rate": 5.0
    }  # fmt: skip

    # out of band: one value of a managed entity, and a managed user's new quota
    quotas.alter({(("user", user),): {"producer_byte_rate": 5000.0}})
    quotas.alter({(("user", f"{user}-extra"),): {"consumer_byte_rate": 10.0}})
    for _ in range(50):  # the broker applies a quota change from the metadata log
        drift = json.loads(cli("plan", str(env), "--output", "json").output)
        if drift["changes"] and drift["orphans"]:
            break
    [change] = drift["changes"]
    assert change["name"] == f"user={user}" and change["action"] == "update"
    assert [(d["field"], d["before"], d["after"]) for d in change["diff"]] == [
        ("producerByteRate", 5000, 1048576)
    ]
    assert [o["name"] for o in drift["orphans"]] == [f"user={user}-extra"]  # kept: no permission
    fixed = cli("apply", str(env), "--auto-approve")
    assert fixed.exit_code == 0, fixed.output
    live = quotas.quotas()
    assert live[(("user", user),)]["producer_byte_rate"] == 1048576.0
    assert live[(("user", f"{user}-extra"),)] == {"consumer_byte_rate": 10.0}
    assert live[other] == {"producer_byte_rate": 1000.0}
    quotas.close()


def test_import_writes_the_managed_principals_bindings_and_quotas(
    secured_cluster: LocalCluster, admin: AdminClient, cli: Cli, tmp_path: Path
) -> None:
    from reconciler.clients.quotas import QuotaAdmin
    from reconciler.core.environment import Connection

    tag = secrets.token_hex(3)
    user = f"imp-{tag}"
    read = AclBinding(
        ResourceType.TOPIC, f"{user}.", ResourcePatternType.PREFIXED, f"User:{user}", "*",
        AclOperation.READ, AclPermissionType.ALLOW,
    )  # fmt: skip
    other = AclBinding(
        ResourceType.GROUP, "g", ResourcePatternType.LITERAL, f"User:other-{tag}", "*",
        AclOperation.READ, AclPermissionType.ALLOW,
    )  # fmt: skip
    for future in admin.create_acls([read, other]).values():
        future.result()
    quotas = QuotaAdmin(Connection(secured_cluster.bootstrap_servers, "PLAINTEXT"))
    quotas.alter({(("user", user),): {"consumer_byte_rate": 2048.0}})
    quotas.close()
    env = tmp_path / "acc"
    environment(env, manage=f"User:{user}*")
    imported = cli("import", str(env), "--select", f"User:{user}*", "--select", f"user={user}*")
    assert imported.exit_code == 0, imported.output
    acls = (env / "acls.yaml").read_text()
    assert f"principal: User:{user}" in acls and "patternType: prefixed" in acls
    assert f"other-{tag}" not in acls  # not this environment's
    assert "consumerByteRate: 2048" in (env / "quotas.yaml").read_text()
    again = cli("plan", str(env), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
