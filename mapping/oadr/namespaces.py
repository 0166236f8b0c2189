"""XML namespaces of the OpenADR 2.0b schema, by the prefixes the specification uses."""

OADR = "http://openadr.org/oadr-2.0b/2012/07"
EI = "http://docs.oasis-open.org/ns/energyinterop/201110"
PYLD = "http://docs.oasis-open.org/ns/energyinterop/201110/payloads"
EMIX = "http://docs.oasis-open.org/ns/emix/2011/06"
POWER = "http://docs.oasis-open.org/ns/emix/2011/06/power"
SCALE = "http://docs.oasis-open.org/ns/emix/2011/06/siscale"
XCAL = "urn:ietf:params:xml:ns:icalendar-2.0"
STRM = "urn:ietf:params:xml:ns:icalendar-2.0:stream"
ATOM = "http://www.w3.org/2005/Atom"
DS = "http://www.w3.org/2000/09/xmldsig#"
GML = "http://www.opengis.net/gml/3.2"

NSMAP: dict[str, str] = {
    "oadr": OADR,
    "ei": EI,
    "pyld": PYLD,
    "emix": EMIX,
    "power": POWER,
    "scale": SCALE,
    "xcal": XCAL,
    "strm": STRM,
}


def q(namespace: str, local: str) -> str:
    """Clark notation `{namespace}local` as lxml expects it."""
    return f"{{{namespace}}}{local}"
