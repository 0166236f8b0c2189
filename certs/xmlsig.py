"""XML signatures of OpenADR 2.0b messages (the profile's optional message-level security).

The layout is openleadr's, so the two interoperate: a detached ds:Signature as the first child of
oadrPayload, with two references, `#oadrSignedObject` (the message) and the ReplayProtect signature
property (`dsp:timestamp` and `dsp:nonce`); inclusive C14N 1.0; RSA-SHA256 or ECDSA-SHA256 after
the key. Verification takes the certificate from the message and returns its OpenADR fingerprint,
for the caller to compare with the one it trusts (the VEN's bound certificate, the VTN's TLS
certificate); replay checking (window and nonce memory) is the caller's, since only it knows where
nonces are kept.
"""

import base64
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature as InvalidSignatureError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml import InvalidInput, InvalidSignature, XMLSigner, XMLVerifier, methods
from signxml.algorithms import SignatureMethod
from signxml.exceptions import SignXMLException

from certs.fingerprint import der_of, fingerprint_of_der
from mapping.oadr.codes import OadrError
from mapping.oadr.namespaces import DS, OADR, q
from mapping.oadr.timefmt import format_datetime, parse_datetime

DSP = "http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
SIGNED_ID = "oadrSignedObject"


class SignatureRefused(Exception):
    """A signature that is missing, malformed, does not verify, or is too old/new."""


@dataclass(frozen=True)
class Signer:
    """A certificate and its private key (PEM)."""

    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def from_files(cls, cert: Path, key: Path) -> "Signer":
        """Read both PEM files."""
        return cls(cert.read_bytes(), key.read_bytes())

    @property
    def fingerprint(self) -> str:
        """The OpenADR fingerprint of the signing certificate."""
        return fingerprint_of_der(der_of(x509.load_pem_x509_certificate(self.cert_pem)))


@dataclass(frozen=True)
class Verified:
    """What a valid signature says: who signed, when, with which nonce."""

    fingerprint: str
    timestamp: datetime
    nonce: str
    certificate: x509.Certificate


def _replay_protect(now: datetime, nonce: str) -> etree._Element:
    element = etree.Element(q(DSP, "ReplayProtect"), nsmap={"dsp": DSP}, attrib={"Id": "replayProtect", "Target": "#signature"})
    etree.SubElement(element, q(DSP, "timestamp")).text = format_datetime(now)
    etree.SubElement(element, q(DSP, "nonce")).text = nonce
    return element


def sign(body: bytes, signer: Signer, now: datetime, nonce: str) -> bytes:
    """`body` (an oadrPayload we encoded) with a ds:Signature over its message and a ReplayProtect."""
    root = etree.fromstring(body)
    signed = root.find(q(OADR, "oadrSignedObject"))
    if signed is None:
        raise ValueError("not an oadrPayload")
    signed.set(q(OADR, "Id"), SIGNED_ID)  # the schema qualifies attributes (attributeFormDefault)
    key = serialization.load_pem_private_key(signer.key_pem, password=None)
    algorithm = SignatureMethod.ECDSA_SHA256 if isinstance(key, ec.EllipticCurvePrivateKey) else SignatureMethod.RSA_SHA256
    xml_signer = XMLSigner(method=methods.detached, signature_algorithm=algorithm, c14n_algorithm=C14N)
    # inclusive C14N sees every namespace in scope: the Signature is built with the payload's own
    # declarations so its SignedInfo canonicalizes the same once it sits inside oadrPayload
    xml_signer.namespaces.update({prefix: uri for prefix, uri in root.nsmap.items() if prefix})
    signature = xml_signer.sign(
        root,
        key=key,  # type: ignore[arg-type]
        cert=signer.cert_pem.decode("ascii"),
        reference_uri=f"#{SIGNED_ID}",
        signature_properties=_replay_protect(now, nonce),
    )
    root.insert(0, signature)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def is_signed(root: etree._Element) -> bool:
    """True when the oadrPayload carries a ds:Signature."""
    return root.find(q(DS, "Signature")) is not None


