"""The network beneath Kafka, probed directly for `reconciler doctor`: DNS, TCP, what a listener
speaks, and the TLS handshake with the CA that verified it.

Standard library only (socket, ssl), and the one place the reconciler opens sockets itself,
so every probe returns a plain value (never raises for a network failure) and is bounded by
its timeout. What a listener speaks is found without trusting the port number: a TLS
handshake that completes means TLS; else a Kafka ApiVersions request (v0, which every
broker answers before any authentication) answered on a plain socket means plaintext.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from dataclasses import dataclass
from typing import Literal

Speaks = Literal["tls", "plaintext", "unknown"]
#: ApiVersions (key 18) v0 with correlation id 0x7265636f ("reco") and client id "doctor".
_CORRELATION = 0x7265636F
_CLIENT = b"doctor"
_API_VERSIONS = struct.pack(">hhih", 18, 0, _CORRELATION, len(_CLIENT)) + _CLIENT


@dataclass(frozen=True)
class Resolved:
    addresses: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Connected:
    ok: bool
    local_address: str | None = None  # this machine's address on the way to the broker
    millis: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class Handshake:
    ok: bool
    version: str | None = None
    subject: str | None = None
    issuer: str | None = None
    verified_by: str | None = None
    error: str | None = None
    #: The failure was the certificate (not the network): verification or host name.
    certificate_problem: bool = False


def resolve(host: str) -> Resolved:
    """The host's addresses (IPv4 and IPv6), as this machine's resolver gives them."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return Resolved((), str(exc))
    return Resolved(tuple(dict.fromkeys(str(info[4][0]) for info in infos)))


def connect(host: str, port: int, timeout: float) -> Connected:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            local = str(sock.getsockname()[0])
    except OSError as exc:
        return Connected(False, error=_os_error(exc, timeout))
    return Connected(True, local, (time.monotonic() - started) * 1000)


def source_address(host: str, port: int) -> str | None:
    """The address this machine sends from towards `host` (a UDP "connect" sends nothing), for
    when a TCP connection cannot be made."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            return str(sock.getsockname()[0])
    except OSError:
        return None


def _os_error(exc: OSError, timeout: float) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return (
            f"no answer within {timeout:g}s (dropped on the way: a security group, NACL or route)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (the host answers, but nothing listens on that port)"
    return exc.strerror or str(exc)


def speaks(host: str, port: int, timeout: float) -> Speaks:
    """Whether the listener speaks TLS or plaintext Kafka (or neither, as far as can be seen)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to see whether it speaks TLS at all
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return "tls"
    except (OSError, ssl.SSLError):
        pass
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(_API_VERSIONS)) + _API_VERSIONS)
            header = _read(sock, 8)
    except OSError:
        return "unknown"
    if header is not None and struct.unpack(">ii", header)[1] == _CORRELATION:
        return "plaintext"
    return "unknown"


def _read(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _name(entries: object) -> str:
    """`CN=..., O=...` from getpeercert()'s nested tuples."""
    parts = []
    for rdn in entries if isinstance(entries, tuple) else ():
        for key, value in rdn:
            short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}.get(key)
            if short:
                parts.append(f"{short}={value}")
    return ", ".join(parts) or "(no name)"


def _trusted_by(context: ssl.SSLContext, ca_file: str | None, issuer: object) -> str:
    if ca_file:
        for ca in context.get_ca_certs():
            if ca.get("subject") == issuer:
                return f"caFile {ca_file} (CA {_name(ca.get('subject'))})"
        return f"caFile {ca_file}"
    paths = ssl.get_default_verify_paths()
    return f"the system CA store ({paths.openssl_cafile or paths.openssl_capath})"


def handshake(
    host: str, port: int, *, ca_file: str | None, verify_hostname: bool, timeout: float
) -> Handshake:
    """A verified TLS handshake, as the reconciler's client makes it: the caFile, else the
    system CA store; the host name checked unless verifyHostname is false."""
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        return Handshake(False, error=f"cannot read caFile {ca_file}: {exc}")
    context.check_hostname = verify_hostname
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            certificate = tls.getpeercert() or {}
            version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return Handshake(False, error=str(exc.verify_message or exc), certificate_problem=True)
    except ssl.SSLError as exc:
        return Handshake(False, error=exc.reason or str(exc))
    except OSError as exc:
        return Handshake(False, error=_os_error(exc, timeout))
    issuer = certificate.get("issuer")
    return Handshake(
        True,
        version,
        _name(certificate.get("subject")),
        _name(issuer),
        _trusted_by(context, ca_file, issuer),
    )
