"""Push cases with our VEN as the device under test (TH_VTN): N0_*, E0_*, R0_*, P0_* and the 2.0a-derived
A_E0 cases. Our VEN runs with `[vtn] push = true`: it registers with oadrHttpPullModel false and its
endpoint's address; the scripted VTN then POSTs its messages to `<transportAddress>/<service>` (here:
`push_to_ven`) and reads the VEN's answer from the HTTP response, XSD-checked. The VEN never polls.
See docs/conformance-ven.md for which pull case each one mirrors."""

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
import pytest
from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.namespaces import NSMAP
from mapping.oadr.xsd import parse_xml, schema_errors
from tests.support.eventually import eventually
from tests.ven_conformance import cancel_report, cancelled, create_report, distribute, event, modified, report_request
from tests.ven_conformance.scripted_vtn import Raw, Th
from tests.ven_conformance.test_ven_pull_events import event_002
from ven.agent import Answerer
from ven.config import PushSettings

STATUS = "site-1:TELEMETRY_STATUS"


async def start_push_ven(th: Th) -> str:
    """Start our VEN in push mode; returns the oadrTransportAddress it registered with."""
    await th.start_ven(registered=False, push=PushSettings(port=0))
    await th.wait(lambda: th.ven.site.registration is not None, "the VEN to register")
    registration = th.vtn.messages("oadrCreatePartyRegistration")[-1]
    assert registration.http_pull_model is False
    assert registration.transport_address == th.ven.site.push_address
    return registration.transport_address


async def push_to_ven(address: str, service: str, message: object, body: bytes | None = None) -> tuple[int, object]:
    """POST a message to the VEN's endpoint as a push-mode VTN does; (HTTP status, decoded answer or None)."""
    async with aiohttp.ClientSession() as session:
        data = body if body is not None else encode(message)  # type: ignore[arg-type]
        async with session.post(f"{address}/{service}", data=data, headers={"Content-Type": "application/xml"}) as resp:
            status, answer = resp.status, await resp.read()
    if status != 200 or not answer.strip():
        return status, None
    root = parse_xml(answer)
    problem = schema_errors(root)
    assert problem is None, f"the VEN answered a push with a schema-invalid message: {problem}"
    return status, decode(open_envelope(root))


async def post_raw(
    address: str, service: str, body: bytes, content_type: str = "application/xml"
) -> tuple[int, bytes, str | None]:
    """POST `body` as it is; (HTTP status, response body, Retry-After header)."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{address}/{service}", data=body, headers={"Content-Type": content_type}) as resp:
            return resp.status, await resp.read(), resp.headers.get("Retry-After")


def no_polls(th: Th) -> None:
    assert th.vtn.received("oadrPoll") == [], "a push-mode VEN must not poll"


async def test_N0_5010_TH_VTN(th: Th):
    """N0_5010 (push registration, mirrors N1_0010): the VEN queries, then registers with
    oadrHttpPullModel false and an http(s) oadrTransportAddress it serves; it never polls."""
    address = await start_push_ven(th)
    assert th.vtn.received("oadrQueryRegistration")
    assert address.startswith("http://127.0.0.1:") and address.endswith("/OpenADR2/Simple/2.0b")
    no_polls(th)


async def test_N0_5020_TH_VTN(th: Th):
    """N0_5020 (push bootstrap, mirrors N1_0020): after registering the VEN registers its reports by POST;
    the VTN's pushed oadrRegisterReport is answered with oadrRegisteredReport in the HTTP response."""
    address = await start_push_ven(th)
    await th.wait(lambda: th.vtn.received("oadrRegisterReport"), "the VEN's oadrRegisterReport")
    status, answer = await push_to_ven(address, "EiReport", r.RegisterReport("vtn-rr", (), ven_id=th.vtn.ven_id))
    assert status == 200 and isinstance(answer, r.RegisteredReport)
    assert answer.response.code == 200 and answer.response.request_id == "vtn-rr" and answer.ven_id == th.vtn.ven_id
    no_polls(th)


async def test_N0_5040_TH_VTN(th: Th):
    """N0_5040 (VTN cancels the registration, push; mirrors N1_0040): the pushed oadrCancelPartyRegistration is
    answered oadrCanceledPartyRegistration 200 in the HTTP response; the VEN then registers again."""
    address = await start_push_ven(th)
    before = len(th.vtn.messages("oadrCreatePartyRegistration"))
    cancel = m.CancelPartyRegistration("req-c", th.vtn.registration_id, th.vtn.ven_id)
    status, answer = await push_to_ven(address, "EiRegisterParty", cancel)
    assert status == 200 and isinstance(answer, m.CanceledPartyRegistration) and answer.response.code == 200
    assert answer.registration_id == th.vtn.registration_id
    await th.wait(lambda: len(th.vtn.messages("oadrCreatePartyRegistration")) > before, "a new registration")


