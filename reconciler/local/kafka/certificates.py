"""A throw-away CA and broker certificate for the SSL listener, made with the openssl CLI
(no Python crypto dependency), so clients of the local cluster verify it like a real one."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from reconciler.local.kafka.errors import LocalClusterError

KEYSTORE = "broker-keystore.pem"
CA_FILE = "ca.pem"


def make_certificates(tls_dir: Path) -> Path:
    """A throw-away CA and one broker certificate (SAN 127.0.0.1 and localhost), as PEM
    files Kafka reads directly (``ssl.keystore.type=PEM``); returns the CA file."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise LocalClusterError("tls=True needs the `openssl` command; install OpenSSL.")
    tls_dir.mkdir(parents=True)
    config = tls_dir / "openssl.cnf"
    config.write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = reconciler-local\n"
        "[v3_ca]\nbasicConstraints = critical, CA:TRUE\n"
        "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"
        "[v3_broker]\nbasicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
    )
    ca_key, ca_pem = tls_dir / "ca.key", tls_dir / CA_FILE
    key, csr, crt = tls_dir / "broker.key", tls_dir / "broker.csr", tls_dir / "broker.crt"
    serial = f"0x{uuid.uuid4().hex[:16]}"
    steps = [
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", ca_key],
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
        ["req", "-x509", "-new", "-key", ca_key, "-sha256", "-days", "3650",
         "-subj", "/CN=reconciler local CA", "-config", config, "-extensions", "v3_ca",
         "-out", ca_pem],
        ["req", "-new", "-key", key, "-subj", "/CN=localhost", "-config", config,
         "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", serial,
         "-days", "825", "-sha256", "-extfile", config, "-extensions", "v3_broker",
         "-out", crt],
    ]  # fmt: skip
    for step in steps:
        result = subprocess.run(
            [openssl, *map(str, step)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise LocalClusterError(
                f"openssl {step[0]} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
    keystore = tls_dir / KEYSTORE
    keystore.write_text(key.read_text() + crt.read_text() + ca_pem.read_text())
    for private in (ca_key, key, keystore):
        private.chmod(0o600)
    return ca_pem
