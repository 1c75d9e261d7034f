"""A local certificate authority and a server certificate for the HTTPS stand-ins.

``ensure_certificates(directory)`` creates, on first use, a CA (``ca.pem``) and a server certificate for
``127.0.0.1``/``localhost``/``::1`` signed by it (``server.pem`` + ``server-key.pem``); later calls reuse them.
Clients trust the stand-in by pointing ``verify`` at ``ca_file`` — certificate verification is never disabled.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"


@dataclass(frozen=True)
class CertPaths:
    """Where the generated PEM files are."""

    ca_file: str
    cert_file: str
    key_file: str


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def ensure_certificates(directory: str | os.PathLike[str]) -> CertPaths:
    """Return the CA and server certificate paths in ``directory``, creating them when missing.

    :param directory: folder for the PEM files; created when it does not exist.
    :return: the paths of the CA certificate, the server certificate and its private key.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = CertPaths(
        ca_file=str(folder / CA_FILE), cert_file=str(folder / CERT_FILE), key_file=str(folder / KEY_FILE)
    )
    import fcntl

    with (folder / ".lock").open("w") as lock:
        # Several processes (test workers, servers) may ask at once: generate only once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(Path(p).is_file() for p in (paths.ca_file, paths.cert_file, paths.key_file)):
            _generate(folder)
            log.info("generated a local CA and server certificate in %s", folder)
    return paths


def _generate(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(days=1)
    not_after = now + dt.timedelta(days=3650)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "contact-sync stand-in local CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    no_encryption = serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    _write_private(folder / CA_KEY_FILE, ca_key.private_bytes(pem, pkcs8, no_encryption))
    _write_private(folder / KEY_FILE, server_key.private_bytes(pem, pkcs8, no_encryption))
    _write_public(folder / CERT_FILE, server_cert.public_bytes(pem))
    # The CA file is written last: its presence marks a complete set.
    _write_public(folder / CA_FILE, ca_cert.public_bytes(pem))
