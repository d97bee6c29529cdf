"""The ScramUser kind's values.

Self-managed Kafka keeps a user's credential itself (AlterUserScramCredentials), as a salted
hash: it tells the mechanism and iteration count, never the password, so a changed password
cannot be seen and rotation is said explicitly (a new iteration count sets it again). On MSK
a user is a Secrets Manager secret associated with the cluster; MSK makes the credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.clients.access import ScramCredential
from reconciler.core.model import Location
from reconciler.kinds.access import AccessScope

KIND = "ScramUser"
#: MSK's rules for the secrets of SCRAM users (developer guide, "Limitations when using SCRAM
#: secrets", checked 2026-12): the name prefix, the one mechanism, secrets per
#: BatchAssociateScramSecret call, users per cluster, and the key MSK cannot use.
SECRET_PREFIX = "AmazonMSK_"
MSK_MECHANISM = "SCRAM-SHA-512"
BATCH_LIMIT = 10
MSK_USER_LIMIT = 1000
DEFAULT_KEY = "alias/aws/secretsmanager"
#: Field names of a change (a credential's removal is `remove.<mechanism>`).
MECHANISM, ITERATIONS, PASSWORD, SECRET, REMOVE = (
    "mechanism", "iterations", "password", "secret", "remove.",
)  # fmt: skip


@dataclass(frozen=True)
class UserSpec:
    """A declared user: a `${VAR}` password reference (self-managed) or a secret (MSK)."""

    name: str
    mechanism: str
    iterations: int
    password: str | None = None
    secret: str | None = None  # the secret's name or ARN
    location: Location | None = None


@dataclass(frozen=True)
class ScramUsers:
    users: Mapping[str, UserSpec] = field(default_factory=dict)
    scope: AccessScope = field(default_factory=AccessScope)

    def owns(self, user: str) -> bool:
        return self.scope.owns(f"User:{user}", [f"User:{name}" for name in self.users])

    @property
    def self_managed(self) -> bool:
        return any(u.password is not None for u in self.users.values())

    @property
    def on_msk(self) -> bool:
        return any(u.secret is not None for u in self.users.values())


@dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret as ListSecrets describes it (never its value)."""

    arn: str
    name: str
    kms_key_id: str | None = None


@dataclass(frozen=True)
class ObservedScram:
    #: Self-managed: every user's credentials (DescribeUserScramCredentials).
    credentials: tuple[ScramCredential, ...] = ()
    #: MSK: the secrets associated with the cluster (ListScramSecrets) ...
    associated: tuple[str, ...] = ()
    #: ... and Secrets Manager's AmazonMSK_ secrets (ListSecrets), for MSK's rules.
    secrets: tuple[Secret, ...] = ()
    #: Whether MSK was read (the environment names secrets or owns principals on MSK).
    msk: bool = False


def secret_name(arn: str) -> str:
    """The name in a secret's ARN (Secrets Manager appends `-` and six characters)."""
    name = arn.split(":secret:", 1)[-1]
    return name[:-7] if len(name) > 7 and name[-7] == "-" else name


def secret_user(name: str) -> str:
    """The user an associated secret stands for, by MSK's naming (`AmazonMSK_<user>`): its
    value, which names the user, is never read."""
    return name.removeprefix(SECRET_PREFIX)
