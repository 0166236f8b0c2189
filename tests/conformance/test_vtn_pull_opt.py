"""Opt conformance of our VTN in pull mode: OpenADR 2.0b certification cases P1_2010…P1_2050 with the test
harness playing the VEN (TH_VEN). Our VTN is the device under test; `vtn.client` plays the harness VEN.

The pull cases run the push cases' body (P0_70x0): the harness VEN sends oadrCreateOpt / oadrCancelOpt to
EiOpt and checks the oadrCreatedOpt / oadrCanceledOpt it gets back (its conformance rules require code 200
unless a case relaxes that). Its opt schedules are built like the harness's: optReason "participating",
the market context of its first program, eiTarget naming its own venID, and availability windows
`(days from now, hours long)`: schedule 1 = optIn (1, 4) and (3, 8); schedule 2 = optOut (2, 4) and (4, 8);
schedule 3 = optIn (2, 6) and (4, 8); schedule 4 = optIn (1, 0) — open ended. Beyond the exchange, ours
checks what the VTN keeps: the stored opt (`report_repository.list_opts`) and which opts cover an event
in the window (`report_repository.opts_covering`, what `cariflex event show` lists).
"""

import uuid
from datetime import datetime, timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.encode import encode
from mapping.oadr.lifecycle import event_end
from mapping.oadr.timefmt import format_datetime
from tests.conformance import register
from tests.support.vtn_harness import PROGRAM
from vtn.store import report_repository

OADR = "http://openadr.org/oadr-2.0b/2012/07"
EI = "http://docs.oasis-open.org/ns/energyinterop/201110"
POWER = "http://docs.oasis-open.org/ns/emix/2011/06/power"
DEVICE_CLASSES = ("Thermostat", "Water_Heater")

SCHEDULES: dict[int, tuple[str, tuple[tuple[int, int], ...]]] = {
    1: ("optIn", ((1, 4), (3, 8))),
    2: ("optOut", ((2, 4), (4, 8))),
    3: ("optIn", ((2, 6), (4, 8))),
    4: ("optIn", ((1, 0),)),
}


def windows_of(now: datetime, number: int) -> tuple[tuple[datetime, timedelta], ...]:
    """The availability windows of harness schedule `number`, counted from `now` (whole seconds)."""
    start = now.replace(microsecond=0)
    return tuple((start + timedelta(days=days), timedelta(hours=hours)) for days, hours in SCHEDULES[number][1])


def schedule(vtn, ven_id: str, number: int, *, opt_id: str | None = None, market_context: str | None = PROGRAM, target=None):
    """oadrCreateOpt carrying harness schedule `number` (a fresh optID unless given)."""
    now = vtn.ctx.now()
    return r.CreateOpt(
        opt_id=opt_id or f"opt-{uuid.uuid4().hex[:8]}",
        opt_type=SCHEDULES[number][0],
        opt_reason="participating",
        ven_id=ven_id,
        created=now,
        request_id=f"req-opt-{uuid.uuid4().hex[:8]}",
        market_context=market_context,
        windows=windows_of(now, number),
        target=m.Target(ven_ids=(ven_id,)) if target is None else target,
    )


def assert_created_opt(reply: m.Message | None, opt: r.CreateOpt, code: int = 200) -> None:
    """oadrCreatedOpt with `code`, echoing the requestID and the optID."""
    assert isinstance(reply, m.Acknowledgement) and reply.name == "oadrCreatedOpt", reply
    assert reply.response.code == code, reply.response
    assert reply.response.request_id == opt.request_id
    assert reply.opt_id == opt.opt_id


async def create_opt(vtn, opt: r.CreateOpt) -> None:
    """Send oadrCreateOpt; the harness expects oadrCreatedOpt 200."""
    assert_created_opt(await vtn.client.send("EiOpt", opt), opt)


async def cancel_opt(vtn, ven_id: str, opt_id: str, code: int = 200) -> None:
    """Send oadrCancelOpt; the answer must be oadrCanceledOpt with `code` echoing requestID and optID."""
    request_id = f"req-cancel-{uuid.uuid4().hex[:8]}"
    reply = await vtn.client.send("EiOpt", r.CancelOpt(request_id=request_id, opt_id=opt_id, ven_id=ven_id))
    assert isinstance(reply, m.Acknowledgement) and reply.name == "oadrCanceledOpt", reply
    assert reply.response.code == code, reply.response
    assert reply.response.request_id == request_id
    assert reply.opt_id == opt_id


