"""Refusing a 2.0b message the OpenADR way: an eiResponse with the error code, in the message type the
refused message calls for (used by the VTN for what VENs send and by the VEN for what a VTN pushes)."""

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError
from mapping.oadr.decode import read_request_id, read_ven_id
from mapping.oadr.namespaces import NSMAP


def refusal_response(element: etree._Element, error: OadrError) -> m.EiResponse:
    """The eiResponse refusing `element`: the error's code and reason, echoing the element's requestID."""
    return m.EiResponse(code=error.code, description=error.description[:1000], request_id=read_request_id(element) or "")


def refusal(reply: str, element: etree._Element, error: OadrError, ven_id: str | None = None) -> m.Message | r.ReportMessage:
    """The refusal of `element` as message type `reply` (oadrCreatedEvent, oadrCanceledPartyRegistration,
    oadrRegisteredReport, oadrUpdatedReport, the acknowledgements; anything else: oadrResponse).
    `ven_id`: the venID to give, by default the refused message's own."""
    response = refusal_response(element, error)
    ven = ven_id if ven_id is not None else (read_ven_id(element) or "")
    if reply == "oadrCreatedEvent":
        return m.CreatedEvent(response=response, ven_id=ven)
    if reply == "oadrCanceledPartyRegistration":
        registration_id = element.findtext("ei:registrationID", namespaces=NSMAP)
        return m.CanceledPartyRegistration(response=response, registration_id=registration_id, ven_id=ven or None)
    if reply == "oadrRegisteredReport":
        return r.RegisteredReport(response=response, ven_id=ven)
    if reply == "oadrUpdatedReport":
        return r.UpdatedReport(response=response, ven_id=ven)
    if reply in m.ACKNOWLEDGEMENTS:
        opt_id = element.findtext("ei:optID", namespaces=NSMAP) or ""
        return m.Acknowledgement(name=reply, response=response, ven_id=ven, opt_id=opt_id)
    return m.Response(response=response, ven_id=ven or None)
