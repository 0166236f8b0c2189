"""N1_* (registration, pull) with our VEN as the device under test and the harness as the VTN."""

from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.ven_conformance import distribute, event, new_id, utc_now
from tests.ven_conformance.scripted_vtn import Th

OUR_REPORTS = {"METADATA_TELEMETRY_USAGE", "METADATA_TELEMETRY_STATUS", "METADATA_HISTORY_USAGE"} | {"x-ACHIEVED_CURTAILMENT"}


def vtn_register_report() -> r.RegisterReport:
    """The VTN's own oadrRegisterReport (its metadata), as the harness queues it in N1_0020."""
    return r.RegisterReport(
        request_id=new_id("req"),
        reports=(
            r.ReportMetadata(
                report_specifier_id="TH_VTN_USAGE",
                report_name="METADATA_TELEMETRY_USAGE",
                created=utc_now(),
                descriptions=(r.ReportDescription("vtn-power", "usage", "Direct Read"),),
                duration=timedelta(hours=1),
            ),
        ),
    )


def assert_report_registration(th: Th, after: int) -> None:
    """The VEN registered its four reports (names and specifier ids as documented) once after `after`."""
    registers = th.vtn.messages("oadrRegisterReport", after)
    assert len(registers) == 1, f"{len(registers)} oadrRegisterReport"
    reports = registers[0].reports
    assert {x.report_name for x in reports} == OUR_REPORTS
    assert {x.report_specifier_id for x in reports} == {
        f"{th.site_name}:TELEMETRY_USAGE",
        f"{th.site_name}:TELEMETRY_STATUS",
        f"{th.site_name}:HISTORY_USAGE",
        f"{th.site_name}:x-ACHIEVED_CURTAILMENT",
    }
    assert registers[0].ven_id == th.vtn.ven_id


async def test_N1_0010_TH_VTN(th):
    """Certification: the unregistered VEN is made to send oadrQueryRegistration; the harness answers
    oadrCreatedPartyRegistration and checks one query arrived.
    Ours: at start-up, without a stored registration, the VEN's first message is a schema-valid
    oadrQueryRegistration posted to EiRegisterParty; after the answer it goes on registering."""
    await th.start_ven()
    first = th.vtn.exchanges[0]
    assert (first.service, first.name) == ("EiRegisterParty", "oadrQueryRegistration")
    assert len(th.vtn.messages("oadrQueryRegistration")) == 1
    assert [x.name for x in th.vtn.exchanges[1:3]] == ["oadrCreatePartyRegistration", "oadrRegisterReport"]


async def test_N1_0015_TH_VTN(th):
    """Certification: with the VEN registered, the VEN is made to send oadrQueryRegistration; the
    operator confirms the VEN polls at the interval requested at registration and that its
    oadrCreatePartyRegistration describes it correctly.
    Ours: the VTN requests PT1S; the VEN keeps it and never polls more often than once a second;
    its oadrCreatePartyRegistration says 2.0b, simpleHttp, pull, no report-only, no XML signature
    and its configured venName; a registration started while registered (`SiteVen.register`)
    begins with oadrQueryRegistration and keeps the same venID and registrationID."""
    th.vtn.poll_freq = timedelta(seconds=1)
    ven = await th.start_ven()
    create = th.vtn.messages("oadrCreatePartyRegistration")[0]
    assert (create.profile_name, create.transport_name, create.http_pull_model) == ("2.0b", "simpleHttp", True)
    assert (create.report_only, create.xml_signature, create.ven_name) == (False, False, "site-1-ven")
    assert ven.site.registration.poll_freq_s == 1.0
    mark = th.vtn.mark()
    await th.wait(lambda: len(th.vtn.received("oadrPoll", mark)) >= 3, "three polls", timeout=4)
    polls = th.vtn.received("oadrPoll", mark)
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(polls, polls[1:], strict=False)]
    assert min(gaps) >= 0.9, f"polls closer than the requested PT1S: {gaps}"
    mark = th.vtn.mark()
    await ven.register()
    assert th.vtn.received(after=mark)[0].name == "oadrQueryRegistration"
    again = th.vtn.messages("oadrCreatePartyRegistration", mark)[0]
    assert (again.ven_id, again.registration_id) == (th.vtn.ven_id, th.vtn.registration_id)
    assert ven.site.registration.ven_id == th.vtn.ven_id