async def stored_opts(vtn, ven_id: str) -> dict[str, dict]:
    """optID → the opt the VTN stored for the VEN."""
    return {o["opt_id"]: o for o in await vtn.ctx.store.call(report_repository.list_opts, ven_id)}


def stored_windows(opt: r.CreateOpt) -> list[list[str]]:
    """The windows of `opt` as the VTN stores them ([start, end] in wire format)."""
    return [[format_datetime(start), format_datetime(start + length)] for start, length in opt.windows]


async def covering(vtn, event: m.Event) -> list[tuple[str, str]]:
    """(optID, optType) of every active opt covering `event` (what `cariflex event show` lists)."""
    rows = await vtn.ctx.store.call(
        report_repository.opts_covering, event.event_id, event.dtstart, event_end(event.dtstart, event.duration), PROGRAM
    )
    return sorted((o["opt_id"], o["opt_type"]) for o in rows)


async def event_in_first_window(vtn) -> m.Event:
    """A 1-hour event in the program, one day and one hour from now (inside schedule 1's first window)."""
    return await vtn.create_event(start_in=timedelta(days=1, hours=1), interval=timedelta(hours=1))


def with_device_class(opt: r.CreateOpt, device_classes: tuple[str, ...]) -> bytes:
    """The oadrCreateOpt as XML with an oadrDeviceClass (endDeviceAsset mrids) after its eiTarget."""
    root = etree.fromstring(encode(opt))
    target = root.find(f".//{{{EI}}}eiTarget")
    device_class = etree.Element(f"{{{OADR}}}oadrDeviceClass")
    for mrid in device_classes:
        asset = etree.SubElement(device_class, f"{{{POWER}}}endDeviceAsset")
        etree.SubElement(asset, f"{{{POWER}}}mrid").text = mrid
    target.addnext(device_class)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- P1_*: opt schedules -------------------------------------------------------------------------


async def test_P1_2010_TH_VEN(vtn):
    """P1_2010 (VEN Opt - New Opt Schedule). Certification: the VEN sends oadrCreateOpt with schedule 1
    (optIn, participating, two windows: in 1 day for 4 hours and in 3 days for 8 hours) targeting its
    venID; the VTN must answer oadrCreatedOpt (200). Ours: 200 echoing requestID and optID; the opt is
    stored with both windows and is listed against an event in its first window."""
    reg = await register(vtn, "th-ven")
    event = await event_in_first_window(vtn)
    opt = schedule(vtn, reg.ven_id, 1)
    await create_opt(vtn, opt)
    stored = (await stored_opts(vtn, reg.ven_id))[opt.opt_id]
    assert (stored["opt_type"], stored["opt_reason"], stored["cancelled_at"]) == ("optIn", "participating", None)
    assert stored["windows"] == stored_windows(opt)
    assert await covering(vtn, event) == [(opt.opt_id, "optIn")]


async def test_P1_2015_TH_VEN(vtn):
    """P1_2015 (VEN Opt - Open Ended Opt Schedule). Certification: the VEN sends oadrCreateOpt with schedule
    4 — one window starting in 1 day with duration 0 hours, i.e. open ended; the VTN must answer
    oadrCreatedOpt with code 200 (the harness's success-code rule is not relaxed). Ours: 200 echoing
    requestID and optID, and the opt is stored and active."""
    reg = await register(vtn, "th-ven")
    opt = schedule(vtn, reg.ven_id, 4)
    assert opt.windows[0][1] == timedelta(0)
    await create_opt(vtn, opt)
    assert (await stored_opts(vtn, reg.ven_id))[opt.opt_id]["cancelled_at"] is None


async def test_P1_2020_TH_VEN(vtn):
    """P1_2020 (VEN Opt - Cancel Opt Schedule). Certification: the VEN sends schedule 1 with an eiTarget
    holding no venID and no marketContext (oadrCreatedOpt expected), then oadrCancelOpt for its optID
    (oadrCanceledOpt 200 expected). Ours: both 200 echoing requestID and optID; the opt is stored as
    cancelled and no longer covers an event in its window."""
    reg = await register(vtn, "th-ven")
    event = await event_in_first_window(vtn)
    opt = schedule(vtn, reg.ven_id, 1, market_context=None, target=m.Target())
    await create_opt(vtn, opt)
    assert await covering(vtn, event) == [(opt.opt_id, "optIn")]
    await cancel_opt(vtn, reg.ven_id, opt.opt_id)
    assert (await stored_opts(vtn, reg.ven_id))[opt.opt_id]["cancelled_at"] is not None
    assert await covering(vtn, event) == []


