"""SCRAM users the MSK way: Secrets Manager secrets associated with a cluster.

BatchAssociateScramSecret, BatchDisassociateScramSecret and ListScramSecrets, with the rules
MSK documents ("Limitations when using SCRAM secrets"): SASL/SCRAM enabled on the cluster, at
most 10 secrets per call, names starting with AmazonMSK_, a customer-managed KMS key (never
aws/secretsmanager), the same region, a value of `{"username", "password"}`. Each secret MSK
takes becomes a SCRAM-SHA-512 credential on the real local brokers, as MSK makes one on its
brokers; each one it lets go of is deleted there. A secret MSK cannot take is reported in
`UnprocessedScramSecrets` (the error codes are this endpoint's own words; AWS does not
document its codes). Secrets Manager itself is moto's, at `secrets_endpoint`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from reconciler.clients.access import ScramUpsert
from reconciler.core.errors import ApiError as ServiceError
from reconciler.core.errors import ConnectionFailure
from reconciler.kinds.msk_cluster.fields import read_wire
from reconciler.kinds.scram_user.model import (
    BATCH_LIMIT,
    DEFAULT_KEY,
    MSK_MECHANISM,
    SECRET_PREFIX,
    secret_name,
)
from reconciler.local.msk.provisioned import security
from reconciler.local.msk.state import paginate
from reconciler.local.msk.topics import TopicApi
from reconciler.local.msk.wire import Json, bad_request

if TYPE_CHECKING:
    from reconciler.clients.aws import Service

ITERATIONS = 4096


def _unprocessed(arn: str, code: str, message: str) -> Json:
    """An UnprocessedScramSecrets entry: a secret MSK did not take, and why."""
    return {"ErrorCode": code, "ErrorMessage": message, "SecretArn": arn}


class ScramSecretApi(TopicApi):
    """The three SCRAM secret operations; `scram_secrets` holds each cluster's associations
    (secret ARN -> the user its value named, to delete the credential when it goes)."""

    def _secrets_manager(self) -> Service:
        from reconciler.clients.aws import secrets_service

        return secrets_service(self.region, self.secrets_endpoint)

    def _scram_cluster(self, params: Json) -> str:
        arn = str(params["ClusterArn"])
        cluster = self._cluster(arn)
        if not security(read_wire(cluster.provisioned)).scram:
            raise bad_request(
                "SASL/SCRAM authentication is not enabled for this cluster. Enable it with "
                "UpdateSecurity before associating secrets.",
                "clusterArn",
            )
        return arn

    def _batch(self, params: Json) -> list[str]:
        secrets = [str(s) for s in params.get("SecretArnList") or []]
        if not secrets or len(secrets) > BATCH_LIMIT:
            raise bad_request(
                f"SecretArnList must hold 1 to {BATCH_LIMIT} secret ARNs.", "secretArnList"
            )
        return secrets

    def _user_of(self, arn: str) -> tuple[str, str]:
        """(username, password) from the secret, checked as MSK checks it; raises ValueError
        with (code, message) for a secret MSK does not take."""
        if not secret_name(arn).startswith(SECRET_PREFIX):
            raise ValueError(
                "InvalidSecretName", f"The secret name must start with {SECRET_PREFIX}."
            )
        if f":{self.region}:" not in arn:
            raise ValueError("InvalidSecretArn", "The secret must be in the cluster's region.")
        manager = self._secrets_manager()
        try:
            described = manager.call("describe_secret", SecretId=arn)
            if described.get("KmsKeyId") in (None, DEFAULT_KEY):
                raise ValueError(
                    "InvalidSecretKey",
                    "The secret must be encrypted with a "
                    "customer managed KMS key, not the aws/secretsmanager key.",
                )
            value = manager.call("get_secret_value", SecretId=arn)["SecretString"]
        except (ServiceError, ConnectionFailure) as exc:
            raise ValueError("SecretNotFound", f"The secret cannot be read: {exc}") from exc
        try:
            data = json.loads(value)
            return str(data["username"]), str(data["password"])
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                "InvalidSecretValue",
                'The secret value must be JSON with "username" and "password".',
            ) from None

    def batch_associate_scram_secret(self, params: Json) -> Json:
        cluster = self._scram_cluster(params)
        associated = self.scram_secrets.setdefault(cluster, {})
        unprocessed = []
        upserts = {}
        for arn in self._batch(params):
            try:
                user, password = self._user_of(arn)
            except ValueError as exc:
                code, message = exc.args
                unprocessed.append(_unprocessed(arn, code, message))
                continue
            upserts[arn] = ScramUpsert(user, MSK_MECHANISM, ITERATIONS, password)
        results = self._kafka().alter_scram(list(upserts.values()), []) if upserts else {}
        for arn, upsert in upserts.items():
            error = results.get(upsert.user)
            if error:
                unprocessed.append(_unprocessed(arn, "InternalServerError", error))
            else:
                associated[arn] = upsert.user
        self._save()
        return {"ClusterArn": cluster, "UnprocessedScramSecrets": unprocessed}

    def batch_disassociate_scram_secret(self, params: Json) -> Json:
        cluster = self._scram_cluster(params)
        associated = self.scram_secrets.setdefault(cluster, {})
        unprocessed = []
        users = {}
        for arn in self._batch(params):
            if arn not in associated:
                message = "The secret is not associated with this cluster."
                unprocessed.append(_unprocessed(arn, "SecretNotAssociated", message))
            else:
                users[arn] = associated[arn]
        results = (
            self._kafka().alter_scram([], [(u, MSK_MECHANISM) for u in users.values()])
            if users
            else {}
        )
        for arn, user in users.items():
            error = results.get(user)
            if error and "RESOURCE_NOT_FOUND" not in error:
                unprocessed.append(_unprocessed(arn, "InternalServerError", error))
            else:
                del associated[arn]
        self._save()
        return {"ClusterArn": cluster, "UnprocessedScramSecrets": unprocessed}

    def list_scram_secrets(self, params: Json) -> Json:
        cluster = str(params["ClusterArn"])
        self._cluster(cluster)
        return paginate(sorted(self.scram_secrets.get(cluster, {})), params, "SecretArnList")
