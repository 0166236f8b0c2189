"""P1_* (opt schedules, pull) with our VEN as the device under test and the harness as the VTN.

In the certification the operator configures the VEN to send each schedule; ours calls the VEN's
API for it, `SiteVen.create_opt_schedule(windows, opt_type)` and `SiteVen.cancel_opt(opt_id)`.
The VEN's other opt support, its opt policy answering optIn/optOut in oadrCreatedEvent, is covered
by the event cases (E1_1070, A_E1_*).
"""

from datetime import timedelta

import pytest

from mapping.oadr import model as m
from tests.ven_conformance import utc_now
from ven.transport import VtnProtocolError

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def whole_seconds() -> object:
    """Now, without fractions of a second (the opt windows' dtstart)."""
    return utc_now().replace(microsecond=0)


async def test_P1_2010_TH_VTN(th):
    """Certification (new opt schedule): the VEN sends an optIn schedule with two availability
    windows (now + 1 day for 4 hours, now + 3 days for 8 hours); the harness answers oadrCreatedOpt
    and checks one oadrCreateOpt arrived.
    Ours: one schema-valid oadrCreateOpt to EiOpt, optIn, with both windows, targeted at our venID;
    the optID returned is the one sent."""
    ven = await th.start_ven()
    now = whole_seconds()
    windows = ((now + DAY, 4 * HOUR), (now + 3 * DAY, 8 * HOUR))
    opt_id = await ven.create_opt_schedule(windows, opt_type="optIn")
    (opt,) = th.vtn.messages("oadrCreateOpt")
    assert (opt.opt_id, opt.opt_type, opt.ven_id) == (opt_id, "optIn", th.vtn.ven_id)
    assert opt.windows == windows and opt.target.ven_ids == (th.vtn.ven_id,)


async def test_P1_2015_TH_VTN(th):
    """Certification (open-ended opt schedule): an optIn schedule with one window from now + 1 day
    and duration 0 (open ended); one oadrCreateOpt expected.
    Ours: one oadrCreateOpt whose single window has duration PT0S."""
    ven = await th.start_ven()
    start = whole_seconds() + DAY
    await ven.create_opt_schedule(((start, timedelta(0)),), opt_type="optIn")
    (opt,) = th.vtn.messages("oadrCreateOpt")
    assert opt.windows == ((start, timedelta(0)),)


async def test_P1_2020_TH_VTN(th):
    """Certification (cancel opt schedule): the schedule of P1_2010, then its cancellation; one
    oadrCreateOpt and one oadrCancelOpt expected.
    Ours: oadrCancelOpt names the optID of the schedule sent."""
    ven = await th.start_ven()
    now = whole_seconds()
    opt_id = await ven.create_opt_schedule(((now + DAY, 4 * HOUR), (now + 3 * DAY, 8 * HOUR)), opt_type="optIn")
    await ven.cancel_opt(opt_id)
    assert len(th.vtn.messages("oadrCreateOpt")) == 1
    (cancel,) = th.vtn.messages("oadrCancelOpt")
    assert (cancel.opt_id, cancel.ven_id) == (opt_id, th.vtn.ven_id)


async def test_P1_2030_TH_VTN(th):
    """Certification (multiple opt schedules, targeting): an optIn schedule with marketContext,
    eiTarget and oadrDeviceClass targeting, then a second schedule for the same targets, optOut
    (now + 2 days for 4 hours, now + 4 days for 8 hours); two oadrCreateOpt, optIn then optOut.
    Ours (partial): optIn then optOut, two distinct optIDs, both targeted at our venID; the VEN
    cannot name a marketContext or an oadrDeviceClass in a schedule."""
    ven = await th.start_ven()
    now = whole_seconds()
    first = await ven.create_opt_schedule(((now + DAY, 4 * HOUR), (now + 3 * DAY, 8 * HOUR)), opt_type="optIn")
    second = await ven.create_opt_schedule(((now + 2 * DAY, 4 * HOUR), (now + 4 * DAY, 8 * HOUR)), opt_type="optOut")
    opts = th.vtn.messages("oadrCreateOpt")
    assert [(o.opt_id, o.opt_type) for o in opts] == [(first, "optIn"), (second, "optOut")]
    assert all(o.target.ven_ids == (th.vtn.ven_id,) for o in opts)


async def test_P1_2050_TH_VTN(th):
    """Certification (negative): only meaningful in self test (the real-device branch is not
    applicable); there the harness refuses an oadrCancelOpt for an unknown optID.
    Ours: the VTN answers oadrCancelOpt with oadrCanceledOpt 452; the VEN reports the refusal to
    its caller (VtnProtocolError) and keeps running."""
    ven = await th.start_ven()
    th.vtn.answer_next(
        "oadrCancelOpt",
        lambda c: m.Acknowledgement("oadrCanceledOpt", m.EiResponse(452, "unknown optID", c.request_id), opt_id=c.opt_id),
    )
    with pytest.raises(VtnProtocolError, match="452"):
        await ven.cancel_opt("opt-unknown")
    await th.still_polling()
