"""``smtp+starttls://`` and ``smtps://`` against a real TLS server with a test CA.

The transport verifies certificates with the system trust store; the test points
OpenSSL's ``SSL_CERT_FILE`` at a self-signed certificate for 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.mail.worker import run_once
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import later, outbox


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: ``(cert.pem, key.pem)``."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gatehouse test smtp")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_tls_delivery(app, make_app, factory, certificate, monkeypatch, scheme):
    if scheme == "smtps":
        server = SmtpServer(ssl_context=server_context(certificate))
    else:
        server = SmtpServer(tls_context=server_context(certificate), require_starttls=True)
    factory.user("rep@example.com")
    factory.client(owner="rep@example.com")
    server.start()
    try:
        tls_app = make_app(GATEHOUSE_SMTP_URL=f"{scheme}://127.0.0.1:{server.port}")
        # an unknown certificate is refused: the message waits
        with tls_app.app_context():
            assert run_once(later(seconds=1))["retrying"] == 1
        assert "CERTIFICATE_VERIFY_FAILED" in outbox(app)[0]["last_error"]
        # trusted: delivered
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        with tls_app.app_context():
            assert run_once(later(seconds=40))["sent"] == 1
    finally:
        server.stop()
    assert len(server.received) == 1
