"""Registration conformance of our VTN in pull mode: OpenADR 2.0b certification cases N1_0010…N1_0080
with the test harness playing the VEN (TH_VEN). Our VTN is the device under test; `vtn.client` plays
the harness VEN. Every XML answer is checked against the 2.0b XSD by the client.

The report exchange that follows registration in some cases (N1_0020, N1_0025, N1_0060: the VTN's
oadrRegisterReport on the first poll, then the VEN's own) belongs to the reports work: where the VTN
sends its oadrRegisterReport, these tests acknowledge it as the harness does (`poll_past_reports`)
but do not check it; see docs/conformance.md.
"""

from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr.encode import encode
from tests.conformance import PENDING, assert_event, assert_ok_response, poll_past_reports, register

REQUEST = "req-reg-1"


def create_registration(ven_name: str, **fields: object) -> m.CreatePartyRegistration:
    """An oadrCreatePartyRegistration of a 2.0b simpleHttp pull VEN."""
    return m.CreatePartyRegistration(
        request_id=REQUEST,
        profile_name="2.0b",
        transport_name="simpleHttp",
        report_only=False,
        xml_signature=False,
        ven_name=ven_name,
        http_pull_model=True,
        **fields,  # type: ignore[arg-type]
    )


async def query(vtn) -> m.CreatedPartyRegistration:
    reply = await vtn.client.send("EiRegisterParty", m.QueryRegistration(request_id="req-query"))
    assert isinstance(reply, m.CreatedPartyRegistration), reply
    return reply


def assert_describes_vtn(vtn, reply: m.CreatedPartyRegistration) -> None:
    """What every oadrCreatedPartyRegistration of ours says about the VTN."""
    assert reply.vtn_id == vtn.ctx.config.vtn_id
    assert ("2.0b", ("simpleHttp",)) in reply.profiles
    assert reply.poll_freq == vtn.ctx.config.poll_interval


async def test_N1_0010_TH_VEN(vtn):
    """N1_0010 (VEN Registration - Query). Certification: an unregistered VEN sends
    oadrQueryRegistration; the VTN must answer oadrCreatedPartyRegistration with neither a
    registrationID nor a venID. Ours: the answer is a schema-valid oadrCreatedPartyRegistration with
    code 200 echoing the requestID, no ids, and the VTN's vtnID, profiles (2.0b/simpleHttp) and
    oadrRequestedOadrPollFreq — and nothing gets registered by asking."""
    reply = await query(vtn)
    assert reply.response.code == 200 and reply.response.request_id == "req-query"
    assert reply.registration_id is None
    assert reply.ven_id is None
    assert_describes_vtn(vtn, reply)
    assert vtn.ctx.live.vens == {}


async def test_N1_0015_TH_VEN(vtn):
    """N1_0015 (VEN Registration - Query While Registered). Certification: a registered VEN sends
    oadrQueryRegistration; any registrationID/venID in the answer must be the VEN's own. Ours: by
    design the query answer never discloses ids (the query does not identify the VEN), so none are
    given; the registration is unaffected and the VEN keeps polling with it."""
    reg = await register(vtn, "site-a")
    reply = await query(vtn)
    assert reply.response.code == 200
    assert reply.registration_id in (None, reg.registration_id)
    assert reply.ven_id in (None, reg.ven_id)
    assert reply.registration_id is None and reply.ven_id is None  # our design: never disclosed
    assert_describes_vtn(vtn, reply)
    assert vtn.ctx.live.vens[reg.ven_id].registration_id == reg.registration_id
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)


async def test_N1_0020_TH_VEN(vtn):
    """N1_0020 (VEN Registration - Bootstrap Sequence). Certification: an unregistered VEN sends
    oadrCreatePartyRegistration without venID/registrationID and gets both back; then (report part)
    polls for the VTN's oadrRegisterReport and registers its own metadata report. Ours: the
    registration part — 200, a new venID and registrationID, the VTN's profiles and poll frequency,
    the VEN known by name — and the VEN can poll with the venID it was given until nothing is left
    (oadrResponse 200). The report part is only acknowledged here, not checked (reports work)."""
    reply = await vtn.client.send("EiRegisterParty", create_registration("site-a"))
    assert isinstance(reply, m.CreatedPartyRegistration), reply
    assert reply.response.code == 200 and reply.response.request_id == REQUEST
    assert reply.ven_id and reply.registration_id
    assert_describes_vtn(vtn, reply)
    ven = vtn.ctx.live.vens[reply.ven_id]
    assert ven.registered and ven.registration_id == reply.registration_id and ven.ven_name == "site-a"
    assert ven.http_pull_model is True
    assert_ok_response(await poll_past_reports(vtn, reply.ven_id), reply.ven_id)


