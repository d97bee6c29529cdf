"""MSK IAM for the reconciler's own connection: SASL OAUTHBEARER with a token that
aws-msk-iam-sasl-signer-python signs from the standard boto3 credential chain (environment,
profile, web identity: OIDC in CI), for MSK's IAM listener (9098, GetBootstrapBrokers'
BootstrapBrokerStringSaslIam).

The token is a SigV4-presigned `kafka-cluster:Connect` request for the region, valid for
900 seconds; the signer reports its expiry in milliseconds, librdkafka wants seconds.
confluent-kafka calls `oauth_callback` when it connects and again before the token expires
(on its background thread since 2.13); kafka-python asks its `TokenProvider` at each login.
"""

from __future__ import annotations

from collections.abc import Callable

from kafka.net.sasl.oauth import AbstractTokenProvider

from reconciler.core.errors import ReconcilerError

#: The Environment's `kafka.sasl.mechanism` for MSK IAM (the name MSK's Java clients use).
MECHANISM = "AWS_MSK_IAM"


def token(region: str | None) -> tuple[str, float]:
    """A fresh token and when it expires (seconds since the epoch). The signer (and boto3
    with it, a tenth of a second) is imported only by connections that sign."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    if not region:
        raise ReconcilerError(
            "MSK IAM authentication signs for a region: set spec.msk.region (or AWS_REGION)"
        )
    try:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    except Exception as exc:  # botocore: no credentials, expired web identity, ...
        raise ReconcilerError(
            f"cannot sign an MSK IAM token: {type(exc).__name__}: {exc}. What to do: give the "
            "runner AWS credentials (OIDC role, AWS_PROFILE or the AWS_* variables)"
        ) from exc
    return str(value), float(expiry_ms) / 1000.0


def oauth_callback(region: str | None) -> Callable[[str], tuple[str, float]]:
    """confluent-kafka's `oauth_cb`: (token, expiry in seconds)."""

    def callback(_config: str) -> tuple[str, float]:
        return token(region)

    return callback


class TokenProvider(AbstractTokenProvider):  # type: ignore[misc]
    """kafka-python's OAUTHBEARER token source, the same token as librdkafka gets."""

    def __init__(self, region: str | None) -> None:
        self.region = region

    def token(self) -> str:
        return token(self.region)[0]
