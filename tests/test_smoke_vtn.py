"""First checks that the VTN answers registration, events and polls."""

from mapping.oadr import model as m
from mapping.oadr.report_model import RegisterReport


async def test_register_poll_event_roundtrip(vtn):
    reg = await vtn.client.register("site-a")
    assert reg.ven_id and reg.registration_id
    assert isinstance(await vtn.client.poll(reg.ven_id), RegisterReport)  # N1_0020: the VTN registers its reports
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
    event = await vtn.create_event(values=(1, 2, 3))
    reply = await vtn.client.poll(reg.ven_id)
    assert isinstance(reply, m.DistributeEvent)
    assert [e.event_id for e in reply.events] == [event.event_id]
    assert [i.value for i in reply.events[0].signals[0].intervals] == [1, 2, 3]
    assert isinstance(await vtn.client.poll(reg.ven_id), m.DistributeEvent)  # sent again until answered
    await vtn.client.ack(reg.ven_id, reply.events)
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
