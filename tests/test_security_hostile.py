"""Hostile input at the HTTP edge, beyond tests/test_vtn_bad_input.py: deep nesting, huge
attributes, announced-oversize and truncated bodies, odd encodings and slow clients (slowloris).
Each gets a clear answer (or the connection closed) and the VTN keeps serving everybody else."""

import asyncio
from datetime import timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from tests.support.tls_harness import served_vtn
from tests.support.vtn_harness import config_for_tests

PATH = "/OpenADR2/Simple/2.0b/OadrPoll"
OADR = 'xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110"'


def poll_body(inner: str = "", ven_id: str = "ven-x", declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f'{declaration}<oadr:oadrPayload {OADR}><oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b">'
        f"<ei:venID>{ven_id}</ei:venID>{inner}</oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>"
    )


@pytest.fixture
async def vtn(sqlite_url):
    async with served_vtn(config_for_tests(sqlite_url, body_timeout=timedelta(seconds=2))) as running:
        yield running


async def _connect(vtn) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = int(vtn.base_url.rsplit(":", 1)[1])
    return await asyncio.open_connection("127.0.0.1", port)


def _head(length: int) -> bytes:
    return f"POST {PATH} HTTP/1.1\r\nHost: vtn\r\nContent-Type: application/xml\r\nContent-Length: {length}\r\n\r\n".encode()


async def _still_serving(vtn, name: str) -> None:
    reg = await vtn.client.register(name)
    assert await vtn.client.poll(reg.ven_id) is not None


async def test_deep_nesting_is_refused(vtn):
    depth = 50_000
    body = poll_body("<ei:x>" * depth + "</ei:x>" * depth).encode()
    reply = await asyncio.wait_for(vtn.client.post("OadrPoll", body), timeout=60)
    assert reply.status == 400 and b"malformed XML" in reply.body and b"depth" in reply.body.lower()
    await _still_serving(vtn, "site-after-nesting")


@pytest.mark.parametrize("size", [1_500_000], ids=["1.5MB"])
async def test_huge_attribute_is_refused_by_the_schema_in_the_reply_type(vtn, size):
    body = poll_body().replace('ei:schemaVersion="2.0b"', f'ei:schemaVersion="2.0b" x="{"A" * size}"').encode()
    reply = await asyncio.wait_for(vtn.client.post("OadrPoll", body), timeout=60)
    assert reply.status == 200 and isinstance(reply.message, m.Response)
    assert reply.message.response.code == ResponseCode.BAD_REQUEST and "schema" in reply.message.response.description
    await _still_serving(vtn, "site-after-attribute")


async def test_many_attributes_are_refused(vtn):
    attributes = " ".join(f'a{i}="{i}"' for i in range(60_000))
    body = poll_body().replace('ei:schemaVersion="2.0b"', f'ei:schemaVersion="2.0b" {attributes}').encode()
    reply = await asyncio.wait_for(vtn.client.post("OadrPoll", body), timeout=60)
    assert reply.status == 200 and reply.message.response.code == ResponseCode.BAD_REQUEST  # type: ignore[union-attr]


async def test_an_announced_oversize_body_is_refused_before_it_is_sent(vtn):
    reader, writer = await _connect(vtn)
    writer.write(_head(10**9))  # then nothing: the answer must not wait for a gigabyte
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), timeout=30)
    assert status.startswith(b"HTTP/1.1 413"), status
    writer.close()
    await _still_serving(vtn, "site-after-oversize")


async def test_truncated_body_then_hang_up_leaves_the_vtn_serving(vtn):
    reader, writer = await _connect(vtn)
    writer.write(_head(2000) + poll_body().encode()[:100])
    await writer.drain()
    writer.close()
    await _still_serving(vtn, "site-after-truncation")


async def test_truncated_xml_gets_400(vtn):
    reply = await vtn.client.post("OadrPoll", poll_body().encode()[:-40])
    assert reply.status == 400 and b"malformed XML" in reply.body


@pytest.mark.parametrize(
    "body",
    [
        poll_body(ven_id="caf\xe9").encode("latin-1"),  # declared UTF-8, is Latin-1
        poll_body(declaration='<?xml version="1.0" encoding="no-such-charset"?>').encode(),
        b"\xff\xfe" + poll_body().encode(),  # a UTF-16 BOM in front of UTF-8 bytes
        poll_body().encode()[:60] + b"\x00\x01\x02" + poll_body().encode()[60:],  # control characters
    ],
    ids=["latin1-as-utf8", "unknown-charset", "utf16-bom-on-utf8", "control-chars"],
)
async def test_wrong_encodings_get_400(vtn, body):
    reply = await vtn.client.post("OadrPoll", body)
    assert reply.status == 400, reply.body
    assert reply.body.strip()  # a reason, not an empty refusal


async def test_slowloris_clients_are_cut_off_and_others_are_served(vtn):
    slow_headers, slow_bodies = [], []
    for _ in range(40):
        reader, writer = await _connect(vtn)
        writer.write(f"POST {PATH} HTTP/1.1\r\nHost: vtn\r\n".encode())  # and never the end of the headers
        slow_headers.append((reader, writer))
    for _ in range(10):
        reader, writer = await _connect(vtn)
        writer.write(_head(1000) + b"<oadr:oadrPayload")  # and never the rest of the body
        slow_bodies.append((reader, writer))
    await _still_serving(vtn, "site-among-slow-clients")  # while all of them hang on
    for reader, _writer in slow_bodies:
        status = await asyncio.wait_for(reader.readline(), timeout=60)
        assert status.startswith(b"HTTP/1.1 408"), status
    for reader, _writer in slow_headers:
        assert await asyncio.wait_for(reader.read(), timeout=60) == b""  # closed by the VTN
    for _reader, writer in slow_headers + slow_bodies:
        writer.close()
    await _still_serving(vtn, "site-after-slow-clients")