async def test_N1_0020_TH_VTN(th):
    """Certification (bootstrap): the unregistered VEN is reset; the harness answers
    oadrCreatedPartyRegistration, queues its own oadrRegisterReport for the VEN's poll, answers the
    VEN's oadrRegisterReport with oadrRegisteredReport, and checks one oadrCreatePartyRegistration,
    one oadrRegisterReport and one oadrRegisteredReport from the VEN.
    Ours: the same exchange at start-up; the VEN's metadata names its three reports with the
    documented specifier ids, and its oadrRegisteredReport echoes the VTN's requestID."""
    vtn_metadata = vtn_register_report()
    th.vtn.push(vtn_metadata)
    await th.start_ven()
    assert len(th.vtn.messages("oadrCreatePartyRegistration")) == 1
    assert_report_registration(th, 0)
    registered = th.vtn.messages("oadrRegisteredReport")
    assert len(registered) == 1
    assert registered[0].response.code == 200 and registered[0].response.request_id == vtn_metadata.request_id
    assert registered[0].ven_id == th.vtn.ven_id


async def test_N1_0025_TH_VTN(th):
    """Certification: the VEN is pre-configured with its venID and sends it in
    oadrCreatePartyRegistration; the harness accepts it; then the report registration as in N1_0020.
    Ours (partial): the VEN has no setting for a venID before its first registration; a VEN that
    holds a venID (stored from an earlier registration, here across a restart) offers it with its
    registrationID when it registers again (on oadrRequestReregistration), and re-registers its
    reports."""
    await th.start_ven()
    await th.stop_ven()
    mark = th.vtn.mark()
    th.vtn.push(m.RequestReregistration(th.vtn.ven_id))
    await th.start_ven(registered=False)
    create = await th.vtn.next_message("oadrCreatePartyRegistration", mark)
    assert (create.ven_id, create.registration_id) == (th.vtn.ven_id, th.vtn.registration_id)
    await th.vtn.settle()
    assert_report_registration(th, mark)


async def test_N1_0040_TH_VTN(th):
    """Certification: the harness queues oadrCancelPartyRegistration; the VEN answers
    oadrCanceledPartyRegistration whose registrationID and venID match; the relationship ends.
    Ours: the answer is 200 and echoes requestID, registrationID and venID; the VEN forgets the
    events it held and, as documented, registers again at its next cycle."""
    await th.start_ven()
    held = event()
    await th.deliver(distribute(th.vtn.vtn_id, held))
    cancel = m.CancelPartyRegistration(new_id("req"), th.vtn.registration_id, th.vtn.ven_id)
    mark = await th.deliver(cancel)
    canceled = th.vtn.messages("oadrCanceledPartyRegistration", mark)
    assert len(canceled) == 1
    assert canceled[0].response.code == 200 and canceled[0].response.request_id == cancel.request_id
    assert (canceled[0].registration_id, canceled[0].ven_id) == (th.vtn.registration_id, th.vtn.ven_id)
    assert held.event_id not in th.held()
    assert th.vtn.messages("oadrCreatePartyRegistration", mark), "the VEN registers again (documented behaviour)"


async def test_N1_0050_TH_VTN(th):
    """Certification: the harness queues oadrRequestReregistration; the VEN must send
    oadrCreatePartyRegistration.
    Ours: the VEN first acknowledges with oadrResponse (to EiRegisterParty, with its venID), then
    queries and registers again offering its venID and registrationID, and re-registers its reports."""
    await th.start_ven()
    mark = await th.deliver(m.RequestReregistration(th.vtn.ven_id))
    names = [x.name for x in th.vtn.received(after=mark) if x.name != "oadrPoll"]
    assert names[:4] == ["oadrResponse", "oadrQueryRegistration", "oadrCreatePartyRegistration", "oadrRegisterReport"]
    ack = th.vtn.messages("oadrResponse", mark)[0]
    assert ack.response.code == 200 and ack.ven_id == th.vtn.ven_id
    create = th.vtn.messages("oadrCreatePartyRegistration", mark)[0]
    assert (create.ven_id, create.registration_id) == (th.vtn.ven_id, th.vtn.registration_id)


async def test_N1_0060_TH_VTN(th):
    """Certification: the registered VEN is made to start a new registration; the harness registers
    it anew (new ids); then the report registration as in N1_0020.
    Ours: a registration started while registered (`SiteVen.register`) that the VTN answers with a
    new venID and registrationID: the VEN adopts both, registers its reports under the new venID
    and polls with it."""
    ven = await th.start_ven()
    th.vtn.ven_id, th.vtn.registration_id = "TH_VEN_2", "TH_REG_2"
    mark = th.vtn.mark()
    await ven.register()
    assert (ven.site.registration.ven_id, ven.site.registration.registration_id) == ("TH_VEN_2", "TH_REG_2")
    assert_report_registration(th, mark)
    await th.wait(lambda: th.vtn.received("oadrPoll", mark), "a poll")
    assert {p.ven_id for p in th.vtn.messages("oadrPoll", mark)} == {"TH_VEN_2"}


