"""S2 dispatch end to end on a real FlexMeasures: our VTN → our VEN → a FlexMeasures schedule → S2 instructions to an
s2-python RM over a real WebSocket (tests/support/s2_flexmeasures.py starts the VTN and the VEN). A battery: FRBC
instructions drawing what the schedule asks, with the RM's own description (power, reserve, state of charge) in the
flex-model; the RM disconnects: the site counts as not following, so the VEN opts out of the event at the VTN; it
comes back and accepts: the optOut is withdrawn. A PV roof: its schedule as PEBC power envelopes."""

from datetime import UTC, datetime, timedelta

import pytest

from mapping.grid import QUARTER, floor_slot
from mapping.s2 import leakage_kw_from_rm
from tests.support.eventually import eventually
from tests.support.s2_flexmeasures import s2_site_ven
from tests.support.s2_rm import SimulatedRm, leakage_behaviour, running_rm, usage_forecast
from vtn.store import report_repository

pytestmark = pytest.mark.flexmeasures
#: sites.toml says 20 kW; the RM says 5 kW (its modes reach −5 … +5 kW): the RM wins
BATTERY = {"kind": "battery", "capacity_kwh": 80.0, "power_kw": 20.0}
TOKEN = "fm-s2-battery-token-0123456789"
#: the owner's usage the RM forecasts: 2 kW out of its 80 kWh, in % of the fill level per second
USAGE_PERCENT_PER_S = 2.0 / 80.0 * 100 / 3600
#: a 5 kWp roof whose inverter's RM says it may produce up to 5 kW (−5000 … 0 W), exporting up to 3 kVA
PV = {"kind": "pv", "peak_kw": 5.0}
PV_TOKEN = "fm-s2-pv-token-0123456789abcd"


def _window() -> tuple[datetime, datetime]:
    start = floor_slot(datetime.now(UTC))
    return start, start + timedelta(hours=2)


def _noon_longitude(now: datetime) -> float:
    """The longitude where it is about solar noon at `now`: a roof there has sun to produce (and to curtail) whenever
    the test runs."""
    longitude = (12.0 - now.hour - now.minute / 60) * 15.0
    return round((longitude + 180.0) % 360.0 - 180.0, 1) or 0.5  # 0 would read as "not set"


async def test_a_flexmeasures_schedule_reaches_an_s2_battery_and_its_disconnection_opts_the_site_out(
    sqlite_url, tmp_path, flexmeasures
):
    async with s2_site_ven(sqlite_url, tmp_path, flexmeasures, TOKEN, asset=BATTERY, contracted_kva=36.0) as ven:
        vtn, process, name, url = ven.vtn, ven.process, ven.name, ven.url
        assert process.cem is not None
        rm = SimulatedRm(url, TOKEN, power_w=5000.0, soc=70.0, reserve=15.0)
        site = process.vens[name].site
        async with running_rm(url, TOKEN, again=rm):
            # the RM's leakage and usage forecast go into the flex-model (soc-usage): FlexMeasures
            # must take them for the plan below to be made at all
            await rm.send(leakage_behaviour(0.0005))
            await rm.send(usage_forecast(datetime.now(UTC), USAGE_PERCENT_PER_S, timedelta(hours=2)))
            await eventually(
                lambda: process.cem.state(name, "battery").frbc.usage != (),  # type: ignore[union-attr]
                what="the RM's usage forecast taken",
            )
            usage = process._rm_storage_of(site.config, process._device_of(site.config), *_window())  # type: ignore[arg-type]
            leak = leakage_kw_from_rm(process.cem.state(name, "battery").frbc, process._device_of(site.config).capacity_kwh)  # type: ignore[union-attr, arg-type]
            assert leak > 0.0
            # 2 kW drawn from the battery by its owner (a whole slot), and its leakage
            assert usage[1][1] == pytest.approx(2.0 + leak, abs=0.01)
            event = await vtn.create_event(values=(3.0,) * 4, start_in=timedelta(hours=2))
            hooks = process.hooks

            def planned_with_the_rm() -> bool:
                outcome = hooks.outcomes.get(name)  # type: ignore[union-attr]
                return outcome is not None and outcome.schedule_kw and max(map(abs, outcome.schedule_kw)) <= 5.0 + 1e-6

            await eventually(lambda: process.cem.following(name, "battery") is True, timeout=120, what="instructions accepted")
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
                min(s.slot for s in state.held.values()) <= datetime.now(UTC) < min(s.slot for s in state.held.values()) + QUARTER
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


async def test_a_flexmeasures_schedule_reaches_an_s2_pv_roof_as_power_envelopes(sqlite_url, tmp_path, flexmeasures):
    place = {"latitude": 14.6, "longitude": _noon_longitude(datetime.now(UTC))}
    # paid for its export (up to 3 kVA), the roof is planned to produce: something to bound in each envelope
    async with s2_site_ven(
        sqlite_url, tmp_path, flexmeasures, PV_TOKEN, feed_in_price_per_kwh=0.1, asset=PV, export_kva=3.0, **place
    ) as ven:
        process, name = ven.process, ven.name
        assert process.cem is not None and process.hooks is not None
        async with running_rm(ven.url, PV_TOKEN, control="pebc", power_w=5000.0) as rm:
            cem, hooks = process.cem, process.hooks
            await eventually(lambda: cem.following(name, "pv") is True, timeout=120, what="PEBC instructions accepted")
            state = cem.state(name, "pv")
            assert state is not None and state.control_type == "POWER_ENVELOPE_BASED_CONTROL"

            def held_is_latest_schedule() -> bool:
                outcome = hooks.outcomes.get(name)
                return (
                    outcome is not None
                    and bool(state.held)
                    and all(
                        step.kw == round(outcome.schedule_kw[int((step.slot - outcome.start) / QUARTER)], 3)
                        for step in state.held.values()
                    )
                )

            await eventually(held_is_latest_schedule, timeout=120, what="the latest FlexMeasures schedule held at the RM")
            by_id = {str(i.id): i for i in rm.received.pebc}
            for step in state.held.values():
                (envelope,) = by_id[step.id].power_envelopes
                (element,) = envelope.power_envelope_elements
                # produce at most what the schedule lets it (production negative), never consume; within the RM's 5 kW
                assert element.lower_limit == pytest.approx(max(step.kw, -5.0) * 1000, abs=1.0)
                assert element.upper_limit == 0.0 and by_id[step.id].execution_time == step.slot
            assert any(step.lower_kw < -0.1 for step in state.held.values()), "FlexMeasures planned no production at noon"
