"""G1_* (general, pull) with our VEN as the device under test and the harness as the VTN."""

from datetime import timedelta

from mapping.oadr import model as m
from tests.ven_conformance import create_report, distribute, event, report_request


async def test_G1_4011_TH_VTN(th):
    """Certification (empty oadrPoll, self test in the certification): the VEN polls and the harness
    answers oadrResponse (nothing pending).
    Ours: the registered VEN polls with its venID to OadrPoll, takes oadrResponse 200 as nothing
    pending and sends nothing else."""
    await th.start_ven()
    mark = th.vtn.mark()
    await th.wait(lambda: len(th.vtn.received("oadrPoll", mark)) >= 3, "polls")
    assert {x.name for x in th.vtn.received(after=mark)} == {"oadrPoll"}
    assert {p.ven_id for p in th.vtn.messages("oadrPoll", mark)} == {th.vtn.ven_id}


async def test_G1_4015_TH_VTN(th):
    """Certification (de-queue using oadrPoll): the harness queues an oadrDistributeEvent (Event_001)
    and an oadrCreateReport (one-shot TELEMETRY_STATUS); the VEN takes both by polling and answers
    each (oadrCreatedEvent, oadrCreatedReport, then the oadrUpdateReport).
    Ours: both are taken in one polling cycle, each answered; the report follows."""
    await th.start_ven()
    ev = event(signal="SIMPLE", intervals=((300, 2.0),), start_in=timedelta(minutes=1))
    rq = report_request(f"{th.site_name}:TELEMETRY_STATUS", ("status",))
    mark = await th.deliver(distribute(th.vtn.vtn_id, ev), create_report(th.vtn.ven_id, rq))
    assert (await th.answer(ev, mark)).opt_type == "optIn"
    assert [a.response.code for a in th.vtn.messages("oadrCreatedReport", mark)] == [200]
    await th.wait(lambda: th.vtn.updates_for(rq.report_request_id), "the report")
    handed = [seq for seq, _item in th.vtn.handed_out]
    assert handed[1] - handed[0] <= 3, "the second message was not taken in the same cycle"
    assert isinstance(th.vtn.handed_out[0][1], m.DistributeEvent)
