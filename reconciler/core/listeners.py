"""MSK's listeners, one table: how GetBootstrapBrokers names each, its port, and how a Kafka
client speaks to it. Pure.

Ports from the MSK Developer Guide's port-info.html: 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM,
9098 IAM inside AWS; 9194/9196/9198 for public access; 20092-20098 for IPv6. Multi-VPC
private connectivity gives each broker its own port (14001 and up), so it has none here.
Members are botocore's GetBootstrapBrokers output shape; `output` is the attribute name the
AWS provider's aws_msk_cluster exports (what `terraform output` shows the seed's users).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Sasl = Literal["SCRAM", "IAM"]
Network = Literal["private", "public", "vpc-connectivity", "ipv6"]


@dataclass(frozen=True)
class Listener:
    name: str  # how `reconciler outputs --listener` names it
    member: str  # GetBootstrapBrokers output member
    security_protocol: str  # the Kafka client's security.protocol
    sasl: Sasl | None
    port: int | None
    network: Network = "private"

    @property
    def output(self) -> str:
        """The aws_msk_cluster attribute: bootstrap_brokers, bootstrap_brokers_tls, ..."""
        return "bootstrap_brokers" + ("" if self.name == "plaintext" else f"_{self.name}")


_L = Listener
#: name, GetBootstrapBrokers member, security.protocol, SASL, port, network.
LISTENERS: tuple[Listener, ...] = (
    _L("plaintext", "BootstrapBrokerString", "PLAINTEXT", None, 9092),
    _L("tls", "BootstrapBrokerStringTls", "SSL", None, 9094),
    _L("sasl_scram", "BootstrapBrokerStringSaslScram", "SASL_SSL", "SCRAM", 9096),
    _L("sasl_iam", "BootstrapBrokerStringSaslIam", "SASL_SSL", "IAM", 9098),
    _L("public_tls", "BootstrapBrokerStringPublicTls", "SSL", None, 9194, "public"),
    _L("public_sasl_scram", "BootstrapBrokerStringPublicSaslScram", "SASL_SSL", "SCRAM", 9196,
       "public"),
    _L("public_sasl_iam", "BootstrapBrokerStringPublicSaslIam", "SASL_SSL", "IAM", 9198, "public"),
    _L("vpc_connectivity_tls", "BootstrapBrokerStringVpcConnectivityTls", "SSL", None, None,
       "vpc-connectivity"),
    _L("vpc_connectivity_sasl_scram", "BootstrapBrokerStringVpcConnectivitySaslScram",
       "SASL_SSL", "SCRAM", None, "vpc-connectivity"),
    _L("vpc_connectivity_sasl_iam", "BootstrapBrokerStringVpcConnectivitySaslIam", "SASL_SSL",
       "IAM", None, "vpc-connectivity"),
    _L("ipv6", "BootstrapBrokerStringIpv6", "PLAINTEXT", None, 20092, "ipv6"),
    _L("tls_ipv6", "BootstrapBrokerStringTlsIpv6", "SSL", None, 20094, "ipv6"),
    _L("sasl_scram_ipv6", "BootstrapBrokerStringSaslScramIpv6", "SASL_SSL", "SCRAM", 20096, "ipv6"),
    _L("sasl_iam_ipv6", "BootstrapBrokerStringSaslIamIpv6", "SASL_SSL", "IAM", 20098, "ipv6"),
)  # fmt: skip
BY_NAME: Mapping[str, Listener] = {listener.name: listener for listener in LISTENERS}
BY_PORT: Mapping[int, Listener] = {x.port: x for x in LISTENERS if x.port is not None}


def sasl_family(mechanism: str | None) -> Sasl | None:
    """SCRAM-SHA-256/512 are MSK's SCRAM listener; AWS_MSK_IAM and OAUTHBEARER its IAM one."""
    if not mechanism:
        return None
    if mechanism.startswith("SCRAM"):
        return "SCRAM"
    return "IAM" if mechanism in ("AWS_MSK_IAM", "OAUTHBEARER") else None  # PLAIN: neither


def client_listeners(security_protocol: str, sasl_mechanism: str | None) -> tuple[Listener, ...]:
    """The listeners a client with this protocol can use, private before public (the order a
    runner inside the VPC wants them); multi-VPC and IPv6 ones are chosen by name only."""
    wanted = sasl_family(sasl_mechanism) if security_protocol.startswith("SASL") else None
    return tuple(
        listener
        for listener in LISTENERS
        if listener.network in {"private", "public"}
        and listener.security_protocol == security_protocol
        and listener.sasl == wanted
    )


def tls(security_protocol: str) -> bool:
    """Whether a client of this protocol expects the listener to speak TLS."""
    return security_protocol in {"SSL", "SASL_SSL"}
