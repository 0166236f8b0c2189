"""The OpenADR 2.0b TLS profile, for both ends: TLS 1.2 with exactly the two suites the profile
requires, mutual authentication against one CA, optional CRL.

`modern=True` additionally allows TLS 1.3 and the ECDHE-AESGCM/CHACHA20 suites of TLS 1.2, for
deployments whose peers all support them; the two 2.0b suites stay available either way.
"""

import ssl
from dataclasses import dataclass
from pathlib import Path

#: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 and TLS_RSA_WITH_AES_128_CBC_SHA256, in OpenSSL's names
OPENADR_CIPHERS = "ECDHE-ECDSA-AES128-SHA256:AES128-SHA256"
MODERN_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


@dataclass(frozen=True)
class TlsSettings:
    """Certificates and policy of one end. `chains` are (certificate, key) pairs: an RSA and an ECDSA
    one let a server offer both 2.0b suites."""

    chains: tuple[tuple[Path, Path], ...]
    ca_file: Path
    crl_file: Path | None = None
    require_client_cert: bool = True
    modern: bool = False
    check_hostname: bool = True


def _profile(context: ssl.SSLContext, settings: TlsSettings) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_3 if settings.modern else ssl.TLSVersion.TLSv1_2
    context.set_ciphers(OPENADR_CIPHERS + (":" + MODERN_CIPHERS if settings.modern else ""))
    # one ephemeral key per handshake, no TLS compression, no renegotiation (2.0b does not need it)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_SINGLE_ECDH_USE | ssl.OP_NO_RENEGOTIATION
    context.load_verify_locations(cafile=str(settings.ca_file))
    if settings.crl_file is not None:
        context.load_verify_locations(cafile=str(settings.crl_file))
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    for cert, key in settings.chains:
        context.load_cert_chain(str(cert), str(key))
    return context


def server_context(settings: TlsSettings) -> ssl.SSLContext:
    """The VTN's context: asks every client for a certificate (and refuses the handshake without one
    when `require_client_cert`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_REQUIRED if settings.require_client_cert else ssl.CERT_OPTIONAL
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    return _profile(context, settings)


def client_context(settings: TlsSettings) -> ssl.SSLContext:
    """A VEN's context: presents its certificate, verifies the VTN's against the CA (and its name)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = settings.check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    return _profile(context, settings)


def peer_der(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes | None:
    """The DER certificate the peer presented in the handshake, if any."""
    if ssl_object is None:
        return None
    return ssl_object.getpeercert(binary_form=True)
