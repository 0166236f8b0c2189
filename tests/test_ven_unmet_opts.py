"""What a site VEN tells the VTN about events its schedule cannot honour (`SiteVen.opt_out_unmet`), between
our real VEN and our real VTN over HTTP. The windows are given here as the FlexMeasures hooks would give
them (tests/test_flexmeasures_e2e.py runs the whole path on a real FlexMeasures)."""

from dataclasses import replace
from datetime import timedelta

from tests.support.eventually import eventually
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from ven.agent import SiteVen
from ven.config import OptPolicy
from vtn.ops.metrics import OPT_RESPONSES
from vtn.store import report_repository

Q = timedelta(minutes=15)


async def _opts(vtn: VtnUnderTest) -> dict[str, dict]:
    return {o["opt_id"]: o for o in await vtn.ctx.store.call(report_repository.list_opts)}


def _sent(vtn: VtnUnderTest) -> int:
    return vtn.ctx.tally.value(OPT_RESPONSES, ("oadrCreateOpt", "optOut"))


async def test_unmet_windows_are_told_once_kept_once_begun_and_withdrawn_before(sqlite_url, tmp_path):
    async with running_vtn(config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-u")
        site_config = replace(config.sites[0], opt=OptPolicy(on_breach="partial"))
        hooks = RecordingHooks()
        async with running_ven(replace(config, sites=(site_config,)), hooks) as ven:
            site: SiteVen = ven.vens["site-u"]
            later = await vtn.create_event(values=(1.0,) * 4, start_in=timedelta(hours=1), response_required="always")
            begun = await vtn.create_event(values=(1.0,) * 4, start_in=-Q, priority=2, response_required="always")
            await eventually(lambda: {later.event_id, begun.event_id} <= set(site.site.store.events("site-u")), what="events")
            unmet = {later.event_id: ((later.dtstart, Q),), begun.event_id: ((begun.dtstart, 2 * Q),)}

            await site.opt_out_unmet(unmet, "test")
            opts = await _opts(vtn)
            for event in (later, begun):  # an availability schedule of the windows, one optID per event
                opt = opts[f"opt-unmet-{event.event_id}"]
                assert (opt["opt_type"], opt["event_id"], opt["cancelled_at"]) == ("optOut", None, None)
                assert len(opt["windows"]) == 1
            assert _sent(vtn) == 2
            await site.opt_out_unmet(unmet, "test")  # the same again: nothing sent
            assert _sent(vtn) == 2

            await site.opt_out_unmet({}, "test")  # honoured now: withdrawn before it begins, kept once begun
            opts = await _opts(vtn)
            assert opts[f"opt-unmet-{later.event_id}"]["cancelled_at"] is not None
            assert opts[f"opt-unmet-{begun.event_id}"]["cancelled_at"] is None
            assert set(site.site.store.unmet_opts("site-u")) == {begun.event_id}


async def test_a_withdrawal_the_vtn_does_not_need_is_done_and_whole_event_policy_uses_the_event(sqlite_url, tmp_path):
    async with running_vtn(config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-w")
        site_config = replace(config.sites[0], opt=OptPolicy(on_breach="optOut"))
        async with running_ven(replace(config, sites=(site_config,)), RecordingHooks()) as ven:
            site: SiteVen = ven.vens["site-w"]
            event = await vtn.create_event(values=(1.0,) * 4, start_in=timedelta(hours=1), response_required="always")
            await eventually(lambda: event.event_id in site.site.store.events("site-w"), what="the event")
            await site.opt_out_unmet({event.event_id: ((event.dtstart, Q),)}, "test")
            opt = (await _opts(vtn))[f"opt-unmet-{event.event_id}"]
            assert (opt["event_id"], opt["modification_number"], opt["windows"]) == (event.event_id, 0, [])
            await vtn.admin(report_repository.cancel_opt, site.site.ven_id, opt["opt_id"], vtn.ctx.now())  # gone already
            await site.opt_out_unmet({}, "test")  # oadrCancelOpt answered 452: what was wanted, so done
            assert site.site.store.unmet_opts("site-w") == {}
