"""Hostile and broken input to the 2.0b services: always a 4xx or the right eiResponse code,
never a 500, a hang or a lost record."""

import asyncio

import pytest

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.encode import encode
from tests.support.reference_data import alliance_sample

POLL = b"""<?xml version="1.0" encoding="UTF-8"?>
<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><oadr:oadrSignedObject>
<oadr:oadrPoll ei:schemaVersion="2.0b" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">
<ei:venID>VEN_ID</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07">&lol9;</oadr:oadrPayload>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><oadr:oadrSignedObject>
<oadr:oadrPoll xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110"><ei:venID>&xxe;</ei:venID></oadr:oadrPoll>
</oadr:oadrSignedObject></oadr:oadrPayload>"""


async def test_malformed_xml_gets_400(vtn_sqlite):
    reply = await vtn_sqlite.client.post("OadrPoll", b"<oadr:oadrPayload><unclosed>")
    assert reply.status == 400
    assert b"malformed XML" in reply.body


async def test_empty_body_gets_400(vtn_sqlite):
    reply = await vtn_sqlite.client.post("OadrPoll", b"")
    assert reply.status == 400


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
async def test_doctype_and_entities_are_refused_without_expansion(vtn_sqlite, body):
    reply = await asyncio.wait_for(vtn_sqlite.client.post("OadrPoll", body), timeout=30)  # a hang fails here
    assert reply.status == 400
    assert b"DOCTYPE" in reply.body
    assert b"root:" not in reply.body  # nothing of /etc/passwd


async def test_root_other_than_oadr_payload_is_refused(vtn_sqlite):
    bare = alliance_sample("Sample_oadrPoll.xml").read_bytes()
    reply = await vtn_sqlite.client.post("OadrPoll", bare)
    assert reply.status == 400
    assert b"oadrPayload" in reply.body


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
async def test_missing_or_wrong_content_type_gets_415(vtn_sqlite, content_type):
    reply = await vtn_sqlite.client.post("OadrPoll", POLL, content_type=content_type)
    assert reply.status == 415
    assert b"application/xml" in reply.body


async def test_text_xml_is_tolerated(vtn_sqlite):
    reg = await vtn_sqlite.client.register("site-text-xml")
    reply = await vtn_sqlite.client.post(
        "OadrPoll", POLL.replace(b"VEN_ID", reg.ven_id.encode()), content_type="text/xml; charset=utf-8"
    )
    assert reply.status == 200 and reply.message is not None  # the client checked it against the XSD


async def test_oversized_body_gets_413(vtn_sqlite):
    padding = b" " * (vtn_sqlite.ctx.config.max_body_bytes + 10)
    reply = await vtn_sqlite.client.post("OadrPoll", POLL.replace(b"<ei:venID>", padding + b"<ei:venID>"))
    assert reply.status == 413


async def test_wrong_encoding_gets_400(vtn_sqlite):
    body = POLL.replace(b'encoding="UTF-8"', b'encoding="UTF-16"')
    reply = await vtn_sqlite.client.post("OadrPoll", body)
    assert reply.status == 400


async def test_schema_invalid_message_gets_400_in_the_right_type(vtn_sqlite):
    body = encode(m.QueryRegistration(request_id="q-1"))
    body = body.replace(
        b"<pyld:requestID>q-1</pyld:requestID>", b"<pyld:requestID>q-1</pyld:requestID><pyld:extra>1</pyld:extra>"
    )
    reply = await vtn_sqlite.client.post("EiRegisterParty", body)
    assert reply.status == 200
    assert isinstance(reply.message, m.CreatedPartyRegistration)
    assert reply.message.response.code == ResponseCode.BAD_REQUEST
    assert "schema" in reply.message.response.description
    assert reply.message.response.request_id == "q-1"


async def test_unknown_ven_poll_gets_463(vtn_sqlite):
    reply = await vtn_sqlite.client.poll("no-such-ven")
    assert isinstance(reply, m.Response)
    assert reply.response.code == ResponseCode.NOT_REGISTERED_OR_AUTHORIZED


async def test_unknown_ven_request_event_gets_distribute_with_463(vtn_sqlite):
    reply = await vtn_sqlite.client.send("EiEvent", m.RequestEvent(request_id="r-1", ven_id="ghost"))
    assert isinstance(reply, m.DistributeEvent)
    assert reply.response.code == ResponseCode.NOT_REGISTERED_OR_AUTHORIZED
    assert reply.events == ()


async def test_message_sent_to_the_wrong_service_gets_459_naming_the_right_one(vtn_sqlite):
    reply = await vtn_sqlite.client.send("EiEvent", m.Poll(ven_id="x"))
    assert isinstance(reply, m.Response)
    assert reply.response.code == ResponseCode.COMPLIANCE_ERROR
    assert "OadrPoll" in reply.response.description


async def test_created_event_for_unknown_event_is_refused_and_nothing_is_stored(vtn_sqlite):
    reg = await vtn_sqlite.client.register("site-unknown-event")
    real = await vtn_sqlite.create_event()
    fake = m.Event(**{**real.__dict__, "event_id": "no-such-event"})
    reply = await vtn_sqlite.client.ack(reg.ven_id, (real, fake))
    assert isinstance(reply, m.Response) and reply.response.code == ResponseCode.INVALID_ID
    from vtn.store import repository as repo

    assert await vtn_sqlite.ctx.store.call(repo.event_responses, real.event_id) == []


async def test_created_event_with_empty_event_responses_is_accepted(vtn_sqlite):
    reg = await vtn_sqlite.client.register("site-empty-responses")
    reply = await vtn_sqlite.client.ack(reg.ven_id, ())
    assert isinstance(reply, m.Response) and reply.response.code == 200


async def test_vtn_keeps_serving_after_garbage(vtn_sqlite):
    for garbage in (b"\x00\xff\xfe", b"<a>" * 1000, b"<?xml version='1.0'?><x/>", b"not xml at all"):
        assert (await vtn_sqlite.client.post("OadrPoll", garbage)).status in (400, 413)
    reg = await vtn_sqlite.client.register("site-after-garbage")
    assert await vtn_sqlite.client.poll(reg.ven_id) is not None
