"""boto3 clients for the MSK stages, with throttling retried and every call bounded.

botocore's "standard" retry mode retries throttling errors (TooManyRequestsException, HTTP
429), 5xx and connection errors with exponential backoff and jitter (base 2^attempt seconds,
capped at 20 s). `max_attempts` counts the first call. The endpoint can be pointed at the local
MSK endpoint with `endpoint_url` or the standard AWS_ENDPOINT_URL_KAFKA variable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_logs import CloudWatchLogsClient

MAX_ATTEMPTS = 8


def retry_config(max_attempts: int = MAX_ATTEMPTS, timeout: float = 30.0) -> Config:
    """Standard-mode retries (throttling included) and bounded connect/read timeouts."""
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=timeout,
        read_timeout=timeout,
    )


def kafka_client(
    region: str | None = None, endpoint_url: str | None = None, config: Config | None = None
) -> KafkaClient:
    return boto3.client(
        "kafka", region_name=region, endpoint_url=endpoint_url, config=config or retry_config()
    )


def logs_client(
    region: str | None = None, endpoint_url: str | None = None, config: Config | None = None
) -> CloudWatchLogsClient:
    return boto3.client(
        "logs", region_name=region, endpoint_url=endpoint_url, config=config or retry_config()
    )