async def test_N0_5050_TH_VTN(th: Th):
    """N0_5050 (VTN requests re-registration, push; mirrors N1_0050): oadrResponse 200 in the HTTP response,
    then a new oadrCreatePartyRegistration (still push mode) POSTed to the VTN."""
    address = await start_push_ven(th)
    before = len(th.vtn.messages("oadrCreatePartyRegistration"))
    status, answer = await push_to_ven(address, "EiRegisterParty", m.RequestReregistration(ven_id=th.vtn.ven_id))
    assert status == 200 and isinstance(answer, m.Response) and answer.response.code == 200
    await th.wait(lambda: len(th.vtn.messages("oadrCreatePartyRegistration")) > before, "the re-registration")
    assert th.vtn.messages("oadrCreatePartyRegistration")[-1].http_pull_model is False


async def test_N0_5070_TH_VTN(th: Th):
    """N0_5070 (negative, push): a body that is not OpenADR is refused with HTTP 400 naming the problem; an
    OpenADR message pushed to the wrong service is refused the OpenADR way, in its reply type (oadrCreatedEvent
    459 naming the right service); a non-XML Content-Type gets 415; the VEN carries on."""
    address = await start_push_ven(th)
    status, text, _ = await post_raw(address, "EiEvent", b"<not-openadr/>")
    assert status == 400 and b"oadrPayload" in text and b"not-openadr" in text
    wrong = distribute(th.vtn.vtn_id, event())
    status, answer = await push_to_ven(address, "EiReport", wrong)
    assert status == 200 and isinstance(answer, m.CreatedEvent) and answer.response.code == 459
    assert "EiEvent" in answer.response.description and answer.response.request_id == wrong.request_id
    assert wrong.events[0].event_id not in th.held()
    status, text, _ = await post_raw(address, "EiEvent", b"x", content_type="text/plain")
    assert status == 415 and b"text/plain" in text
    ev = event()
    status, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, ev))
    assert status == 200 and isinstance(answer, m.CreatedEvent) and answer.response.code == 200


async def test_E0_6010_TH_VTN(th: Th):
    """E0_6010 (VTN Event - Empty, push; mirrors E1_1010): a pushed oadrDistributeEvent without events gets an
    empty HTTP 200; no oadrCreatedEvent, in the answer or POSTed."""
    address = await start_push_ven(th)
    status, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id))
    assert status == 200 and answer is None
    # an empty 200 comes only once the handling has ended, so anything it POSTed has already arrived
    assert th.vtn.received("oadrCreatedEvent") == [] and th.held() == {}
    no_polls(th)


async def test_E0_6020_TH_VTN(th: Th):
    """E0_6020 (Electricity Price Event, push; mirrors E1_1020): the pushed ELECTRICITY_PRICE event (Event_002)
    is answered oadrCreatedEvent optIn 200 in the HTTP response, echoing the distribution's requestID; the
    VEN holds the event."""
    address = await start_push_ven(th)
    ev = event_002()
    message = distribute(th.vtn.vtn_id, ev)
    status, answer = await push_to_ven(address, "EiEvent", message)
    assert status == 200 and isinstance(answer, m.CreatedEvent) and answer.response.code == 200
    assert [(x.event_id, x.opt_type, x.request_id) for x in answer.event_responses] == [
        (ev.event_id, "optIn", message.request_id)
    ]
    assert ev.event_id in th.held()
    no_polls(th)


async def test_push_event_is_answered_opt_in_in_the_http_response(th: Th):
    """A pushed oadrDistributeEvent with responseRequired always is answered oadrCreatedEvent (optIn, the
    event's id and modification) in the HTTP response; the site's event callback runs (also A_E0_0185)."""
    address = await start_push_ven(th)
    ev = event()
    status, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, ev))
    assert status == 200 and isinstance(answer, m.CreatedEvent) and answer.ven_id == th.vtn.ven_id
    assert [(x.event_id, x.modification_number, x.opt_type) for x in answer.event_responses] == [(ev.event_id, 0, "optIn")]
    assert th.hooks.kinds(ev.event_id) == ["event"]
    no_polls(th)


