"""Every Alliance sample parses; every one a VEN may send gets a schema-valid answer from our VTN."""

import pytest

from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.xsd import parse_xml
from tests.support.samples import VTN_TO_VEN_ONLY, message_name, sample_files, wrapped
from vtn.oadr.http import REPLY_TYPE, service_of

SAMPLES = sample_files()


def test_there_are_forty_samples():
    assert len(SAMPLES) == 40


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_parses_and_decodes(path):
    body = wrapped(path, ven_id="v", registration_id="r", vtn_id="t")
    message = decode(open_envelope(parse_xml(body)))
    assert message is not None


VEN_SENDABLE = [p for p in SAMPLES if message_name(p) not in VTN_TO_VEN_ONLY]


@pytest.mark.parametrize("path", VEN_SENDABLE, ids=[p.stem for p in VEN_SENDABLE])
async def test_sample_gets_a_schema_valid_answer(vtn_sqlite, path):
    reg = await vtn_sqlite.client.register("sample-ven")
    name = message_name(path)
    body = wrapped(path, ven_id=reg.ven_id, registration_id=reg.registration_id, vtn_id="CARIFLEX-VTN")
    reply = await vtn_sqlite.client.post(service_of(name), body)  # the client asserts XSD validity
    assert reply.status == 200, reply.body
    if name == "oadrResponse":
        assert reply.body == b""
        return
    answered = open_envelope(parse_xml(reply.body)).name
    if name == "oadrPoll":  # a poll is answered with whatever is pending (here: the VTN's report registration)
        assert answered in ("oadrResponse", "oadrRegisterReport", "oadrDistributeEvent")
    else:
        assert answered == REPLY_TYPE.get(name, "oadrResponse")
