"""Who may answer for an event: only a VEN the event is for (issue 22). An oadrCreatedEvent or an oadrCreateOpt from
another registered VEN is refused with 452 — as for an event it does not know — and nothing of it is stored."""

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from tests.support.reports import opt_event
from vtn.store import report_repository as reports
from vtn.store import repository as repo


async def test_a_ven_cannot_answer_for_an_event_that_targets_another(vtn):
    owner = await vtn.client.register("site-owner")
    other = await vtn.client.register("site-other")
    event = await vtn.create_event(target=m.Target(ven_ids=(owner.ven_id,)))
    answer = await vtn.client.ack(other.ven_id, (event,), opt="optOut")
    assert answer.response.code == ResponseCode.INVALID_ID and event.event_id in answer.response.description, answer
    opt = await vtn.client.send("EiOpt", opt_event(other.ven_id, "opt-not-mine", event))
    assert opt.name == "oadrCreatedOpt" and opt.response.code == ResponseCode.INVALID_ID, opt
    assert await vtn.ctx.store.call(repo.event_responses, event.event_id) == []
    assert await vtn.ctx.store.call(reports.list_opts, other.ven_id) == []
    # the VEN the event is for still answers it
    assert (await vtn.client.ack(owner.ven_id, (event,), opt="optOut")).response.code == 200
    assert (await vtn.client.send("EiOpt", opt_event(owner.ven_id, "opt-mine", event))).response.code == 200


async def test_an_event_for_every_ven_or_for_a_group_may_be_answered_by_its_members(vtn):
    everyone = await vtn.create_event()
    north = await vtn.create_event(target=m.Target(group_ids=("north",)), start_in=everyone.duration * 4)
    member = await vtn.client.register("site-north")  # [groups] north = site-north
    assert (await vtn.client.ack(member.ven_id, (everyone, north))).response.code == 200
    outsider = await vtn.client.register("site-south")
    assert (await vtn.client.ack(outsider.ven_id, (everyone,))).response.code == 200
    assert (await vtn.client.ack(outsider.ven_id, (north,))).response.code == ResponseCode.INVALID_ID


async def test_a_ven_may_answer_an_event_it_was_given_after_it_was_retargeted(vtn):
    first = await vtn.client.register("site-first")
    second = await vtn.client.register("site-second")
    event = await vtn.create_event(target=m.Target(ven_ids=(first.ven_id,)))
    given = await vtn.client.request_events(first.ven_id)
    assert [e.event_id for e in given.events] == [event.event_id]
    await vtn.modify_event(event.event_id, target=m.Target(ven_ids=(second.ven_id,)))
    assert (await vtn.client.ack(first.ven_id, (event,), opt="optOut")).response.code == 200