async def test_N1_0025_TH_VEN(vtn):
    """N1_0025 (VEN Registration - Pre-allocated VEN ID). Certification: the VEN registers with a
    venID configured beforehand (no registrationID) and the VTN must answer with that same venID.
    Ours (accept_ven_chosen_ids, the default): the venID is kept, a registrationID is issued, and
    the VEN polls under the pre-allocated id."""
    reply = await vtn.client.send("EiRegisterParty", create_registration("site-a", ven_id="PREALLOCATED_VEN_ID"))
    assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 200, reply
    assert reply.ven_id == "PREALLOCATED_VEN_ID"
    assert reply.registration_id
    assert vtn.ctx.live.vens["PREALLOCATED_VEN_ID"].registration_id == reply.registration_id
    assert_ok_response(await poll_past_reports(vtn, "PREALLOCATED_VEN_ID"), "PREALLOCATED_VEN_ID")


async def test_N1_0030_TH_VEN(vtn):
    """N1_0030 (VEN Registration - Cancel Registration). Certification: a registered VEN sends
    oadrCancelPartyRegistration and the VTN answers oadrCanceledPartyRegistration with 200; the
    pair is left unregistered. Ours: 200 echoing the requestID, registrationID and venID; afterwards
    the registration is gone and a poll is refused with 463."""
    reg = await register(vtn, "site-a")
    reply = await vtn.client.send(
        "EiRegisterParty",
        m.CancelPartyRegistration(request_id="req-cancel", registration_id=reg.registration_id, ven_id=reg.ven_id),
    )
    assert isinstance(reply, m.CanceledPartyRegistration), reply
    assert reply.response.code == 200 and reply.response.request_id == "req-cancel"
    assert reply.registration_id == reg.registration_id and reply.ven_id == reg.ven_id
    assert not vtn.ctx.live.vens[reg.ven_id].registered
    refused = await vtn.client.poll(reg.ven_id)
    assert isinstance(refused, m.Response) and refused.response.code == 463, refused


async def test_N1_0040_TH_VEN(vtn):
    """N1_0040 (VTN Registration - Cancel Registration). Certification: the VTN operator cancels a
    registration; the pull VEN receives oadrCancelPartyRegistration on its next poll and answers
    oadrCanceledPartyRegistration, to which the VTN replies oadrResponse; the pair ends unregistered.
    Ours: `cariflex vens` queues the cancellation; it goes out on the next poll (before a pending
    event and before a queued re-registration request, which the cancellation drops) carrying the
    VEN's registrationID; the VEN's acknowledgement gets oadrResponse 200; the VEN then polls in vain (463)."""
    reg = await register(vtn, "site-a")
    await vtn.create_event()
    await vtn.queue(reg.ven_id, "request_reregistration")
    await vtn.queue(reg.ven_id, "cancel_registration")

    cancel = await vtn.client.poll(reg.ven_id)
    assert isinstance(cancel, m.CancelPartyRegistration), cancel
    assert cancel.registration_id == reg.registration_id
    assert cancel.ven_id in (None, reg.ven_id)
    assert not vtn.ctx.live.vens[reg.ven_id].registered

    ack = await vtn.client.send(
        "EiRegisterParty",
        m.CanceledPartyRegistration(
            response=m.EiResponse(request_id=cancel.request_id), registration_id=cancel.registration_id, ven_id=reg.ven_id
        ),
    )
    assert_ok_response(ack)
    refused = await vtn.client.poll(reg.ven_id)
    assert isinstance(refused, m.Response) and refused.response.code == 463, refused


async def test_N1_0050_TH_VEN(vtn):
    """N1_0050 (VTN Registration - Request Re-Registration). Certification: the VTN operator asks a
    registered VEN to re-register; the pull VEN polls, receives oadrRequestReregistration, answers
    oadrResponse and re-registers with oadrCreatePartyRegistration (its registrationID and venID).
    Ours: the queued request goes out on the next poll ahead of a pending event; the VEN's
    oadrResponse gets an empty HTTP 200; re-registering with the registrationID keeps both ids;
    the pending event then follows on the next poll."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event()
    await vtn.queue(reg.ven_id, "request_reregistration")

    request = await vtn.client.poll(reg.ven_id)
    assert isinstance(request, m.RequestReregistration), request
    assert request.ven_id == reg.ven_id

    answer = await vtn.client.post(
        "EiRegisterParty",
        encode(m.Response(response=m.EiResponse(request_id=""), ven_id=reg.ven_id)),
    )
    assert answer.status == 200 and answer.body == b""

    again = await vtn.client.send(
        "EiRegisterParty", create_registration("site-a", registration_id=reg.registration_id, ven_id=reg.ven_id)
    )
    assert isinstance(again, m.CreatedPartyRegistration) and again.response.code == 200, again
    assert (again.ven_id, again.registration_id) == (reg.ven_id, reg.registration_id)

    events = await poll_past_reports(vtn, reg.ven_id)
    assert isinstance(events, m.DistributeEvent), events
    assert [e.event_id for e in events.events] == [event.event_id]
    assert_event(events.events[0], PENDING, "always", 0)


async def test_N1_0060_TH_VEN(vtn):
    """N1_0060 (VEN Registration - New Registration while Registered). Certification: a registered
    VEN sends oadrCreatePartyRegistration without venID/registrationID; the VTN must answer with a
    registrationID and a venID (then the report part follows). Ours: both are given; the VEN (known
    by its oadrVenName) keeps its venID and gets a fresh registrationID, which is the one that now
    counts; after a fresh registration the VEN is given its events again on the next poll."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event()
    first = await vtn.client.poll(reg.ven_id)
    assert isinstance(first, m.DistributeEvent)

    reply = await vtn.client.send("EiRegisterParty", create_registration("site-a"))
    assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 200, reply
    assert reply.ven_id and reply.registration_id
    assert reply.ven_id == reg.ven_id
    assert reply.registration_id != reg.registration_id
    assert vtn.ctx.live.vens[reg.ven_id].registration_id == reply.registration_id

    again = await poll_past_reports(vtn, reg.ven_id)
    assert isinstance(again, m.DistributeEvent), again
    assert [e.event_id for e in again.events] == [event.event_id]


