"""OpenADR certificate fingerprints (openleadr's definition, so both sides agree on the wire)."""

from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from openleadr.utils import certificate_fingerprint_from_der


def fingerprint_of_der(der: bytes) -> str:
    """The OpenADR fingerprint: the last 10 bytes of the certificate's SHA-256, as 29 chars `AB:CD:…`."""
    return certificate_fingerprint_from_der(der)


def certificate_from_header(value: str) -> x509.Certificate:
    """A certificate as a TLS-terminating proxy forwards it: URL-escaped PEM (nginx's
    `$ssl_client_escaped_cert`) or PEM with its line breaks folded into spaces. ValueError if not one."""
    text = unquote(value).strip()
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    if not (text.startswith(begin) and text.endswith(end)):
        raise ValueError("not a PEM certificate")
    body = "".join(text[len(begin) : -len(end)].split())
    pem = f"{begin}\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64)) + f"\n{end}\n"
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def der_of(certificate: x509.Certificate) -> bytes:
    """The DER bytes a fingerprint is computed over."""
    return certificate.public_bytes(Encoding.DER)