async def test_push_event_with_response_never_gets_an_empty_200(th: Th):
    """responseRequired never, push: an empty HTTP 200, no oadrCreatedEvent anywhere; the event is held."""
    address = await start_push_ven(th)
    ev = event(response="never")
    status, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, ev))
    assert status == 200 and answer is None
    # an empty 200 comes only once the handling has ended, so anything it POSTed has already arrived
    assert ev.event_id in th.held() and th.vtn.received("oadrCreatedEvent") == []


async def test_E0_6030_TH_VTN(th: Th):
    """E0_6030 (modification then cancellation, push; mirrors E1_1030): each pushed distribution is answered
    for its own modificationNumber; the cancellation runs the cancel callback."""
    address = await start_push_ven(th)
    ev = event()
    await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, ev))
    changed = modified(ev)
    _, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, changed))
    assert isinstance(answer, m.CreatedEvent) and answer.event_responses[0].modification_number == 1
    gone = cancelled(changed)
    _, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, gone))
    assert isinstance(answer, m.CreatedEvent) and answer.event_responses[0].modification_number == 2
    await th.wait(lambda: "cancel" in th.hooks.kinds(ev.event_id), "the cancel callback")


async def test_E0_6080_TH_VTN(th: Th):
    """E0_6080 (case sensitivity, push; mirrors E1_1080): an oadrDistributeEvent from a vtnID differing only
    in case is refused in the answer (oadrCreatedEvent 452) and no event is taken."""
    address = await start_push_ven(th)
    ev = event()
    _, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id.lower(), ev))
    assert isinstance(answer, m.CreatedEvent) and answer.response.code == 452
    assert ev.event_id not in th.held()


async def test_A_E0_0190_TH_VTN(th: Th):
    """A_E0_0190 (Static requestID, push; mirrors A_E1_0190): a second pushed distribution re-uses the first's
    requestID with a new event; the new event is answered optIn echoing that (re-used) requestID."""
    address = await start_push_ven(th)
    first = event()
    message = distribute(th.vtn.vtn_id, first)
    _, answer = await push_to_ven(address, "EiEvent", message)
    assert isinstance(answer, m.CreatedEvent) and answer.event_responses[0].event_id == first.event_id
    second = event(start_in=timedelta(minutes=20))
    _, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, second, request_id=message.request_id))
    assert isinstance(answer, m.CreatedEvent)
    assert [(x.opt_type, x.request_id) for x in answer.event_responses if x.event_id == second.event_id] == [
        ("optIn", message.request_id)
    ]


async def test_push_event_no_longer_listed_is_cancelled(th: Th):
    """An event no longer listed in the next pushed distribution is cancelled by the VEN, as when polled."""
    address = await start_push_ven(th)
    first, second = event(), event(start_in=timedelta(hours=2))
    await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, first, second))
    await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, second))
    await th.wait(lambda: "cancel" in th.hooks.kinds(first.event_id), "the implicit cancellation")
    assert "cancel" not in th.hooks.kinds(second.event_id)


async def test_R0_8010_TH_VTN(th: Th):
    """R0_8010 (one-shot report, push; mirrors R1_3010): the pushed oadrCreateReport is answered
    oadrCreatedReport 200 in the HTTP response; the report itself is POSTed (oadrUpdateReport)."""
    address = await start_push_ven(th)
    request = report_request(STATUS, ("status",))
    status, answer = await push_to_ven(address, "EiReport", create_report(th.vtn.ven_id, request))
    assert status == 200 and isinstance(answer, m.Acknowledgement) and answer.name == "oadrCreatedReport"
    assert answer.response.code == 200
    wanted = request.report_request_id
    await th.wait(
        lambda: any(d.report_request_id == wanted for u in th.vtn.messages("oadrUpdateReport") for d in u.reports),
        "the one-shot report",
    )
    assert th.vtn.received("oadrCreatedReport") == []  # the answer went in the HTTP response, not by POST


async def test_R0_8040_TH_VTN(th: Th):
    """R0_8040 (cancel report, push; mirrors R1_3040): a periodic request, then the pushed oadrCancelReport is
    answered oadrCanceledReport 200 in the HTTP response and the request is dropped."""
    address = await start_push_ven(th)
    request = report_request(STATUS, ("status",), granularity=1, report_back=1, start_in=0, duration=60)
    await push_to_ven(address, "EiReport", create_report(th.vtn.ven_id, request))
    await th.wait(lambda: request.report_request_id in th.pending_report_requests(), "the request taken")
    status, answer = await push_to_ven(address, "EiReport", cancel_report(th.vtn.ven_id, request.report_request_id))
    assert status == 200 and isinstance(answer, m.Acknowledgement) and answer.name == "oadrCanceledReport"
    await th.wait(lambda: request.report_request_id not in th.pending_report_requests(), "the request dropped")


