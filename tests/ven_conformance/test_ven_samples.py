"""Every Alliance 2.0b sample message a VTN sends, replayed to our VEN (wrapped in
oadrPayload/oadrSignedObject, venID, vtnID and registrationID replaced by the live ones): the VEN
answers each with the schema-valid message the profile requires (every VEN message is checked
against the XSD by the scripted VTN) and keeps running.

- Samples a VTN hands out on oadrPoll are queued as they are.
- oadrCreatedPartyRegistration samples answer the VEN's registration.
- oadrRegisteredReport, oadrUpdatedReport, oadrCreatedOpt, oadrCanceledOpt and oadrResponse
  samples answer the VEN's own requests.
- Four samples are not valid against the official XSD (oadrCreateReport*: reportBackDuration
  holds bare text instead of xcal:duration; oadrRegisteredReport_W_ReportRequest likewise). The
  VEN refuses them as it refuses any schema-invalid message: it logs why, does not answer, keeps
  running and keeps its events. The test checks that instead of an answer.
- Not replayed: what only a VEN sends, and the VTN's answers to requests our VEN never makes
  (oadrCanceledPartyRegistration: it never cancels its own registration; oadrCreatedReport and
  oadrCanceledReport: it never requests the VTN's reports).
"""

from datetime import timedelta

import pytest

from mapping.oadr.xsd import parse_xml, schema_errors
from tests.ven_conformance import (
    alliance_sample,
    create_report,
    distribute,
    event,
    report_request,
    sample_message_name,
    sample_names,
    utc_now,
)
from tests.ven_conformance.scripted_vtn import Th

#: Samples handed out on oadrPoll → the message the VEN must answer with.
ON_POLL = {
    "Sample_oadrCancelPartyRegistration.xml": "oadrCanceledPartyRegistration",
    "Sample_oadrCancelReport.xml": "oadrCanceledReport",
    "Sample_oadrCreateReport.xml": "oadrCreatedReport",
    "Sample_oadrCreateReport_OneShot_Telemetry.xml": "oadrCreatedReport",
    "Sample_oadrCreateReport_Telemetry_Status.xml": "oadrCreatedReport",
    "Sample_oadrDistributeEvent.xml": "oadrCreatedEvent",
    "Sample_oadrDistributeEvent_W_Baseline.xml": "oadrCreatedEvent",
    "Sample_oadrDistributeEvent_W_GML.xml": "oadrCreatedEvent",
    "Sample_oadrRegisiterReport.xml": "oadrRegisteredReport",
    "Sample_oadrRegisiterReport_GreenButton.xml": "oadrRegisteredReport",
    "Sample_oadrRegisiterReport_Telemetry_Status.xml": "oadrRegisteredReport",
    "Sample_oadrRegisiterReport_Telemetry_Usage.xml": "oadrRegisteredReport",
    "Sample_oadrRequestReregistration.xml": "oadrResponse",
    "Sample_oadrUpdateReport.xml": "oadrUpdatedReport",
    "Sample_oadrUpdateReport_GreenButton.xml": "oadrUpdatedReport",
    "Sample_oadrUpdateReport_Telemetry_Status.xml": "oadrUpdatedReport",
}

#: Samples that answer one of the VEN's requests → the VEN message they answer.
ANSWERS = {
    "Sample_oadrCreatedPartyRegistration_Query.xml": "oadrQueryRegistration",
    "Sample_oadrCreatedPartyRegistration_httpPull.xml": "oadrCreatePartyRegistration",
    "Sample_oadrCreatedPartyRegistration_httpPush.xml": "oadrCreatePartyRegistration",
    "Sample_oadrCreatedPartyRegistration_xmpp.xml": "oadrCreatePartyRegistration",
    "Sample_oadrRegisteredReport.xml": "oadrRegisterReport",
    "Sample_oadrRegisteredReport_W_ReportRequest.xml": "oadrRegisterReport",
    "Sample_oadrUpdatedReport.xml": "oadrUpdateReport",
    "Sample_oadrUpdatedReport_W_Cancel.xml": "oadrUpdateReport",
    "Sample_oadrCreatedOpt.xml": "oadrCreateOpt",
    "Sample_oadrCanceledOpt.xml": "oadrCancelOpt",
    "Sample_oadrResponse.xml": "oadrCreatedEvent",
}

