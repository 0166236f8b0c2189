"""What the push-mode TH_VEN cases share: a VTN that pushes quickly, and a harness VEN registered in push
mode whose endpoint (tests/support/push_ven.py) receives what the VTN pushes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.push_ven import PushVen
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.config import VtnConfig
from vtn.oadr.push.settings import PushConfig

#: pushes within a tenth of a second, retries after 0.1–0.4 s, re-pushes unanswered events after 1 s
FAST_PUSH = PushConfig(
    scan_interval=timedelta(milliseconds=100),
    timeout=timedelta(seconds=5),
    min_backoff=timedelta(milliseconds=100),
    max_backoff=timedelta(milliseconds=400),
    resend_unanswered=timedelta(seconds=1),
)


def push_config(db_url: str, **changes: object) -> VtnConfig:
    """The tests' VTN configuration with FAST_PUSH."""
    return replace(config_for_tests(db_url, push=FAST_PUSH), **changes)  # type: ignore[arg-type]


@pytest.fixture(name="vtn")
async def push_vtn_fixture(db_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN with quick pushes, on each store backend (imported by the push test modules)."""
    async with running_vtn(push_config(db_url)) as running:
        yield running


@pytest.fixture(name="endpoint")
async def push_endpoint_fixture() -> AsyncIterator[PushVen]:
    """The harness VEN's endpoint (imported by the push test modules)."""
    async with push_ven_endpoint() as ven:
        yield ven


@asynccontextmanager
async def push_ven_endpoint() -> AsyncIterator[PushVen]:
    """The harness VEN's endpoint, listening on a free loopback port; fails the test if the VTN pushed
    anything that was not schema-valid OpenADR."""
    ven = PushVen()
    await ven.start()
    try:
        yield ven
        ven.check()
    finally:
        await ven.close()


def push_registration(ven_name: str, address: str | None, **fields: object) -> m.CreatePartyRegistration:
    """An oadrCreatePartyRegistration of a 2.0b simpleHttp push VEN."""
    return m.CreatePartyRegistration(
        request_id="req-push-reg",
        profile_name="2.0b",
        transport_name="simpleHttp",
        report_only=False,
        xml_signature=False,
        ven_name=ven_name,
        http_pull_model=False,
        transport_address=address,
        **fields,  # type: ignore[arg-type]
    )


async def register_push(vtn: VtnUnderTest, endpoint: PushVen, ven_name: str = "th-push-ven") -> m.CreatedPartyRegistration:
    """Register the harness VEN in push mode and finish the bootstrap: the VTN pushes its oadrRegisterReport
    to <transportAddress>/EiReport, the harness answers oadrRegisteredReport in the HTTP response."""
    reply = await vtn.client.send("EiRegisterParty", push_registration(ven_name, endpoint.address))
    assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 200, reply
    assert reply.ven_id is not None
    endpoint.ven_id = reply.ven_id
    service, message = await endpoint.next(r.RegisterReport)
    assert service == "EiReport" and message.ven_id == reply.ven_id
    return reply


async def drained(vtn: VtnUnderTest, ven_id: str) -> None:
    """Wait until nothing is queued for the VEN any more (its last push was answered)."""
    for _ in range(100):
        if vtn.ctx.live.next_outbox(ven_id, vtn.ctx.now()) is None and not vtn.process.pusher.in_flight(ven_id):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"messages for {ven_id} are still queued")
