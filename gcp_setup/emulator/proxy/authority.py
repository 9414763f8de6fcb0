"""The proxy's certificate authority: a CA of the emulator's own, kept in its state directory (the key
0600), and the TLS context of the leaf certificate it signs for `*.googleapis.com`.

A user's program trusts it through SSL_CERT_FILE / REQUESTS_CA_BUNDLE, which name `bundle`: the CA with
certifi's roots after it, so that the same shell still verifies every other HTTPS host."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gcp_setup.secrets.files import write_secret_file

CA_KEY, CA_CERT, BUNDLE = "proxy-ca-key.pem", "proxy-ca.pem", "proxy-ca-bundle.pem"
LEAF_KEY, LEAF_CERT = "proxy-leaf-key.pem", "proxy-leaf.pem"
SERVED_NAMES = ("*.googleapis.com", "googleapis.com")
"""What the leaf certificate covers: every API host (LOCATION-aiplatform.googleapis.com is one label)."""
CA_DAYS, LEAF_DAYS = 3650, 397
"""397 days: the longest validity clients accept for a server certificate."""


@dataclass(frozen=True)
class Authority:
    directory: Path
    context: ssl.SSLContext
    """The server side of each tunnel: the leaf certificate and its chain."""
    owner: Any = None
    """What keeps `directory` (a TemporaryDirectory) while the authority lives, if anything."""

    @property
    def bundle(self) -> Path:
        return self.directory / BUNDLE

    def described(self, host_url: str) -> dict[str, str]:
        """What GET /_emulator/proxy answers: where a program's HTTPS_PROXY and CA bundle point."""
        return {"proxy": host_url.rstrip("/"), "caBundle": str(self.bundle)}


def authority(directory: Path, owner: Any = None) -> Authority:
    """The CA in `directory` (made on first use, then kept, so that a .env naming it stays valid across
    restarts) and a fresh leaf certificate signed by it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key, ca_cert = _ca(directory)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(
        _name("gcp-setup emulator proxy"), leaf_key, ca_cert.subject, ca_key, LEAF_DAYS, ca=False
    )
    write_secret_file(directory / LEAF_KEY, _private_pem(leaf_key))
    (directory / LEAF_CERT).write_bytes(_pem(leaf) + _pem(ca_cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / LEAF_CERT, directory / LEAF_KEY)
    return Authority(directory, context, owner)


def _ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_path, cert_path = directory / CA_KEY, directory / CA_CERT
    if key_path.is_file() and cert_path.is_file():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("gcp-setup emulator CA (local, not Google's)")
    cert = _certificate(name, key, name, key, CA_DAYS, ca=True)
    write_secret_file(key_path, _private_pem(key))
    cert_path.write_bytes(_pem(cert))
    (directory / BUNDLE).write_bytes(_pem(cert) + Path(certifi.where()).read_bytes())
    return key, cert


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    days: int,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        names = [x509.DNSName(n) for n in SERVED_NAMES]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = builder.add_extension(usage, critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