async def test_P1_2030_TH_VEN(vtn):
    """P1_2030 (VEN Opt - Multiple Opt Schedules, Targeting). Certification: the VEN sends schedule 1 with
    eiTarget = its venID and an oadrDeviceClass listing its device classes (endDeviceAsset mrids), then
    schedule 2 (optOut, in 2 days for 4 hours and in 4 days for 8 hours) with the same device classes;
    each must get oadrCreatedOpt 200. Ours: both 200 and both opts stored, active, each with its own
    windows. (Not covered: the device-class targeting itself — the VTN accepts oadrDeviceClass but does not
    store it, so it shows each opt as covering the whole VEN.)"""
    reg = await register(vtn, "th-ven")
    opts = [schedule(vtn, reg.ven_id, 1), schedule(vtn, reg.ven_id, 2)]
    for opt in opts:
        reply = await vtn.client.post("EiOpt", with_device_class(opt, DEVICE_CLASSES))
        assert reply.status == 200
        assert_created_opt(reply.message, opt)
    stored = await stored_opts(vtn, reg.ven_id)
    for opt in opts:
        assert stored[opt.opt_id]["opt_type"] == opt.opt_type
        assert stored[opt.opt_id]["windows"] == stored_windows(opt)
        assert stored[opt.opt_id]["cancelled_at"] is None


async def _schedule_then_same_opt_id(vtn) -> tuple[str, r.CreateOpt, r.CreateOpt]:
    """P1_2040's first two steps: schedule 1, then schedule 3 under the same optID; both must get 200."""
    reg = await register(vtn, "th-ven")
    first = schedule(vtn, reg.ven_id, 1)
    await create_opt(vtn, first)
    second = schedule(vtn, reg.ven_id, 3, opt_id=first.opt_id)
    await create_opt(vtn, second)
    return reg.ven_id, first, second


async def test_P1_2040_TH_VEN(vtn):
    """P1_2040 (VEN Opt - Multiple Opt Scheduled with Cancel). Certification: the VEN sends schedule 1, then
    schedule 3 (optIn, in 2 days for 6 hours and in 4 days for 8 hours) under the SAME optID — a change of
    its opt schedule — then oadrCancelOpt for that optID; oadrCreatedOpt 200, oadrCreatedOpt 200 and
    oadrCanceledOpt 200 expected. Ours: the three answers, and in between the VTN holds the opt with
    schedule 3's windows (the latest schedule under that optID); after the cancel it is cancelled. (The
    exchange alone passes: test_P1_2040_TH_VEN_exchange.)"""
    ven_id, _first, second = await _schedule_then_same_opt_id(vtn)
    stored = await stored_opts(vtn, ven_id)
    assert stored[second.opt_id]["windows"] == stored_windows(second)
    await cancel_opt(vtn, ven_id, second.opt_id)
    assert (await stored_opts(vtn, ven_id))[second.opt_id]["cancelled_at"] is not None


async def test_P1_2040_TH_VEN_exchange(vtn):
    """P1_2040, the part our VTN passes today: schedule 1, schedule 3 under the same optID and the
    oadrCancelOpt are answered oadrCreatedOpt 200, oadrCreatedOpt 200 and oadrCanceledOpt 200, and the opt
    ends up cancelled. (What the VTN keeps in between is the defect shown by test_P1_2040_TH_VEN.)"""
    ven_id, first, _second = await _schedule_then_same_opt_id(vtn)
    await cancel_opt(vtn, ven_id, first.opt_id)
    stored = await stored_opts(vtn, ven_id)
    assert list(stored) == [first.opt_id]
    assert stored[first.opt_id]["cancelled_at"] is not None


async def test_P1_2050_TH_VEN(vtn):
    """P1_2050 (VEN Opt - Negative Test Scenario). Certification: the VEN sends schedule 1 (oadrCreatedOpt
    expected), then oadrCancelOpt with optID INVALID_OPT_ID and must get oadrCanceledOpt with 452. Ours:
    452 echoing requestID and the unknown optID; the real opt stays active."""
    reg = await register(vtn, "th-ven")
    opt = schedule(vtn, reg.ven_id, 1)
    await create_opt(vtn, opt)
    await cancel_opt(vtn, reg.ven_id, "INVALID_OPT_ID", code=ResponseCode.INVALID_ID)
    assert (await stored_opts(vtn, reg.ven_id))[opt.opt_id]["cancelled_at"] is None
