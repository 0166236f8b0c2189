"""The push harness VEN (tests/support/push_ven.py) itself: a push that is not schema-valid OpenADR
fails the test that meets it, instead of becoming an HTTP 500 the VTN retries (which a test waiting for
"nothing pushed" would take for a pass)."""

import aiohttp
import pytest

from tests.support.push_ven import PushVen

NOT_OADR = b"<?xml version='1.0'?><oadrPayload xmlns='http://openadr.org/oadr-2.0b/2012/07'><nothing/></oadrPayload>"


@pytest.fixture(name="harness")
async def harness_fixture():  # type: ignore[no-untyped-def]
    ven = PushVen()
    await ven.start()
    yield ven
    await ven.close()


async def post(harness: PushVen, body: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{harness.address}/EiEvent", data=body, headers={"Content-Type": "application/xml"}) as resp:
            return resp.status, await resp.text()


@pytest.mark.parametrize("body", [NOT_OADR, b"not xml at all"])
async def test_a_schema_invalid_push_is_answered_400_and_fails_the_test(harness, body):
    status, text = await post(harness, body)
    assert status == 400 and "not a valid OpenADR 2.0b message" in text
    with pytest.raises(AssertionError, match="schema-invalid message to EiEvent"):
        await harness.nothing_more(0.05)
    with pytest.raises(AssertionError, match="schema-invalid"):
        await harness.next(timeout=0.05)
    with pytest.raises(AssertionError, match="schema-invalid"):
        harness.check()