async def test_N1_0065_TH_VEN(vtn):
    """N1_0065 (VEN Registration - Re-Registration). Certification: a registered VEN re-registers
    with its registrationID and venID; the answer must carry the same registrationID and venID.
    Ours: exactly so, code 200, and the VEN stays registered under those ids."""
    reg = await register(vtn, "site-a")
    reply = await vtn.client.send(
        "EiRegisterParty", create_registration("site-a", registration_id=reg.registration_id, ven_id=reg.ven_id)
    )
    assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 200, reply
    assert reply.registration_id == reg.registration_id
    assert reply.ven_id == reg.ven_id
    assert vtn.ctx.live.vens[reg.ven_id].registration_id == reg.registration_id
    assert_ok_response(await poll_past_reports(vtn, reg.ven_id), reg.ven_id)


async def test_N1_0070_TH_VEN(vtn):
    """N1_0070 (VTN Registration - Negative Test Scenarios). Certification, real-device branch: the
    VEN sends oadrCancelPartyRegistration with an unknown registrationID, then with an unknown venID,
    expecting oadrCanceledPartyRegistration with 452 each time, then a valid one expecting 200.
    Ours: 452 (echoing the requestID) for both bad requests — the registration survives them — and
    200 for the valid one."""
    reg = await register(vtn, "site-a")

    async def cancel(registration_id: str, ven_id: str) -> m.CanceledPartyRegistration:
        reply = await vtn.client.send(
            "EiRegisterParty", m.CancelPartyRegistration(request_id="req-neg", registration_id=registration_id, ven_id=ven_id)
        )
        assert isinstance(reply, m.CanceledPartyRegistration), reply
        assert reply.response.request_id == "req-neg"
        return reply

    assert (await cancel("INVALID_REGISTRATION_ID", reg.ven_id)).response.code == 452
    assert (await cancel(reg.registration_id, "INVALID_VEN_ID")).response.code == 452
    assert vtn.ctx.live.vens[reg.ven_id].registration_id == reg.registration_id
    assert (await cancel(reg.registration_id, reg.ven_id)).response.code == 200
    assert not vtn.ctx.live.vens[reg.ven_id].registered


async def test_N1_0080_TH_VEN(vtn):
    """N1_0080 (VEN Registration - Payload While Unregistered). Certification: an unregistered VEN
    polls; the VTN must send no payload, or an oadrResponse with 463. Ours: oadrResponse 463, both
    for a venID never seen and for a VEN whose registration was cancelled, even while an event is
    pending for everybody; an oadrRequestEvent gets the refusal in the message it calls for
    (oadrDistributeEvent, 463, no events)."""
    await vtn.create_event(start_in=timedelta(minutes=5))
    never = await vtn.client.poll("ven-never-registered")
    assert isinstance(never, m.Response) and never.response.code == 463, never

    reg = await vtn.client.register("site-a")
    assert isinstance(await poll_past_reports(vtn, reg.ven_id), m.DistributeEvent)
    await vtn.client.send(
        "EiRegisterParty", m.CancelPartyRegistration(request_id="req-c", registration_id=reg.registration_id, ven_id=reg.ven_id)
    )
    gone = await vtn.client.poll(reg.ven_id)
    assert isinstance(gone, m.Response) and gone.response.code == 463, gone

    refused = await vtn.client.send("EiEvent", m.RequestEvent(request_id="req-ev", ven_id=reg.ven_id))
    assert isinstance(refused, m.DistributeEvent), refused
    assert refused.response is not None and refused.response.code == 463
    assert refused.response.request_id == "req-ev"
    assert refused.events == ()
