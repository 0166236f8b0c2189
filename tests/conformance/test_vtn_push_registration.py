"""Registration conformance of our VTN in push mode: OpenADR 2.0b certification cases N0_5010…N0_5080
with the test harness playing a push VEN (TH_VEN). The harness registers with oadrHttpPullModel false
and an oadrTransportAddress served by tests/support/push_ven.py; what the VTN initiates arrives there
(XSD-checked) and is answered in the HTTP response, as the profile requires. See docs/conformance.md."""

from dataclasses import replace

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.conformance.push_helpers import (  # noqa: F401 (fixtures)
    FAST_PUSH,
    drained,
    push_config,
    push_endpoint_fixture,
    push_registration,
    push_ven_endpoint,
    push_vtn_fixture,
    register_push,
)
from tests.support.vtn_harness import running_vtn


async def test_N0_5010_TH_VEN(vtn, endpoint):
    """N0_5010 (VEN Registration - Query, push). Certification: an unregistered push VEN sends
    oadrQueryRegistration; the VTN answers oadrCreatedPartyRegistration without ids. Ours: the same answer
    as in pull (query does not depend on the mode), nothing registered, nothing pushed."""
    reply = await vtn.client.send("EiRegisterParty", m.QueryRegistration(request_id="req-query"))
    assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 200
    assert reply.ven_id is None and reply.registration_id is None
    assert vtn.ctx.live.vens == {}
    await endpoint.nothing_more(0.5)


async def test_N0_5020_TH_VEN(vtn, endpoint):
    """N0_5020 (VEN Registration - Bootstrap Sequence, push). Certification: the VEN registers with
    oadrHttpPullModel false and its transport address; the VTN pushes oadrRegisterReport, the VEN answers
    oadrRegisteredReport, then registers its own reports. Ours: the registration is stored as push with the
    address; oadrRegisterReport arrives at <address>/EiReport; once answered the queue is empty and the
    VEN's own oadrRegisterReport gets oadrRegisteredReport 200. No poll is needed at any point."""
    reg = await register_push(vtn, endpoint)
    ven = vtn.ctx.live.vens[reg.ven_id]
    assert ven.http_pull_model is False and ven.transport_address == endpoint.address
    await drained(vtn, reg.ven_id)
    answer = await vtn.client.send("EiReport", r.RegisterReport(request_id="rr", reports=(), ven_id=reg.ven_id))
    assert isinstance(answer, r.RegisteredReport) and answer.response.code == 200
    assert vtn.process.pusher.counters.delivered == 1 and vtn.process.pusher.counters.failures == 0


async def test_N0_5030_TH_VEN(vtn, endpoint):
    """N0_5030 (VEN Registration - Cancel Registration, push). Ours: the VEN's oadrCancelPartyRegistration
    gets oadrCanceledPartyRegistration 200; events created afterwards are not pushed to it."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    cancel = m.CancelPartyRegistration(request_id="req-cancel", registration_id=reg.registration_id or "", ven_id=reg.ven_id)
    answer = await vtn.client.send("EiRegisterParty", cancel)
    assert isinstance(answer, m.CanceledPartyRegistration) and answer.response.code == 200
    await vtn.create_event()
    await endpoint.nothing_more(0.8)


async def test_N0_5040_TH_VEN(vtn, endpoint):
    """N0_5040 (VTN Registration - Cancel Registration, push). Certification: the VTN pushes
    oadrCancelPartyRegistration; the VEN answers oadrCanceledPartyRegistration. Ours: it arrives at
    <address>/EiRegisterParty with the VEN's registrationID; after the answer the registration is gone."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    await vtn.queue(reg.ven_id, "cancel_registration")
    vtn.process.pusher.kick()
    service, cancel = await endpoint.next(m.CancelPartyRegistration)
    assert service == "EiRegisterParty" and cancel.registration_id == reg.registration_id
    await drained(vtn, reg.ven_id)
    assert not vtn.ctx.live.vens[reg.ven_id].registered


