"""A throw-away PKI for the security tests: good and bad client certificates, one CRL."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from certs import pki
from certs.cli import make_dev_pki
from certs.tls import TlsSettings

VENS = ("site-a", "site-b")


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    """Where everything is: `cert(stem)`/`key(stem)` for `ca`, `vtn-rsa`, `site-a-ecdsa`, `expired`…"""

    root: Path

    def cert(self, stem: str) -> Path:
        return self.root / f"{stem}.crt"

    def key(self, stem: str) -> Path:
        return self.root / f"{stem}.key"

    def fingerprint(self, stem: str) -> str:
        return pki.load(self.root, stem).fingerprint

    def server(self, crl: bool = True, modern: bool = False, require_client_cert: bool = True) -> TlsSettings:
        """The VTN's settings: both key types, the CA and (by default) the CRL."""
        return TlsSettings(
            chains=((self.cert("vtn-rsa"), self.key("vtn-rsa")), (self.cert("vtn-ecdsa"), self.key("vtn-ecdsa"))),
            ca_file=self.cert("ca"),
            crl_file=self.root / "ca.crl" if crl else None,
            require_client_cert=require_client_cert,
            modern=modern,
        )

    def client(self, stem: str, modern: bool = False) -> TlsSettings:
        """A VEN's settings with certificate `stem`."""
        return TlsSettings(chains=((self.cert(stem), self.key(stem)),), ca_file=self.cert("ca"), modern=modern)


def make_test_pki(root: Path) -> TestPki:
    """The dev PKI (CA, VTN, site-a and site-b) plus expired, not-yet-valid, wrong-CA and revoked VEN certificates."""
    make_dev_pki(root, list(VENS), ("localhost", "127.0.0.1"))
    ca = pki.load(root, "ca")
    now = datetime.now(UTC)
    pki.write(
        pki.issue(ca, "expired", "ecdsa", server=False, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)),
        root,
        "expired",
    )
    pki.write(
        pki.issue(ca, "future", "ecdsa", server=False, not_before=now + timedelta(days=1), not_after=now + timedelta(days=30)),
        root,
        "future",
    )
    pki.write(pki.issue(pki.make_ca("Some other CA"), "stranger", "ecdsa", server=False), root, "stranger")
    revoked = pki.issue(ca, "revoked", "ecdsa", server=False)
    pki.write(revoked, root, "revoked")
    pki.write_crl(pki.make_crl(ca, (revoked.certificate.serial_number,)), root / "ca.crl")
    return TestPki(root)