async def test_N1_0065_TH_VTN(th):
    """Certification: the registered VEN is made to re-register; the harness answers as a
    re-registration (same ids); the report registration follows.
    Ours: `SiteVen.register` while registered offers the current venID and registrationID, keeps
    them when the VTN confirms them, and re-registers the reports."""
    ven = await th.start_ven()
    mark = th.vtn.mark()
    await ven.register()
    create = th.vtn.messages("oadrCreatePartyRegistration", mark)[0]
    assert (create.ven_id, create.registration_id) == (th.vtn.ven_id, th.vtn.registration_id)
    assert ven.site.registration.ven_id == th.vtn.ven_id
    assert_report_registration(th, mark)


async def test_N1_0070_TH_VTN(th):
    """Certification (real-device branch): the harness sends oadrCancelPartyRegistration with
    registrationID INVALID_REGISTRATION_ID and expects oadrCanceledPartyRegistration 452; then a
    valid cancellation, answered 200.
    Ours: the same two cancellations; after the invalid one the VEN must still be registered and
    hold its events."""
    await th.start_ven()
    held = event()
    await th.deliver(distribute(th.vtn.vtn_id, held))
    mark = await th.deliver(m.CancelPartyRegistration(new_id("req"), "INVALID_REGISTRATION_ID", th.vtn.ven_id))
    canceled = th.vtn.messages("oadrCanceledPartyRegistration", mark)
    assert len(canceled) == 1
    assert canceled[0].response.code == 452, f"answered {canceled[0].response.code}"
    assert not th.vtn.messages("oadrCreatePartyRegistration", mark), "the VEN dropped its registration"
    assert held.event_id in th.held()
    mark = await th.deliver(m.CancelPartyRegistration(new_id("req"), th.vtn.registration_id, th.vtn.ven_id))
    assert th.vtn.messages("oadrCanceledPartyRegistration", mark)[0].response.code == 200


async def test_N1_0080_TH_VTN(th):
    """Certification: a VEN that is not registered gets a payload and must not answer it (or answer
    463); for a pull VEN the real-device branch is not applicable, as a pull VTN cannot send
    anything to a VEN that does not poll.
    Ours: while the VTN refuses its registration (463), the VEN sends nothing but registration
    messages — no oadrPoll, no reports — retries with back-off, and registers once the VTN accepts."""

    def refuse(msg: m.CreatePartyRegistration) -> m.CreatedPartyRegistration:
        return m.CreatedPartyRegistration(m.EiResponse(463, "not authorized", msg.request_id), th.vtn.vtn_id)

    th.vtn.answer_next("oadrCreatePartyRegistration", refuse, refuse)
    ven = await th.start_ven(registered=False)
    await th.wait(lambda: ven.site.registration is not None, "the VEN to register once accepted")
    creates = [i for i, x in enumerate(th.vtn.exchanges) if x.name == "oadrCreatePartyRegistration"]
    assert len(creates) == 3, "two refused attempts, then the accepted one"
    assert {x.service for x in th.vtn.exchanges[: creates[2]]} == {"EiRegisterParty"}
    await th.still_polling()


async def test_registration_with_wrong_case_vtn_id(th):
    """Not a certification case of its own (E1_1080 checks the vtnID of events): a VTN announcing a
    vtnID that differs from the configured one only in case is refused — the VEN does not register,
    says why, keeps trying, and registers once the VTN announces the right vtnID."""

    def wrong_case(msg: m.QueryRegistration) -> m.CreatedPartyRegistration:
        return m.CreatedPartyRegistration(m.EiResponse(request_id=msg.request_id), th.vtn.vtn_id.swapcase())

    th.vtn.answer_next("oadrQueryRegistration", wrong_case, wrong_case)
    ven = await th.start_ven(registered=False)
    await th.wait(lambda: len(th.vtn.messages("oadrQueryRegistration")) >= 2, "a second attempt")
    refused = th.vtn.exchanges[: [i for i, x in enumerate(th.vtn.exchanges) if x.name == "oadrQueryRegistration"][1]]
    assert {x.name for x in refused} == {"oadrQueryRegistration"}
    await th.wait(lambda: ven.site.registration is not None, "the VEN to register with the right vtnID")
    assert ven.site.registration.vtn_id == th.vtn.vtn_id
