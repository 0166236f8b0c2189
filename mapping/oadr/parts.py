"""Element-level readers and writers shared by every 2.0b message: eiResponse, eiTarget, units."""

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.namespaces import EI, NSMAP, OADR, POWER, PYLD, SCALE, q
from mapping.oadr.xmltools import boolean, format_number, number, sub, text

_POWER_KINDS = {"powerReal", "powerReactive", "powerApparent", "energyReal", "energyReactive", "energyApparent", "voltage"}


def decode_response(element: etree._Element | None) -> m.EiResponse:
    """Read an ei:eiResponse element (absent → an empty 200)."""
    if element is None:
        return m.EiResponse()
    code = text(element, "ei:responseCode") or "200"
    return m.EiResponse(
        code=int(code) if code.isdigit() else ResponseCode.BAD_REQUEST,
        description=text(element, "ei:responseDescription") or "",
        request_id=text(element, "pyld:requestID") or "",
    )


def decode_target(element: etree._Element | None) -> m.Target:
    """Read an ei:eiTarget element."""
    if element is None:
        return m.Target()

    def many(path: str) -> tuple[str, ...]:
        return tuple((t or "").strip() for t in element.xpath(f"{path}/text()", namespaces=NSMAP))

    return m.Target(
        ven_ids=many("ei:venID"),
        group_ids=many("ei:groupID"),
        resource_ids=many("ei:resourceID"),
        party_ids=many("ei:partyID"),
        end_device_assets=many("power:endDeviceAsset/power:mrid"),
    )


def decode_unit(signal: etree._Element) -> m.ItemUnit | None:
    """Read the itemBase (units) of a signal or report description, whatever its element name."""
    for child in signal:
        if not isinstance(child.tag, str):
            continue
        ns, _, local = child.tag[1:].partition("}")
        if ns in (POWER, OADR) and child.find(q(SCALE, "siScaleCode")) is not None:
            attrs = child.find(q(POWER, "powerAttributes"))
            power = None
            if attrs is not None:
                power = m.PowerAttributes(
                    hertz=number(text(attrs, "power:hertz"), "hertz"),
                    voltage=number(text(attrs, "power:voltage"), "voltage"),
                    ac=boolean(text(attrs, "power:ac")),
                )
            return m.ItemUnit(
                kind=local,
                description=text(child, f"{{{ns}}}itemDescription") or "",
                units=text(child, f"{{{ns}}}itemUnits") or "",
                scale=text(child, "scale:siScaleCode") or "none",
                power=power,
            )
    return None


def encode_response(parent: etree._Element, response: m.EiResponse) -> None:
    """Append an ei:eiResponse."""
    el = sub(parent, EI, "eiResponse")
    sub(el, EI, "responseCode", f"{int(response.code):03d}")  # the schema wants 3 digits
    sub(el, EI, "responseDescription", response.description)
    sub(el, PYLD, "requestID", response.request_id or "")


def encode_target(parent: etree._Element, target: m.Target) -> None:
    """Append an ei:eiTarget."""
    el = sub(parent, EI, "eiTarget")
    for mrid in target.end_device_assets:
        sub(sub(el, POWER, "endDeviceAsset"), POWER, "mrid", mrid)
    for local, values in (
        ("groupID", target.group_ids),
        ("resourceID", target.resource_ids),
        ("venID", target.ven_ids),
        ("partyID", target.party_ids),
    ):
        for value in values:
            sub(el, EI, local, value)


def encode_unit(parent: etree._Element, unit: m.ItemUnit) -> None:
    """Append an emix itemBase element (power:* or oadr:*) describing `unit`."""
    ns = POWER if unit.kind in _POWER_KINDS else OADR
    el = sub(parent, ns, unit.kind)
    sub(el, ns, "itemDescription", unit.description)
    sub(el, ns, "itemUnits", unit.units)
    sub(el, SCALE, "siScaleCode", unit.scale)
    if unit.kind.startswith("power"):
        attrs = unit.power or m.PowerAttributes()
        pa = sub(el, POWER, "powerAttributes")
        sub(pa, POWER, "hertz", format_number(attrs.hertz))
        sub(pa, POWER, "voltage", format_number(attrs.voltage))
        sub(pa, POWER, "ac", "true" if attrs.ac else "false")