async def test_N0_5050_TH_VEN(vtn, endpoint):
    """N0_5050 (VTN Registration - Request Re-Registration, push). Ours: oadrRequestReregistration is
    pushed to <address>/EiRegisterParty; the VEN's oadrResponse in the HTTP response clears it from the
    queue; its new oadrCreatePartyRegistration keeps the venID and is pushed the bootstrap again."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    await vtn.queue(reg.ven_id, "request_reregistration")
    service, _ = await endpoint.next(m.RequestReregistration)
    assert service == "EiRegisterParty"
    await drained(vtn, reg.ven_id)
    again = await vtn.client.send(
        "EiRegisterParty",
        push_registration("th-push-ven", endpoint.address, ven_id=reg.ven_id, registration_id=reg.registration_id),
    )
    assert isinstance(again, m.CreatedPartyRegistration) and again.response.code == 200
    assert again.ven_id == reg.ven_id and again.registration_id == reg.registration_id
    await endpoint.next(r.RegisterReport)


async def test_N0_5060_TH_VEN(vtn, endpoint):
    """N0_5060 (VEN Registration - New Registration while Registered, push). Ours: a new registration
    (no registrationID) of the same VEN gets a new registrationID, keeps the venID and push mode."""
    reg = await register_push(vtn, endpoint)
    again = await vtn.client.send("EiRegisterParty", push_registration("th-push-ven", endpoint.address, ven_id=reg.ven_id))
    assert isinstance(again, m.CreatedPartyRegistration) and again.response.code == 200
    assert again.ven_id == reg.ven_id and again.registration_id != reg.registration_id
    assert vtn.ctx.live.vens[reg.ven_id].http_pull_model is False
    await endpoint.next(r.RegisterReport)


async def test_N0_5065_TH_VEN(vtn, endpoint):
    """N0_5065 (VEN Registration - Re-Registration, push): a push VEN may move to pull and back. Ours: a
    re-registration with oadrHttpPullModel true stops the pushes (the VEN now polls its messages)."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    pull = await vtn.client.register("th-push-ven", ven_id=reg.ven_id, registration_id=reg.registration_id)
    assert pull.ven_id == reg.ven_id and vtn.ctx.live.vens[reg.ven_id].http_pull_model is True
    await vtn.create_event()
    await endpoint.nothing_more(0.8)
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)


@pytest.mark.parametrize(
    "address",
    [None, "ftp://127.0.0.1/ven", "mailto:ven@example.com", "127.0.0.1:8080/ven", "http:///no-host"],
)
async def test_N0_5070_TH_VEN(vtn, address):
    """N0_5070 (VTN Registration - Negative Test Scenarios, push). Ours: a push registration without an
    oadrTransportAddress, or with one that is not an http(s) URL the VTN can POST to, is refused with 454
    naming oadrTransportAddress; nothing is registered."""
    reply = await vtn.client.send("EiRegisterParty", push_registration("bad-push", address))
    assert isinstance(reply, m.CreatedPartyRegistration)
    assert reply.response.code == 454 and "oadrTransportAddress" in reply.response.description
    assert reply.ven_id is None and vtn.ctx.live.vens == {}


async def test_N0_5080_TH_VEN(vtn, endpoint):
    """N0_5080 (VEN Registration - Payload While Unregistered, push). Ours: after its registration was
    cancelled a push VEN's oadrRequestEvent gets 463, and nothing is pushed to it."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    cancel = m.CancelPartyRegistration(request_id="req-cancel", registration_id=reg.registration_id or "", ven_id=reg.ven_id)
    await vtn.client.send("EiRegisterParty", cancel)
    reply = await vtn.client.send("EiEvent", m.RequestEvent(request_id="req-ev", ven_id=reg.ven_id))
    assert isinstance(reply, m.DistributeEvent) and reply.response is not None and reply.response.code == 463
    await endpoint.nothing_more(0.5)


async def test_push_off_refuses_push_registration(db_url):
    """With [push] enabled = false a push registration is refused with 459 (as before push existed)."""
    async with running_vtn(push_config(db_url, push=replace(FAST_PUSH, enabled=False))) as vtn:
        reply = await vtn.client.send("EiRegisterParty", push_registration("p", "http://127.0.0.1:9/x"))
        assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 459