async def test_P0_7010_TH_VTN(th: Th):
    """P0_7010 (opt schedule, push; mirrors P1_2010): a push VEN still POSTs its own oadrCreateOpt and
    oadrCancelOpt to the VTN's EiOpt service."""
    await start_push_ven(th)
    start = th.ven.site.clock() + timedelta(hours=1)
    opt_id = await th.ven.create_opt_schedule(((start, timedelta(hours=1)),))
    await th.ven.cancel_opt(opt_id)
    assert [o.opt_id for o in th.vtn.messages("oadrCreateOpt")] == [opt_id]
    assert [o.opt_id for o in th.vtn.messages("oadrCancelOpt")] == [opt_id]
    no_polls(th)


async def test_push_while_not_registered_gets_503(th: Th):
    """The VTN cancels the registration and the VEN cannot register again yet (the VTN is unavailable): a push
    in that window gets HTTP 503 with Retry-After, not an empty 200 (the VTN keeps the message and pushes it
    again), and changes nothing; once registered again the same push is answered."""
    address = await start_push_ven(th)
    th.vtn.outage = Raw(b"", 503)
    cancel = m.CancelPartyRegistration("req-c", th.vtn.registration_id, th.vtn.ven_id)
    status, answer = await push_to_ven(address, "EiRegisterParty", cancel)
    assert status == 200 and isinstance(answer, m.CanceledPartyRegistration)
    await th.wait(lambda: th.ven.site.registration is None, "the registration dropped")
    ev = event()
    message = encode(distribute(th.vtn.vtn_id, ev))
    status, text, retry_after = await post_raw(address, "EiEvent", message)
    assert status == 503 and retry_after is not None and int(retry_after) > 0 and b"not registered" in text
    assert ev.event_id not in th.held()
    th.vtn.outage = None
    await th.wait(lambda: th.ven.site.registration is not None, "the VEN registered again")
    status, answer = await push_to_ven(address, "EiEvent", None, body=message)
    assert status == 200 and isinstance(answer, m.CreatedEvent) and ev.event_id in th.held()


async def test_push_whose_handling_fails_gets_503(th: Th, monkeypatch: pytest.MonkeyPatch):
    """Handling a pushed message fails before an answer exists (here: the store is full): HTTP 503 with
    Retry-After, so that the VTN pushes it again; the next attempt is answered."""
    address = await start_push_ven(th)

    async def failing(message: object, answer_with: object = None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(th.ven, "handle", failing)
    request = r.RegisterReport("vtn-rr", (), ven_id=th.vtn.ven_id)
    status, text, retry_after = await post_raw(address, "EiReport", encode(request))
    assert status == 503 and retry_after is not None and b"failed" in text
    monkeypatch.undo()
    status, answer = await push_to_ven(address, "EiReport", request)
    assert status == 200 and isinstance(answer, r.RegisteredReport) and answer.response.request_id == "vtn-rr"


async def test_push_schema_invalid_is_refused_in_the_reply_type(th: Th):
    """A pushed oadrDistributeEvent that is not valid against the 2.0b schema is refused as the VTN refuses
    one: oadrCreatedEvent with eiResponse 400 naming the problem, echoing the requestID; no event is taken."""
    address = await start_push_ven(th)
    ev = event()
    message = distribute(th.vtn.vtn_id, ev)
    root = parse_xml(encode(message))
    vtn_id = root.find(".//ei:vtnID", NSMAP)
    assert vtn_id is not None
    vtn_id.getparent().remove(vtn_id)  # vtnID is required
    status, answer = await push_to_ven(address, "EiEvent", None, body=etree.tostring(root))
    assert status == 200 and isinstance(answer, m.CreatedEvent) and answer.response.code == 400
    assert "schema" in answer.response.description and answer.response.request_id == message.request_id
    assert answer.event_responses == () and ev.event_id not in th.held()


async def test_push_answer_once_given_is_not_repeated_with_the_next_distribution(th: Th):
    """An oadrCreatedEvent written out in the HTTP response counts as given: a later push listing that event
    unchanged next to a new one is answered for the new one only (before, every push re-answered them all)."""
    address = await start_push_ven(th)
    first = event()
    _, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, first))
    assert isinstance(answer, m.CreatedEvent) and [x.event_id for x in answer.event_responses] == [first.event_id]
    await th.wait(lambda: th.held()[first.event_id].answered_modification == 0, "the answer noted as given")
    second = event("event-second")
    _, answer = await push_to_ven(address, "EiEvent", distribute(th.vtn.vtn_id, first, second))
    assert isinstance(answer, m.CreatedEvent)
    assert [x.event_id for x in answer.event_responses] == [second.event_id]