def verify(root: etree._Element, now: datetime, window: timedelta) -> Verified:
    """Check the signature of a parsed oadrPayload; raises SignatureRefused with the reason."""
    signature = root.find(q(DS, "Signature"))
    signed = root.find(q(OADR, "oadrSignedObject"))
    if signature is None or signed is None:
        raise SignatureRefused("the message is not signed (ds:Signature is missing)")
    pem = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if not pem:
        raise SignatureRefused("the signature carries no X509Certificate")
    try:
        certificate = x509.load_der_x509_certificate(_b64(pem))
        results = XMLVerifier().verify(etree.tostring(root), x509_cert=certificate, expect_references=2, validate_schema=True)
    except (InvalidSignature, InvalidInput, SignXMLException, ValueError) as exc:
        raise SignatureRefused(f"the signature does not verify: {exc}") from exc
    if not any(_same_element(r.signed_xml, signed) for r in results):  # type: ignore[arg-type]
        raise SignatureRefused("the signature does not cover oadrSignedObject")
    # only what was verified counts: the ReplayProtect inside a signed reference, not any in the document
    protects = [p for r in results if r.signed_xml is not None for p in r.signed_xml.iter(q(DSP, "ReplayProtect"))]
    replay = protects[0] if len(protects) == 1 else None
    timestamp_text = replay.findtext(q(DSP, "timestamp")) if replay is not None else None
    nonce = (replay.findtext(q(DSP, "nonce")) or "").strip() if replay is not None else ""
    if not timestamp_text or not nonce:
        raise SignatureRefused("the signed ReplayProtect (timestamp and nonce) is missing")
    try:
        timestamp = parse_datetime(timestamp_text.strip())
    except (OadrError, OverflowError) as exc:  # not a date-time; one too close to year 1 or 9999 to move to UTC
        raise SignatureRefused(f"ReplayProtect timestamp {timestamp_text!r} is not a date-time") from exc
    if abs(now - timestamp) > window:
        raise SignatureRefused(f"signed at {format_datetime(timestamp)}, outside the replay window of {window} around now")
    if len(nonce) > 200:
        raise SignatureRefused("ReplayProtect nonce longer than 200 characters")
    return Verified(
        fingerprint=fingerprint_of_der(der_of(certificate)), timestamp=timestamp, nonce=nonce, certificate=certificate
    )


def issued_for_host(signing: x509.Certificate, host: str, ca_pem: bytes) -> bool:
    """True when `signing` is a certificate for `host` (DNS name or IP in its SAN), directly issued
    by a CA of `ca_pem` and valid now: what TLS checks of the VTN, applied to the signing certificate
    (a VTN with an RSA and an ECDSA certificate may sign with either, whatever the handshake chose)."""
    now = datetime.now(UTC)
    if not signing.not_valid_before_utc <= now <= signing.not_valid_after_utc:
        return False
    try:
        names = signing.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        wanted: object = ipaddress.ip_address(host)
        hosts = names.get_values_for_type(x509.IPAddress)
    except ValueError:
        wanted, hosts = host.lower(), [n.lower() for n in names.get_values_for_type(x509.DNSName)]
    if wanted not in hosts:
        return False
    for ca in x509.load_pem_x509_certificates(ca_pem):
        try:
            signing.verify_directly_issued_by(ca)
            return True
        except (ValueError, TypeError, InvalidSignatureError):
            continue
    return False


def _same_element(verified: etree._Element | None, signed: etree._Element) -> bool:
    # signxml hands back its own parse of what it verified: compare by tag and canonical form
    if verified is None or verified.tag != signed.tag:
        return False
    return etree.tostring(verified, method="c14n") == etree.tostring(signed, method="c14n")


def _b64(text: str) -> bytes:
    return base64.b64decode("".join(text.split()), validate=True)