#: Not replayed, and why.
NOT_REPLAYED = {
    "Sample_oadrCancelOpt.xml": "sent by a VEN",
    "Sample_oadrCreateOpt_Event.xml": "sent by a VEN",
    "Sample_oadrCreateOpt_Schedule.xml": "sent by a VEN",
    "Sample_oadrCreatePartyRegistration_httpPull.xml": "sent by a VEN",
    "Sample_oadrCreatePartyRegistration_httpPush.xml": "sent by a VEN",
    "Sample_oadrCreatePartyRegistration_xmpp.xml": "sent by a VEN",
    "Sample_oadrCreatedEvent.xml": "sent by a VEN",
    "Sample_oadrPoll.xml": "sent by a VEN",
    "Sample_oadrQueryRegistration.xml": "sent by a VEN",
    "Sample_oadrRequestEvent.xml": "sent by a VEN",
    "Sample_oadrCanceledPartyRegistration.xml": "answers a VEN's own cancellation, which our VEN never sends",
    "Sample_oadrCreatedReport.xml": "answers a VEN's request for the VTN's reports, which our VEN never sends",
    "Sample_oadrCanceledReport.xml": "answers a VEN's cancellation of the VTN's reports, which our VEN never sends",
}


def sample(th: Th, name: str) -> bytes:
    """The sample with the live ids."""
    return alliance_sample(name, ven_id=th.vtn.ven_id, vtn_id=th.vtn.vtn_id, registration_id=th.vtn.registration_id)


def test_every_sample_is_classified():
    """Each sample file is replayed one way or listed as not replayed (a new sample is not missed)."""
    assert sorted(set(ON_POLL) | set(ANSWERS) | set(NOT_REPLAYED)) == sample_names()
    assert not set(ON_POLL) & set(NOT_REPLAYED) and not set(ANSWERS) & set(NOT_REPLAYED)
    for name in ON_POLL:
        assert sample_message_name(name) not in ("oadrPoll", "oadrCreatedEvent")


def schema_problem(body: bytes) -> str | None:
    """Why a (wrapped) sample is not valid against the official 2.0b XSD, or None."""
    return schema_errors(parse_xml(body))


@pytest.mark.parametrize("name", sorted(ON_POLL))
async def test_sample_on_poll(th, name, caplog):
    """The sample is handed out on oadrPoll: the VEN answers it with the required message (a
    schema-valid one) — or, for a schema-invalid sample, logs why and does not answer — keeps
    polling, and, unless the sample replaces the VTN's event list or ends the registration, keeps
    the event it held."""
    await th.start_ven()
    held = event()
    await th.deliver(distribute(th.vtn.vtn_id, held))
    body = sample(th, name)
    mark = await th.deliver(body)
    answers = [x for x in th.vtn.received(after=mark) if x.name == ON_POLL[name]]
    if schema_problem(body) is None:
        assert answers, f"no {ON_POLL[name]} in answer to {name}: {[x.name for x in th.vtn.received(after=mark)]}"
    else:
        assert not answers
        assert any("not valid against the 2.0b schema" in r.getMessage() for r in caplog.records)
    await th.still_polling()
    if sample_message_name(name) not in ("oadrDistributeEvent", "oadrCancelPartyRegistration"):
        assert held.event_id in th.held() and not th.hooks.of(held.event_id, "cancel")


@pytest.mark.parametrize("name", sorted(ANSWERS))
async def test_sample_as_answer(th, name, caplog):
    """The sample answers the VEN's request: the VEN accepts it and goes on (registered, polling;
    nothing left queued) — or, for the schema-invalid sample, logs why and goes on."""
    answered = ANSWERS[name]
    th.vtn.answer_next(answered, sample(th, name))
    ven = await th.start_ven()
    if answered == "oadrUpdateReport":
        rq = report_request(f"{th.site_name}:TELEMETRY_STATUS", ("status",))
        await th.deliver(create_report(th.vtn.ven_id, rq))
        await th.wait(lambda: th.vtn.updates_for(rq.report_request_id), "a report")
        await th.wait(lambda: not ven.site.store.unsent(th.site_name), "the report to count as delivered")
    elif answered == "oadrCreateOpt":
        await ven.create_opt_schedule(((utc_now().replace(microsecond=0) + timedelta(days=1), timedelta(hours=4)),))
    elif answered == "oadrCancelOpt":
        await ven.cancel_opt("opt-1")
    elif answered == "oadrCreatedEvent":
        ev = event()
        await th.deliver(distribute(th.vtn.vtn_id, ev))
        await th.answer(ev)
        assert th.held()[ev.event_id].answered_modification == 0
    assert th.vtn.received(answered), f"the VEN sent no {answered}"
    assert ven.site.registration is not None
    if schema_problem(sample(th, name)) is not None:
        assert any("not valid against the 2.0b schema" in r.getMessage() for r in caplog.records)
        await th.still_polling()
    elif name == "Sample_oadrCreatedPartyRegistration_httpPull.xml":  # it asks for polls every PT240M
        assert ven.site.registration.poll_freq_s == 240 * 60
        assert th.vtn.received("oadrPoll"), "no first poll"
    else:
        await th.still_polling()
