"""S2 dispatch end to end on a real FlexMeasures (one test: the suite's time budget is tight): our VTN → our VEN → a
FlexMeasures schedule → FRBC instructions to an s2-python battery RM over a real WebSocket, drawing what the schedule
asks, with the RM's own description (power, reserve, state of charge) in the flex-model; the RM disconnects: the site
counts as not following, so the VEN opts out of the event at the VTN; it comes back and accepts: the optOut is
withdrawn."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.grid import QUARTER, floor_slot
from tests.support.eventually import eventually
from tests.support.s2_rm import SimulatedRm, leakage_behaviour, running_rm, usage_forecast
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from ven.config import FlexMeasuresSettings, S2Settings
from ven.runner import VenProcess
from vtn.store import report_repository

pytestmark = pytest.mark.flexmeasures
#: sites.toml says 20 kW; the RM says 5 kW (its modes reach −5 … +5 kW): the RM wins
BATTERY = {"kind": "battery", "capacity_kwh": 80.0, "power_kw": 20.0}
TOKEN = "fm-s2-battery-token-0123456789"
#: the owner's usage the RM forecasts: 2 kW out of its 80 kWh, in % of the fill level per second
USAGE_PERCENT_PER_S = 2.0 / 80.0 * 100 / 3600


def _window() -> tuple[datetime, datetime]:
    start = floor_slot(datetime.now(UTC))
    return start, start + timedelta(hours=2)


async def test_a_flexmeasures_schedule_reaches_an_s2_battery_and_its_disconnection_opts_the_site_out(
    sqlite_url, tmp_path, flexmeasures
):
    name = f"fm-s2-{uuid.uuid4().hex[:8]}"
    fm = FlexMeasuresSettings(flexmeasures.base_url, flexmeasures.email, flexmeasures.password, timedelta(seconds=120))
    async with running_vtn(config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))) as vtn:
        config = ven_config(
            f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, asset=BATTERY, contracted_kva=36.0, s2_token=TOKEN
        )
        s2 = S2Settings(port=0, lookahead=timedelta(hours=1), reception_timeout=timedelta(seconds=20))
        config = replace(config, flexmeasures=fm, s2=s2, report_duration=timedelta(hours=3))
        process = VenProcess(config)
        await process.start(spread_first_polls=False)
        try:
            assert process.cem is not None and process.cem.port
            url = f"ws://127.0.0.1:{process.cem.port}/"
            rm = SimulatedRm(url, TOKEN, power_w=5000.0, soc=70.0, reserve=15.0)
            site = process.vens[name].site
            await eventually(lambda: site.registration is not None, what="registration")
            async with running_rm(url, TOKEN, again=rm):
                # the RM's leakage and usage forecast go into the flex-model (storage-efficiency, soc-usage): FlexMeasures
                # must take them for the plan below to be made at all
                await rm.send(leakage_behaviour(0.0005))
                await rm.send(usage_forecast(datetime.now(UTC), USAGE_PERCENT_PER_S, timedelta(hours=2)))
                await eventually(
                    lambda: process.cem.state(name, "battery").frbc.usage != (),  # type: ignore[union-attr]
                    what="the RM's usage forecast taken",
                )
                efficiency, usage = process._rm_storage_of(site.config, process._device_of(site.config), *_window())  # type: ignore[arg-type]
                assert efficiency is not None and 99.0 < efficiency < 100.0
                assert usage[1][1] == pytest.approx(2.0, abs=0.01)  # 2 kW drawn from the battery by its owner (a whole slot)
                event = await vtn.create_event(values=(3.0,) * 4, start_in=timedelta(hours=2))
                hooks = process.hooks

                def planned_with_the_rm() -> bool:
                    outcome = hooks.outcomes.get(name)  # type: ignore[union-attr]
                    return outcome is not None and outcome.schedule_kw and max(map(abs, outcome.schedule_kw)) <= 5.0 + 1e-6

                await eventually(
                    lambda: process.cem.following(name, "battery") is True, timeout=120, what="instructions accepted"
                )
                await eventually(planned_with_the_rm, timeout=120, what="a plan within the RM's 5 kW")
                outcome = hooks.outcomes[name]  # type: ignore[union-attr]
                state = process.cem.state(name, "battery")
                # what the RM holds draws what the latest schedule asks, slot by slot
                await eventually(
                    lambda: all(
                        step.kw == round(outcome.schedule_kw[int((step.slot - outcome.start) / QUARTER)], 3)
                        for step in state.held.values()
                    ),
                    timeout=60,
                    what="the latest schedule held at the RM",
                )
                by_id = {str(i.id): i for i in rm.received.frbc}
                for step in state.held.values():
                    assert rm.frbc.power_kw(by_id[step.id]) == pytest.approx(step.kw, abs=1e-3)
                    assert by_id[step.id].execution_time == step.slot
                assert (
                    min(s.slot for s in state.held.values())
                    <= datetime.now(UTC)
                    < min(s.slot for s in state.held.values()) + QUARTER
                )

            async def opts() -> list[dict]:
                return await vtn.ctx.store.call(report_repository.list_opts)

            # the RM went away: not following, so the event cannot be honoured → optOut (on_breach partial, no windows)
            await eventually(opts, timeout=120, what="the VEN's optOut at the VTN")
            (opt,) = await opts()
            assert (opt["opt_type"], opt["event_id"]) == ("optOut", event.event_id)
            assert process.cem.following(name, "battery") is False
            async with running_rm(url, TOKEN, again=rm):

                async def withdrawn() -> bool:
                    return all(o["cancelled_at"] is not None for o in await opts())

                await eventually(withdrawn, timeout=120, what="the optOut withdrawn once the RM follows again")
                assert process.cem.following(name, "battery") is True
        finally:
            await process.stop()
