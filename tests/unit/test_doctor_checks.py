"""The doctor's rules as pure functions: MSK's ports against securityProtocol, security-group
rules against this runner's address, and the report's layout."""

from __future__ import annotations

from typing import Any

from reconciler.doctor.checks import (
    Check,
    admission,
    listener_check,
    render,
    security_group_check,
)

BROKER = "b-1.malawi.kafka.eu-central-1.amazonaws.com"


def test_msks_ports_are_checked_against_security_protocol() -> None:
    right = listener_check(f"{BROKER}:9094", 9094, "SSL", None, "tls")
    assert right == Check(
        f"listener {BROKER}:9094",
        "ok",
        "speaks TLS, as securityProtocol SSL needs (MSK's TLS listener)",
    )
    plaintext_port = listener_check(f"{BROKER}:9092", 9092, "SSL", None, "plaintext")
    assert plaintext_port.status == "failed"
    assert plaintext_port.detail == (
        "port 9092 is MSK's plaintext listener, not one for securityProtocol SSL"
    )
    assert plaintext_port.what_to_do == (
        "use MSK's port 9094 or 9194 for SSL, or set spec.kafka.securityProtocol to PLAINTEXT "
        "for port 9092"
    )
    iam = listener_check(f"{BROKER}:9098", 9098, "SASL_SSL", "SCRAM-SHA-512", "tls")
    assert iam.status == "failed" and "MSK's TLS SASL/IAM listener" in iam.detail
    scram = listener_check(f"{BROKER}:9096", 9096, "SASL_SSL", "SCRAM-SHA-512", "tls")
    assert scram.status == "ok"


def test_what_the_listener_speaks_decides_off_msks_ports() -> None:
    assert listener_check("h:19092", 19092, "PLAINTEXT", None, "plaintext").status == "ok"
    tls_for_plain = listener_check("h:19093", 19093, "PLAINTEXT", None, "tls")
    assert tls_for_plain.status == "failed" and "set spec.kafka.securityProtocol: SSL" in str(
        tls_for_plain.what_to_do
    )
    assert listener_check("h:1", 1, "SSL", None, "unknown").status == "warn"


def rule(cidr: str, low: int = 9094, high: int = 9094, protocol: str = "tcp") -> dict[str, Any]:
    return {"IpProtocol": protocol, "FromPort": low, "ToPort": high, "IpRanges": [{"CidrIp": cidr}]}


def test_a_cidr_rule_on_the_port_admits_and_others_do_not() -> None:
    assert admission([rule("10.0.0.0/16")], "10.0.5.7", 9094).rule == "10.0.0.0/16 tcp 9094"
    assert admission([rule("10.0.0.0/16", 9092, 9098)], "10.0.5.7", 9094).rule is not None
    assert admission([rule("10.0.0.0/16")], "10.1.0.1", 9094).rule is None
    assert admission([rule("10.0.0.0/16")], "10.0.5.7", 9096).rule is None
    assert admission([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}], "1.2.3.4", 1)
    v6 = {"IpProtocol": "tcp", "FromPort": 9094, "ToPort": 9094,
          "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]}  # fmt: skip
    assert admission([v6], "2001:db8::5", 9094).rule == "2001:db8::/32 tcp 9094"
    assert admission([v6], "10.0.5.7", 9094).rule is None


def test_security_groups_pass_warn_on_group_references_and_fail_with_the_command() -> None:
    open_group = {"GroupId": "sg-open", "IpPermissions": [rule("10.0.0.0/16")]}
    assert security_group_check([open_group], "10.0.5.7", [9094]).status == "ok"
    referenced = {
        "GroupId": "sg-ref",
        "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 9094, "ToPort": 9094,
             "UserIdGroupPairs": [{"GroupId": "sg-runners"}]}
        ],
    }  # fmt: skip
    warned = security_group_check([referenced], "10.0.5.7", [9094])
    assert warned.status == "warn" and "open only to members of sg-runners" in warned.detail
    closed = {"GroupId": "sg-closed", "IpPermissions": [rule("192.168.0.0/24")]}
    refused = security_group_check([closed, open_group], "172.16.0.9", [9094])
    assert refused.status == "failed"
    assert "no inbound rule of sg-closed, sg-open admits this runner (172.16.0.9)" in (
        refused.detail
    )
    assert "--group-id sg-closed --protocol tcp --port 9094 --cidr 172.16.0.9/32" in str(
        refused.what_to_do
    )


def test_the_report_puts_what_to_do_under_each_failure_and_counts_last() -> None:
    text = render(
        "Doctor for environment dev",
        [
            Check("DNS b-1", "ok", "10.0.0.1"),
            Check("TCP b-1:9094", "failed", "refused", "open the port"),
            Check("SASL authentication", "skipped", "no SASL"),
        ],
    )
    assert text.splitlines() == [
        "Doctor for environment dev",
        "  ok       DNS b-1: 10.0.0.1",
        "  FAILED   TCP b-1:9094: refused",
        "           what to do: open the port",
        "  skipped  SASL authentication: no SASL",
        "3 checks: 1 ok, 1 failed, 1 skipped; some checks failed.",
    ]