async def test_an_unchanged_push_is_answered_again(th: Th):
    """The VTN pushes the same distribution again only when an answer it needs did not reach it (it may have
    refused the one in the HTTP response): every event that needs an answer is answered again."""
    address = await start_push_ven(th)
    ev = event()
    message = distribute(th.vtn.vtn_id, ev)
    await push_to_ven(address, "EiEvent", message)
    await th.wait(lambda: th.held()[ev.event_id].answered_modification == 0, "the answer noted as given")
    _, again = await push_to_ven(address, "EiEvent", message)
    assert isinstance(again, m.CreatedEvent)
    assert [(x.event_id, x.modification_number, x.opt_type) for x in again.event_responses] == [(ev.event_id, 0, "optIn")]


async def _refused(address: str) -> bool:
    """True once the endpoint no longer accepts connections."""
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(address):
                return False
    except aiohttp.ClientConnectionError:
        return True


async def test_push_endpoint_stop_leaves_no_follow_up_running(th: Th, monkeypatch: pytest.MonkeyPatch):
    """Stopping the endpoint while a push is being handled: the handler finishes (the VTN gets its answer), and
    the follow-up work it started after answering is cancelled too, not left running with no owner."""
    address = await start_push_ven(th)
    endpoint = th.process.endpoints[th.site_name]  # type: ignore[union-attr]
    started, go = asyncio.Event(), asyncio.Event()
    follow_up_cancelled = asyncio.Event()

    async def slow(message: object, answer_with: Answerer | None = None) -> None:
        started.set()
        await go.wait()
        assert answer_with is not None
        await answer_with("EiRegisterParty", m.Response(m.EiResponse(), ven_id=th.vtn.ven_id))
        try:
            await asyncio.Event().wait()  # follow-up work (a new registration, reports…) that never ends by itself
        except asyncio.CancelledError:
            follow_up_cancelled.set()
            raise

    monkeypatch.setattr(th.ven, "handle", slow)
    push = asyncio.create_task(push_to_ven(address, "EiRegisterParty", m.RequestReregistration(ven_id=th.vtn.ven_id)))
    await th.wait(started.is_set, "the push being handled")
    stopping = asyncio.create_task(endpoint.stop())
    await eventually(lambda: _refused(address), "the endpoint to stop listening", timeout=10)
    go.set()
    status, answer = await push
    assert status == 200 and isinstance(answer, m.Response)
    await stopping
    assert follow_up_cancelled.is_set() and not endpoint._later


async def test_a_push_request_cancelled_before_its_answer_leaves_no_handling_waiting(th: Th, monkeypatch: pytest.MonkeyPatch):
    """The request's handler is cancelled (a server stopping past its grace time) while the VEN is still working
    on the answer: the handling learns that its answer did not go out, carries on (its answer then counts as
    not given), and is owned by the endpoint, which cancels it on stop — nothing waits for ever."""
    await start_push_ven(th)
    endpoint = th.process.endpoints[th.site_name]  # type: ignore[union-attr]
    go, told = asyncio.Event(), []

    async def slow(message: object, answer_with: Answerer | None = None) -> None:
        await go.wait()
        assert answer_with is not None
        told.append(await answer_with("EiRegisterParty", m.Response(m.EiResponse(), ven_id=th.vtn.ven_id)))

    monkeypatch.setattr(th.ven, "handle", slow)
    request = asyncio.create_task(endpoint.answer(m.RequestReregistration(ven_id=th.vtn.ven_id)))
    await asyncio.sleep(0.05)
    request.cancel()
    await asyncio.gather(request, return_exceptions=True)
    assert len(endpoint._later) == 1  # the handling, owned by the endpoint
    go.set()
    await th.wait(lambda: told, "the handling to go on")
    assert told == [None] and not endpoint._later  # "not given", and done


async def test_push_body_arriving_too_slowly_gets_408(th: Th):
    """A client that sends the headers and then stalls in the body is answered HTTP 408 after the VEN's
    request_timeout (1 s here) instead of holding the handler for ever."""
    address = await start_push_ven(th)
    url = urlsplit(address)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        head = (
            f"POST {url.path}/EiEvent HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/xml\r\n"
            "Content-Length: 1000\r\n\r\n<oadr:oadrPayload"
        )
        writer.write(head.encode())
        await writer.drain()
        async with asyncio.timeout(10):  # bounds the test if the endpoint never answers
            status_line = await reader.readline()
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 408")
