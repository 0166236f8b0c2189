"""Safe XML parsing and validation against the official OpenADR 2.0b XSD.

The XSD files are the ones published by the OpenADR Alliance, as shipped inside the
`openleadr` package; they are read once, on first use.
"""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from lxml import etree

#: Bodies above this are refused before parsing unless the caller sets its own limit.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024

# No DTD is loaded, no entity expanded, no network touched, no huge-tree mode: the parser
# cannot be turned into an XXE or billion-laughs vector whatever the body holds.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


@dataclass(frozen=True)
class MessageRejected(Exception):
    """A body that cannot be trusted as an OpenADR message at all (answered with HTTP `status`)."""

    status: int
    reason: str

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.reason}"


@cache
def schema() -> etree.XMLSchema:
    """The compiled oadr_20b.xsd (with its imports)."""
    path = files("openleadr").joinpath("schema", "oadr_20b.xsd")
    with path.open("rb") as handle:
        return etree.XMLSchema(etree.parse(handle, parser=etree.XMLParser(no_network=True)))


def parse_xml(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse `body` into an element tree, refusing DTDs, entity declarations and oversize input."""
    if len(body) > max_bytes:
        raise MessageRejected(413, f"body of {len(body)} bytes exceeds the limit of {max_bytes} bytes")
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in body.upper():
        raise MessageRejected(400, "DOCTYPE and entity declarations are not allowed in OpenADR messages")
    if not body.strip():
        raise MessageRejected(400, "empty body: an OpenADR message (oadrPayload) was expected")
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MessageRejected(400, f"malformed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise MessageRejected(400, "DOCTYPE and entity declarations are not allowed in OpenADR messages")
    return root


def schema_errors(root: etree._Element) -> str | None:
    """None when `root` is valid against the 2.0b XSD, else the first error, with its line."""
    validator = schema()
    if validator.validate(root):
        return None
    error = validator.error_log[0]
    return f"line {error.line}: {error.message}"
