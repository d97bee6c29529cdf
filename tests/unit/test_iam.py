"""MSK IAM for the reconciler's own connection, as far as it runs offline: the token signed
from botocore's credential chain, the clients configured with it, the IAM listener chosen.
(A real IAM listener needs AWS: see the README's auth matrix.)"""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from reconciler.clients import iam
from reconciler.clients.kafka import client_config
from reconciler.clients.replicas import connection_config
from reconciler.clients.session import pick_bootstrap
from reconciler.core.environment import Connection
from reconciler.core.errors import ReconcilerError

IAM = Connection("b-1.example:9098", "SASL_SSL", sasl_mechanism="AWS_MSK_IAM", region="eu-west-1")


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake static credentials: botocore's chain reads them from the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_the_token_is_a_signed_connect_for_the_region_with_its_expiry_in_seconds(
    credentials: None,
) -> None:
    token, expiry = iam.token("eu-west-1")
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIAIOSFODNN7EXAMPLE/")
    assert "/eu-west-1/kafka-cluster/aws4_request" in query["X-Amz-Credential"][0]
    assert query["X-Amz-Expires"] == ["900"]
    assert 0 < expiry - time.time() <= 900  # seconds, not the signer's milliseconds
    assert "wJalrXUtnFEMI" not in url  # the secret key signs; it is never sent


def test_both_clients_log_in_with_oauthbearer_and_refresh_from_the_callback(
    credentials: None,
) -> None:
    config = client_config(IAM)
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    assert "sasl.password" not in config and "sasl.username" not in config
    _token, expiry = config["oauth_cb"]("")
    assert expiry > time.time()
    assert config["oauth_cb"]("")[0]  # librdkafka calls it again before expiry: a new token
    python = connection_config(IAM)
    assert python["sasl_mechanism"] == "OAUTHBEARER"
    assert python["sasl_oauth_token_provider"].token()


def test_the_iam_listener_is_chosen_for_aws_msk_iam() -> None:
    brokers = {
        "BootstrapBrokerStringTls": "b-1:9094",
        "BootstrapBrokerStringSaslScram": "b-1:9096",
        "BootstrapBrokerStringSaslIam": "b-1:9098",
    }
    assert pick_bootstrap(brokers, "SASL_SSL", "AWS_MSK_IAM") == "b-1:9098"
    assert pick_bootstrap(brokers, "SASL_SSL", "SCRAM-SHA-512") == "b-1:9096"


def test_signing_needs_a_region_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ReconcilerError, match=r"set spec\.msk\.region"):
        iam.token(None)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ReconcilerError, match="give the runner AWS credentials"):
        iam.token("eu-west-1")
