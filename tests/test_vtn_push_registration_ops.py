"""Operating push registrations: the address stored is the one checked, and a VTN restarted with push
switched off says at start-up that push VENs are registered (they receive nothing until they re-register)."""

import logging
from dataclasses import replace

from tests.conformance.push_helpers import push_config, push_registration
from tests.support.vtn_harness import running_vtn
from vtn.oadr.services import registration

#: nothing listens here: the pusher's attempts fail, which these tests do not look at
NOWHERE = "http://127.0.0.1:9/push"


async def test_the_stored_push_address_is_the_checked_one_without_whitespace(sqlite_url):
    """The XML decoder strips text, but the handler must not rely on it: it stores what it validated."""
    async with running_vtn(push_config(sqlite_url)) as vtn:
        created = await registration.create_party_registration(vtn.ctx, push_registration("site-spaces", f"  {NOWHERE}\n"))
        assert created.response.code == 200
        assert vtn.ctx.live.vens[created.ven_id].transport_address == NOWHERE


def _warnings(caplog) -> list[str]:
    return [
        rec.getMessage() for rec in caplog.records if rec.name == "cariflex.vtn.registration" and rec.levelno >= logging.WARNING
    ]


async def test_start_up_warns_when_push_vens_are_registered_but_push_is_off(sqlite_url, caplog):
    config = push_config(sqlite_url)
    async with running_vtn(config) as vtn:
        reply = await vtn.client.send("EiRegisterParty", push_registration("site-push", NOWHERE))
        assert reply.response.code == 200
        await vtn.client.register("site-pull")
    caplog.set_level(logging.WARNING, logger="cariflex.vtn.registration")
    async with running_vtn(replace(config, push=replace(config.push, enabled=False))):
        pass
    # the pull VEN is not counted
    assert _warnings(caplog) == [
        f"1 VEN(s) are registered in push mode but [push] enabled = false: nothing is delivered to them until "
        f"they register again in pull mode or push is switched back on ({reply.ven_id})"
    ]
    caplog.clear()
    async with running_vtn(config):  # push on again: nothing to say
        pass
    assert _warnings(caplog) == []
