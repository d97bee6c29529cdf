"""ScramUser documents -> declared users, with MSK's rules for their secrets. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.errors import SpecProblem
from reconciler.kinds.access import scope
from reconciler.kinds.base import Loading
from reconciler.kinds.scram_user.model import (
    MSK_MECHANISM,
    SECRET_PREFIX,
    ScramUsers,
    UserSpec,
    secret_name,
)
from reconciler.specs.yaml_source import Document

DEFAULT_MECHANISM = "SCRAM-SHA-512"
DEFAULT_ITERATIONS = 4096


def _user(doc: Document, on_msk: bool, problems: list[SpecProblem]) -> UserSpec:
    spec = doc.data["spec"]
    name = doc.data["metadata"]["name"]
    mechanism = spec.get("mechanism", DEFAULT_MECHANISM)
    stored = spec.get("awsSecretsManager")
    secret = None if stored is None else stored.get("arn") or stored.get("name")

    def problem(path: tuple[str, ...], message: str, hint: str) -> None:
        problems.append(SpecProblem(doc.location(path), ".".join(path), message, hint))

    if secret is not None:
        where = ("spec", "awsSecretsManager")
        if not on_msk:
            problem(
                where,
                "a secret makes a user on MSK, and this Environment names no "
                "MSK cluster (spec.msk)",
                "name the cluster in spec.msk, or give self-managed Kafka a password: ${VAR}",
            )
        if not secret_name(secret).startswith(SECRET_PREFIX):
            problem(
                where,
                f"MSK takes only secrets whose name starts with {SECRET_PREFIX}",
                f"create the secret as {SECRET_PREFIX}{name} (a secret cannot be renamed)",
            )
        if mechanism != MSK_MECHANISM:
            problem(
                ("spec", "mechanism"),
                f"MSK supports {MSK_MECHANISM} only",
                f"leave mechanism out or set {MSK_MECHANISM}",
            )
    elif on_msk:
        problem(
            ("spec", "password"),
            "MSK makes SCRAM users from Secrets Manager secrets, "
            "not from AlterUserScramCredentials",
            f"store the credentials in a secret "
            f"named {SECRET_PREFIX}{name} and name it in spec.awsSecretsManager",
        )
    return UserSpec(
        name,
        mechanism,
        int(spec.get("iterations", DEFAULT_ITERATIONS)),
        spec.get("password"),
        secret,
        doc.location(("metadata", "name")),
    )


def load(documents: Sequence[Document], loading: Loading) -> tuple[ScramUsers, list[SpecProblem]]:
    owned = scope(loading)
    on_msk = loading.environment is not None and loading.environment.msk is not None
    problems: list[SpecProblem] = []
    users: dict[str, UserSpec] = {}
    for doc in documents:
        user = _user(doc, on_msk, problems)
        where = doc.location(("metadata", "name"))
        if user.name in users:
            problems.append(
                SpecProblem(
                    where,
                    "metadata.name",
                    f"ScramUser {user.name!r} is declared twice",
                    f"the first is at {users[user.name].location}",
                )
            )
        elif not owned.owns(f"User:{user.name}", (f"User:{user.name}",)):
            problems.append(
                SpecProblem(
                    where,
                    "metadata.name",
                    f"User:{user.name} matches access.ignore",
                    "an ignored principal is never changed: remove the document or the pattern",
                )
            )
        else:
            users[user.name] = user
    return ScramUsers(users, owned), problems
