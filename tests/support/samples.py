"""The Alliance's 2.0b sample messages, wrapped in oadrPayload with ids rewritten for a live VTN."""

from pathlib import Path

from lxml import etree

from mapping.oadr.namespaces import EI, OADR, q
from tests.support.reference_data import alliance_samples

#: Samples only a VTN sends (a VTN never receives them).
VTN_TO_VEN_ONLY = {
    "oadrCanceledOpt",
    "oadrCreatedOpt",
    "oadrCreatedPartyRegistration",
    "oadrDistributeEvent",
    "oadrRequestReregistration",
}


def sample_files() -> list[Path]:
    """Every sample file, sorted (each checked against tests/data/oadr-samples/SHA256SUMS)."""
    return alliance_samples()


def message_name(path: Path) -> str:
    """The message element's local name of a sample."""
    return etree.QName(etree.parse(str(path)).getroot()).localname


def wrapped(path: Path, *, ven_id: str, registration_id: str, vtn_id: str) -> bytes:
    """The sample inside oadrPayload/oadrSignedObject, with venID, registrationID and vtnID replaced."""
    message = etree.parse(str(path)).getroot()
    for local, value in (("venID", ven_id), ("registrationID", registration_id), ("vtnID", vtn_id)):
        for element in message.iter(q(EI, local)):
            element.text = value
    payload = etree.Element(q(OADR, "oadrPayload"), nsmap={"oadr": OADR})
    etree.SubElement(payload, q(OADR, "oadrSignedObject")).append(message)
    return etree.tostring(payload, xml_declaration=True, encoding="UTF-8")
