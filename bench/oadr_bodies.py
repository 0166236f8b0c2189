"""OpenADR 2.0b request bodies for the poll benchmark, and response parsing.

Every body is a complete ``oadr:oadrPayload`` document on a single line, so
that the load generators can keep one body per line in a plain text file.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

OADR_NS = "http://openadr.org/oadr-2.0b/2012/07"
EI_NS = "http://docs.oasis-open.org/ns/energyinterop/201110"
PYLD_NS = "http://docs.oasis-open.org/ns/energyinterop/201110/payloads"

_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<oadr:oadrPayload xmlns:oadr="{OADR_NS}" xmlns:ei="{EI_NS}" '
    f'xmlns:pyld="{PYLD_NS}">'
    '<oadr:oadrSignedObject oadr:Id="oadrSignedObject">{inner}'
    "</oadr:oadrSignedObject></oadr:oadrPayload>"
)
_RESPONSE_CODE = re.compile(rb"responseCode>\s*(\d+)\s*<")


def _envelope(inner: str) -> str:
    return _ENVELOPE.format(inner=inner)


def create_party_registration(ven_name: str, request_id: str) -> str:
    """Build a first-time (no venID) oadrCreatePartyRegistration for a pull VEN."""
    return _envelope(
        '<oadr:oadrCreatePartyRegistration ei:schemaVersion="2.0b">'
        f"<pyld:requestID>{escape(request_id)}</pyld:requestID>"
        "<oadr:oadrProfileName>2.0b</oadr:oadrProfileName>"
        "<oadr:oadrTransportName>simpleHttp</oadr:oadrTransportName>"
        "<oadr:oadrReportOnly>false</oadr:oadrReportOnly>"
        "<oadr:oadrXmlSignature>false</oadr:oadrXmlSignature>"
        f"<oadr:oadrVenName>{escape(ven_name)}</oadr:oadrVenName>"
        "<oadr:oadrHttpPullModel>true</oadr:oadrHttpPullModel>"
        "</oadr:oadrCreatePartyRegistration>"
    )


def poll(ven_id: str) -> str:
    """Build an oadrPoll for ``ven_id``."""
    return _envelope(f'<oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>{escape(ven_id)}</ei:venID></oadr:oadrPoll>')


def request_event(ven_id: str, request_id: str) -> str:
    """Build an oadrRequestEvent (EiEvent service) for ``ven_id``."""
    return _envelope(
        '<oadr:oadrRequestEvent ei:schemaVersion="2.0b"><pyld:eiRequestEvent>'
        f"<pyld:requestID>{escape(request_id)}</pyld:requestID>"
        f"<ei:venID>{escape(ven_id)}</ei:venID>"
        "</pyld:eiRequestEvent></oadr:oadrRequestEvent>"
    )


def message_type(body: bytes) -> str | None:
    """Return the local name of the message inside oadrSignedObject, if any."""
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None
    signed = root.find(f"{{{OADR_NS}}}oadrSignedObject")
    if signed is None or len(signed) == 0:
        return None
    return etree.QName(signed[0]).localname


def response_code(body: bytes) -> int | None:
    """Return the first eiResponse responseCode found in ``body``."""
    match = _RESPONSE_CODE.search(body)
    return int(match.group(1)) if match else None


def parse_registration(body: bytes) -> tuple[str, str]:
    """Return (venID, registrationID) from an oadrCreatedPartyRegistration.

    Raises ValueError when the response is not an accepted registration.
    """
    root = etree.fromstring(body)
    kind = message_type(body)
    if kind != "oadrCreatedPartyRegistration":
        raise ValueError(f"expected oadrCreatedPartyRegistration, got {kind}")
    code = response_code(body)
    if code != 200:
        raise ValueError(f"registration refused with responseCode {code}")
    ven_id = root.findtext(f".//{{{EI_NS}}}venID")
    registration_id = root.findtext(f".//{{{EI_NS}}}registrationID")
    if not ven_id or not registration_id:
        raise ValueError("registration response lacks venID or registrationID")
    return ven_id.strip(), registration_id.strip()


def write_bodies(path: Path, bodies: list[str]) -> Path:
    """Write one body per line to ``path`` (bodies must not contain newlines)."""
    for body in bodies:
        if "\n" in body:
            raise ValueError("bodies must be single-line")
    path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
    return path


def check_against_schema() -> None:
    """Validate one body of each kind against openleadr's bundled 2.0b XSD."""
    from openleadr.messaging import validate_xml_schema

    samples = [
        create_party_registration("bench-ven-0", "req-0"),
        poll("ven-0"),
        request_event("ven-0", "req-0"),
    ]
    for sample in samples:
        validate_xml_schema(sample.encode())
