"""Conformance tests of our VTN in pull mode, named after the OpenADR Alliance 2.0b certification
test cases in which the test harness plays the VEN (`*_TH_VEN`). See docs/conformance.md.

This module holds the few helpers the test files share: a VEN's side of the event exchange
(oadrCreatedEvent with per-event opt types and codes), waiting for status changes, and reading
back what the VTN stored.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.vocabulary import default_unit
from tests.support.vtn_harness import VtnUnderTest
from vtn.admin import events as event_admin
from vtn.store import repository as repo

#: What the certification harness calls a "pending" event.
PENDING = ("far", "near")


async def poll_past_reports(vtn: VtnUnderTest, ven_id: str) -> object:
    """Poll as the harness VEN does after (re-)registering: a VTN oadrRegisterReport (the report half of
    the registration bootstrap, N1_0020) is acknowledged with oadrRegisteredReport, which must get
    oadrResponse 200; the first other answer is returned. The report exchange itself is not checked
    here (it belongs to the reports tests)."""
    for _ in range(5):
        reply = await vtn.client.poll(ven_id)
        if not isinstance(reply, r.RegisterReport):
            return reply
        ack = await vtn.client.send(
            "EiReport", r.RegisteredReport(response=m.EiResponse(request_id=reply.request_id), ven_id=ven_id)
        )
        assert isinstance(ack, m.Response) and ack.response.code == 200, ack
    raise AssertionError("the VTN kept sending oadrRegisterReport")


async def register(vtn: VtnUnderTest, ven_name: str, **fields: object) -> m.CreatedPartyRegistration:
    """Register a pull VEN and finish the bootstrap: afterwards a poll has nothing queued (oadrResponse 200).

    The event cases start from "the DUT and the harness are registered"; this is that state."""
    reg = await vtn.client.register(ven_name, **fields)
    assert_ok_response(await poll_past_reports(vtn, reg.ven_id), reg.ven_id)
    return reg


async def created_event(
    vtn: VtnUnderTest,
    ven_id: str,
    answers: Sequence[tuple[m.Event, str] | tuple[m.Event, str, int]],
    *,
    request_id: str = "req-events",
    code: int = 200,
    description: str = "OK",
) -> m.Message | None:
    """Send oadrCreatedEvent: one eventResponse per (event, optType[, responseCode])."""
    responses = []
    for answer in answers:
        event, opt = answer[0], answer[1]
        event_code = answer[2] if len(answer) > 2 else 200  # type: ignore[misc]
        responses.append(
            m.EventResponse(
                event_code, "OK" if event_code == 200 else "ERROR", request_id, event.event_id, event.modification_number, opt
            )
        )
    return await vtn.client.send(
        "EiEvent",
        m.CreatedEvent(
            response=m.EiResponse(code=code, description=description, request_id=request_id),
            ven_id=ven_id,
            event_responses=tuple(responses),
        ),
    )


def assert_ok_response(reply: m.Message | None, ven_id: str | None = None) -> None:
    """The answer is an oadrResponse with code 200 (for `ven_id` when given)."""
    assert isinstance(reply, m.Response), reply
    assert reply.response.code == 200, reply
    if ven_id is not None:
        assert reply.ven_id == ven_id, reply


def assert_event(event: m.Event, status: str | tuple[str, ...], response_required: str, modification_number: int) -> None:
    """The three things the harness checks on every oadrEvent it receives (its isExpectedReceived)."""
    statuses = (status,) if isinstance(status, str) else status
    assert event.status in statuses, f"eventStatus {event.status!r}, expected one of {statuses}"
    assert event.response_required == response_required, event.response_required
    assert event.modification_number == modification_number, event.modification_number


async def settle(vtn: VtnUnderTest) -> None:
    """Apply status changes now instead of waiting for the scheduler."""
    await vtn.process.lifecycle.reconcile()


async def stored_responses(vtn: VtnUnderTest, event_id: str) -> list[tuple[str, int, str, int]]:
    """(venID, modificationNumber, optType, responseCode) the VTN stored for an event, oldest first."""
    rows = await vtn.ctx.store.call(repo.event_responses, event_id)
    return [(ven, mod, opt, code) for ven, mod, opt, code, _ in rows]


async def store_event(vtn: VtnUnderTest, event: m.Event) -> m.Event:
    """Store a drafted event as the CLI does (a store handle of its own) and let the VTN pick it up."""
    await vtn.admin(event_admin.create_event, event, "test", vtn.ctx.now())
    return event


async def modify(vtn: VtnUnderTest, event_id: str, reason: str = "modified", **changes: object) -> m.Event:
    """Modify an event as the CLI does (fields of `mapping.oadr.model.Event` in `changes`)."""
    return await vtn.admin(
        event_admin.modify_event, event_id, vtn.ctx.now(), vtn.ctx.config.near_window, reason, actor="test", **changes
    )


async def wait_until(vtn: VtnUnderTest, moment: datetime) -> None:
    """Sleep until just past `moment` (by the VTN's clock), then apply status changes."""
    await asyncio.sleep(max(0.0, (moment - vtn.ctx.now()).total_seconds()) + 0.05)
    await settle(vtn)


def draft(
    vtn: VtnUnderTest,
    *,
    market_context: str,
    values: tuple[float, ...] = (1.0,),
    interval: timedelta = timedelta(minutes=15),
    start_in: timedelta = timedelta(minutes=10),
    signal: tuple[str, str] = ("SIMPLE", "level"),
    **fields: object,
) -> m.Event:
    """An event drafted like `VtnUnderTest.create_event`, but in any market context."""
    now = vtn.ctx.now()
    sig = event_admin.uniform_signal(signal[0], signal[1], list(values), interval, default_unit(*signal))
    return event_admin.draft_event(
        market_context=market_context,
        dtstart=now + start_in,
        signals=(sig,),
        now=now,
        near_window=vtn.ctx.config.near_window,
        **fields,  # type: ignore[arg-type]
    )


def lengthen_first_interval(event: m.Event, by: timedelta) -> tuple[m.Signal, ...]:
    """The event's signals with the first interval of the first signal made longer."""
    first, *rest = event.signals
    intervals = (replace(first.intervals[0], duration=first.intervals[0].duration + by), *first.intervals[1:])
    return (replace(first, intervals=intervals), *rest)


def lengthen_last_interval(event: m.Event, by: timedelta) -> tuple[m.Signal, ...]:
    """The event's signals with the last interval of every signal made longer (keeps them aligned)."""
    return tuple(
        replace(s, intervals=(*s.intervals[:-1], replace(s.intervals[-1], duration=s.intervals[-1].duration + by)))
        for s in event.signals
    )
