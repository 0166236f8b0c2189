"""Interoperability: our VTN driven by a third-party pull VEN, openleadr's own `OpenADRClient`.

openleadr registers (oadrQueryRegistration, oadrCreatePartyRegistration), registers its (empty) report
list, syncs events with oadrRequestEvent and then polls on its own schedule — the poll frequency our
VTN gives it at registration (1 s here). Its on_event / on_update_event handlers opt in; our VTN
must deliver new, modified and cancelled events over those polls and store the opt responses.
Nothing here depends on how the VTN answers openleadr's report registration (reports are another
issue). Every wait is bounded; the client is stopped afterwards.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from openleadr import OpenADRClient

from tests.conformance import modify, stored_responses
from tests.support.eventually import eventually
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from tests.support.vtn_harness import config_for_tests as make_config

POLL = timedelta(seconds=1)
WAIT = 5.0  # seconds: upper bound of any single wait (a few poll periods)


@pytest.fixture
async def vtn_fast(sqlite_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN (SQLite) asking VENs to poll every second."""
    async with running_vtn(make_config(sqlite_url, poll_interval=POLL)) as running:
        yield running


@dataclass
class Seen:
    """What openleadr's handlers were given: (eventID, modificationNumber, eventStatus) in order."""

    events: list[tuple[str, int, str]] = field(default_factory=list)

    def record(self, event: dict) -> str:
        descriptor = event["event_descriptor"]
        self.events.append((descriptor["event_id"], descriptor["modification_number"], descriptor["event_status"]))
        return "optIn"


@asynccontextmanager
async def openleadr_ven(vtn: VtnUnderTest, name: str = "ol-ven") -> AsyncIterator[tuple[OpenADRClient, Seen]]:
    """An openleadr VEN, registered and polling our VTN; stopped on exit."""
    seen = Seen()
    client = OpenADRClient(ven_name=name, vtn_url=f"{vtn.base_url}/OpenADR2/Simple/2.0b")
    client.add_handler("on_event", seen.record)
    client.add_handler("on_update_event", seen.record)
    try:
        await asyncio.wait_for(client.run(), timeout=WAIT)
        yield client, seen
    finally:
        if client.client_session is not None:
            await client.stop()
        elif client.scheduler.running:
            client.scheduler.shutdown(wait=False)


async def test_openleadr_registers(vtn_fast, caplog):
    """openleadr's registration against our VTN: it learns its venID and registrationID, takes our
    1-second poll frequency, and our VTN knows it by name; its polls are answered without errors
    (no schema or parse complaints from openleadr)."""
    caplog.set_level(logging.WARNING, logger="openleadr")
    async with openleadr_ven(vtn_fast) as (client, _seen):
        assert client.ven_id and client.registration_id
        assert client.poll_frequency == POLL
        ven = vtn_fast.ctx.live.vens[client.ven_id]
        assert ven.ven_name == "ol-ven" and ven.registration_id == client.registration_id and ven.http_pull_model
        await asyncio.sleep(1.2)  # at least one scheduled poll
    complaints = [r.getMessage() for r in caplog.records if "schema" in r.getMessage() or "could not be parsed" in r.getMessage()]
    assert complaints == []


async def test_openleadr_receives_event_and_opts_in(vtn_fast):
    """An event created while openleadr is polling reaches its on_event handler on the next poll (id,
    modification 0) and the handler's optIn is stored by our VTN for that VEN."""
    async with openleadr_ven(vtn_fast) as (client, seen):
        event = await vtn_fast.create_event(values=(1, 2), interval=timedelta(minutes=5), start_in=timedelta(minutes=10))

        async def opted_in() -> bool:
            return (client.ven_id, 0, "optIn", 200) in await stored_responses(vtn_fast, event.event_id)

        await eventually(opted_in, "openleadr's optIn to the new event")
        assert [(i, mod) for i, mod, _ in seen.events] == [(event.event_id, 0)]
        assert seen.events[0][2] in ("far", "near")


async def test_openleadr_gets_modification(vtn_fast):
    """An event openleadr already opted in to (synced at start-up with oadrRequestEvent) is modified;
    the next poll brings modification 1 to on_update_event and our VTN stores the optIn for
    modification 1 as well."""
    event = await vtn_fast.create_event(interval=timedelta(minutes=5), start_in=timedelta(minutes=10))
    async with openleadr_ven(vtn_fast) as (client, seen):

        async def answered(mod: int) -> bool:
            return (client.ven_id, mod, "optIn", 200) in await stored_responses(vtn_fast, event.event_id)

        await eventually(lambda: answered(0), "openleadr's optIn to modification 0")
        await modify(vtn_fast, event.event_id, dtstart=event.dtstart + timedelta(minutes=1))
        await eventually(lambda: answered(1), "openleadr's optIn to modification 1")
        assert [(i, mod) for i, mod, _ in seen.events] == [(event.event_id, 0), (event.event_id, 1)]


async def test_openleadr_gets_cancellation(vtn_fast):
    """An event openleadr holds is cancelled; the next poll brings it with status cancelled and a
    higher modificationNumber, and our VTN stores openleadr's answer to that modification."""
    event = await vtn_fast.create_event(interval=timedelta(minutes=5), start_in=timedelta(minutes=10))
    async with openleadr_ven(vtn_fast) as (client, seen):

        async def answered(mod: int) -> bool:
            return any(r[0] == client.ven_id and r[1] == mod for r in await stored_responses(vtn_fast, event.event_id))

        await eventually(lambda: answered(0), "openleadr's answer to the event")
        await vtn_fast.cancel_event(event.event_id)
        await eventually(lambda: answered(1), "openleadr's answer to the cancellation")
        assert seen.events[-1] == (event.event_id, 1, "cancelled")
        expected = [(client.ven_id, 0, "optIn", 200), (client.ven_id, 1, "optIn", 200)]
        assert await stored_responses(vtn_fast, event.event_id) == expected
