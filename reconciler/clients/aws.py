"""AWS APIs (MSK, CloudWatch Logs, EC2, Secrets Manager) behind one facade: the only
importer of boto3 and botocore.

`Service.call` and `Service.pages` return plain dicts and turn botocore's exceptions into
`core.errors.ApiError` (the service refused: its code and message) or `ConnectionFailure`
(it could not be reached), so no kind ever handles a library type.

botocore's "standard" retry mode retries throttling errors (TooManyRequestsException, HTTP
429), 5xx and connection errors with exponential backoff and jitter (base 2^attempt seconds,
capped at 20 s). `max_attempts` counts the first call. The endpoint can be pointed at the
local MSK endpoint with `endpoint_url` or the standard AWS_ENDPOINT_URL_KAFKA variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reconciler.core.errors import AWS_WHAT_TO_DO, ApiError, ConnectionFailure

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_logs import CloudWatchLogsClient

#: Five attempts ride out throttling (~15 s of backoff) without hanging a minute on an
#: endpoint that is simply down; AWS_MAX_ATTEMPTS overrides it as botocore documents.
MAX_ATTEMPTS = 5


def retry_config(max_attempts: int | None = None, timeout: float = 30.0) -> Config:
    """Standard-mode retries (throttling included) and bounded connect/read timeouts."""
    attempts = max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS", MAX_ATTEMPTS))
    return Config(
        retries={"mode": "standard", "max_attempts": attempts},
        connect_timeout=timeout,
        read_timeout=timeout,
    )


def _loopback_credentials(endpoint_url: str | None) -> dict[str, str]:
    """The local endpoint (`reconciler local up`) takes any credentials; don't require real ones.

    Only for an endpoint on this machine, so real AWS calls never see made-up keys.
    """
    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_KAFKA", "")
    host = urlsplit(url).hostname or ""
    if host in {"127.0.0.1", "localhost", "::1"}:
        return {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return {}


def kafka_client(
    region: str | None = None, endpoint_url: str | None = None, config: Config | None = None
) -> KafkaClient:
    local = _loopback_credentials(endpoint_url)
    return boto3.client(
        "kafka",
        region_name=region,
        endpoint_url=endpoint_url,
        config=config or retry_config(),
        aws_access_key_id=local.get("aws_access_key_id"),
        aws_secret_access_key=local.get("aws_secret_access_key"),
    )


def logs_client(
    region: str | None = None, endpoint_url: str | None = None, config: Config | None = None
) -> CloudWatchLogsClient:
    return boto3.client(
        "logs", region_name=region, endpoint_url=endpoint_url, config=config or retry_config()
    )


def ec2_client(
    region: str | None = None, endpoint_url: str | None = None, config: Config | None = None
) -> EC2Client:
    """EC2, for the security groups of the brokers (`doctor`); AWS_ENDPOINT_URL_EC2 applies."""
    return boto3.client(
        "ec2", region_name=region, endpoint_url=endpoint_url, config=config or retry_config()
    )


class Service:
    """One AWS service client; every call returns a plain dict or raises a core error."""

    def __init__(self, client: Any, label: str) -> None:
        self.client = client
        self.label = label

    def _failure(self, operation: str, exc: Exception) -> Exception:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            return ApiError(operation, str(error.get("Code", "")), str(error.get("Message", exc)))
        return ConnectionFailure(f"{self.label} {operation}: {exc}")

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """`operation` in boto3's snake_case (describe_cluster_v2), with its parameters."""
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**params)
        except (BotoCoreError, ClientError) as exc:
            raise self._failure(operation, exc) from exc
        return response

    def pages(self, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item under `key` across the pages of a paginated operation."""
        try:
            for page in self.client.get_paginator(operation).paginate(**params):
                yield from page.get(key, [])
        except (BotoCoreError, ClientError) as exc:
            raise self._failure(operation, exc) from exc


def msk_service(region: str | None, endpoint_url: str | None = None) -> Service:
    return _service(lambda: kafka_client(region, endpoint_url), "MSK")


def logs_service(region: str | None, endpoint_url: str | None = None) -> Service:
    return _service(lambda: logs_client(region, endpoint_url), "CloudWatch Logs")


def ec2_service(region: str | None, endpoint_url: str | None = None) -> Service:
    return _service(lambda: ec2_client(region, endpoint_url), "EC2")


def secrets_service(region: str | None, endpoint_url: str | None = None) -> Service:
    """Secrets Manager, for the secrets of MSK's SCRAM users (their metadata, never values);
    AWS_ENDPOINT_URL_SECRETS_MANAGER applies."""

    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER", "")
    local = _loopback_credentials(url) if url else {}

    def make() -> Any:
        return boto3.client(
            "secretsmanager",
            region_name=region,
            endpoint_url=endpoint_url,
            config=retry_config(),
            aws_access_key_id=local.get("aws_access_key_id"),
            aws_secret_access_key=local.get("aws_secret_access_key"),
        )

    return _service(make, "Secrets Manager")


def _service(make: Any, label: str) -> Service:
    try:
        return Service(make(), label)
    except BotoCoreError as exc:  # e.g. no region configured
        raise ConnectionFailure(
            f"{label}: creating the client failed: {exc}\n  what to do: {AWS_WHAT_TO_DO}"
        ) from exc
