"""The doctor's checks as values, and the rules they apply. Pure.

Each check is one line: ok, warn (works, but worth knowing), failed (with what to do) or
skipped (does not apply, or an earlier failure makes it moot). `doctor` exits 1 when any
failed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core.listeners import BY_PORT, Listener, client_listeners, sasl_family, tls

Status = Literal["ok", "warn", "failed", "skipped"]
#: Column width of the status word.
WIDTH = 8


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    what_to_do: str | None = None


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def failed(name: str, detail: str, what_to_do: str) -> Check:
    return Check(name, "failed", detail, what_to_do)


def render(header: str, checks: Sequence[Check]) -> str:
    """One line per check, `what to do` under each one that failed or warns, a count last."""
    lines = [header]
    for check in checks:
        word = "FAILED" if check.status == "failed" else check.status
        lines.append(f"  {word:<{WIDTH}} {check.name}: {check.detail}")
        if check.what_to_do:
            lines.append(f"  {'':<{WIDTH}} what to do: {check.what_to_do}")
    counts = {s: sum(c.status == s for c in checks) for s in ("ok", "warn", "failed", "skipped")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    verdict = "some checks failed" if counts["failed"] else "no check failed"
    lines.append(f"{len(checks)} checks: {summary}; {verdict}.")
    return "\n".join(lines) + "\n"


# --- the listener against securityProtocol --------------------------------------------------


def _msk_ports(security_protocol: str, sasl_mechanism: str | None) -> str:
    ports = [f"{x.port}" for x in client_listeners(security_protocol, sasl_mechanism) if x.port]
    return " or ".join(ports) or "none (MSK has no such listener)"


def _describe(listener: Listener) -> str:
    sasl = f" SASL/{listener.sasl}" if listener.sasl else ""
    kind = "plaintext" if listener.security_protocol == "PLAINTEXT" else f"TLS{sasl}"
    where = " (public access)" if listener.network == "public" else ""
    return f"MSK's {kind} listener{where}"


def listener_check(
    address: str, port: int, security_protocol: str, sasl_mechanism: str | None, speaks: str
) -> Check:
    """What the listener speaks (probed) and its port (MSK's port-info.html) against the
    Environment's securityProtocol: 9092 PLAINTEXT, 9094 SSL, 9096 SASL/SCRAM, 9098 IAM."""
    name = f"listener {address}"
    wants_tls = tls(security_protocol)
    msk = BY_PORT.get(port)
    right_ports = _msk_ports(security_protocol, sasl_mechanism)
    sasl = sasl_family(sasl_mechanism) if security_protocol.startswith("SASL") else None
    if msk is not None and (msk.security_protocol, msk.sasl) != (security_protocol, sasl):
        return failed(
            name,
            f"port {port} is {_describe(msk)}, not one for securityProtocol {security_protocol}",
            f"use MSK's port {right_ports} for {security_protocol}, or set "
            f"spec.kafka.securityProtocol to {msk.security_protocol} for port {port}",
        )
    if speaks == "plaintext" and wants_tls:
        return failed(
            name,
            f"it speaks plaintext; securityProtocol {security_protocol} expects TLS",
            f"use the brokers' TLS port (MSK: {right_ports}), or set "
            "spec.kafka.securityProtocol: PLAINTEXT (MSK: port 9092)",
        )
    if speaks == "tls" and not wants_tls:
        return failed(
            name,
            f"it speaks TLS; securityProtocol {security_protocol} expects plaintext",
            "set spec.kafka.securityProtocol: SSL (or SASL_SSL), or use the plaintext port "
            "(MSK: 9092)",
        )
    if speaks == "unknown":
        return Check(
            name,
            "warn",
            "neither a TLS handshake nor a plaintext Kafka request got an answer",
            "check that this host and port are a Kafka broker's listener",
        )
    what = "TLS" if speaks == "tls" else "plaintext"
    port_note = f"{_describe(msk)}" if msk else f"port {port} is not one of MSK's"
    return ok(name, f"speaks {what}, as securityProtocol {security_protocol} needs ({port_note})")


# --- security groups ------------------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    """How a security group's inbound rules treat one source address on one TCP port."""

    rule: str | None  # the rule that admits it, if any
    group_references: tuple[str, ...] = ()  # rules naming groups: admitted if the source is in one
    rules: tuple[str, ...] = ()  # every rule for the port, for the message


def _port_matches(permission: Mapping[str, Any], port: int) -> bool:
    protocol = str(permission.get("IpProtocol", ""))
    if protocol == "-1":
        return True
    if protocol not in {"tcp", "6"}:
        return False
    low, high = permission.get("FromPort"), permission.get("ToPort")
    return low is not None and high is not None and int(low) <= port <= int(high)


def _ports(permission: Mapping[str, Any]) -> str:
    if str(permission.get("IpProtocol")) == "-1":
        return "all traffic"
    low, high = permission.get("FromPort"), permission.get("ToPort")
    return f"tcp {low}" if low == high else f"tcp {low}-{high}"


def admission(permissions: Sequence[Mapping[str, Any]], source: str, port: int) -> Admission:
    """Whether an inbound rule admits `source` on TCP `port` (IpPermissions of
    DescribeSecurityGroups: CIDR ranges, IPv6 ranges, group references)."""
    address = ipaddress.ip_address(source)
    references: list[str] = []
    rules: list[str] = []
    for permission in permissions:
        if not _port_matches(permission, port):
            continue
        ports = _ports(permission)
        ranges = [
            *(r.get("CidrIp") for r in permission.get("IpRanges") or []),
            *(r.get("CidrIpv6") for r in permission.get("Ipv6Ranges") or []),
        ]
        for cidr in (str(c) for c in ranges if c):
            rules.append(f"{cidr} {ports}")
            network = ipaddress.ip_network(cidr, strict=False)
            if address.version == network.version and address in network:
                return Admission(f"{cidr} {ports}", tuple(references), tuple(rules))
        for pair in permission.get("UserIdGroupPairs") or []:
            if pair.get("GroupId"):
                references.append(str(pair["GroupId"]))
                rules.append(f"{pair['GroupId']} {ports}")
        for prefix in permission.get("PrefixListIds") or []:
            if prefix.get("PrefixListId"):
                rules.append(f"{prefix['PrefixListId']} {ports}")
    return Admission(None, tuple(dict.fromkeys(references)), tuple(rules))


def security_group_check(
    groups: Sequence[Mapping[str, Any]], source: str, ports: Sequence[int]
) -> Check:
    """The brokers' security groups (any of them may admit) against this runner, per port."""
    name = "security groups"
    ids = ", ".join(str(g.get("GroupId")) for g in groups) or "none"
    admitted, referenced, refused = [], [], []
    for port in ports:
        verdicts = [admission(g.get("IpPermissions") or [], source, port) for g in groups]
        rule = next((v.rule for v in verdicts if v.rule), None)
        if rule:
            admitted.append(f"{port} ({rule})")
            continue
        references = [r for v in verdicts for r in v.group_references]
        if references:
            referenced.append((port, references))
        else:
            refused.append((port, [r for v in verdicts for r in v.rules]))
    if refused:
        port, rules = refused[0]
        first = str(groups[0].get("GroupId")) if groups else "<group>"
        return failed(
            name,
            f"no inbound rule of {ids} admits this runner ({source}) on tcp "
            f"{', '.join(str(p) for p, _ in refused)} (rules for {port}: "
            f"{', '.join(rules) or 'none'})",
            f"add one (aws ec2 authorize-security-group-ingress --group-id {first} --protocol "
            f"tcp --port {port} --cidr {source}/32), or run from inside the VPC (a self-hosted "
            "runner) if the cluster is private",
        )
    if referenced:
        port, references = referenced[0]
        return Check(
            name,
            "warn",
            f"{ids}: tcp {port} is open only to members of {', '.join(references)}",
            f"this runner ({source}) gets in only if its network interface is in one of them",
        )
    return ok(name, f"{ids} admit this runner ({source}) on tcp {', '.join(admitted)}")
