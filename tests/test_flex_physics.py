"""Flexibility judged at the meter (issue: every grid signal moves each site the way, and by the amount, that it
asks): each scenario family goes through our VTN and VEN process to a real FlexMeasures, and simulated devices
obey what it dispatches (tests/support/physics.py). Every property of every site must hold; the failure
message is the scenario's table, as `bench/flex_physics.py` prints it."""

from datetime import timedelta

import pytest

from tests.support.physics import PhysicsRun, judge, scenarios
from tests.support.physics_table import table
from ven.config import FlexMeasuresSettings
from ven.site import utc_now

pytestmark = pytest.mark.flexmeasures


async def test_every_scenario_family_holds_at_the_meter(flexmeasures, sqlite_url, tmp_path):
    settings = FlexMeasuresSettings(flexmeasures.base_url, flexmeasures.email, flexmeasures.password, timedelta(seconds=120))
    planned = scenarios(utc_now())
    results = await PhysicsRun(settings, sqlite_url, tmp_path, planned).run(say=lambda _line: None)
    failed = []
    for scenario in planned:
        runs = results[scenario.name]
        assert runs, f"{scenario.name}: no site took part"
        judge(scenario, runs)
        failed += [(scenario.name, run.site.name, name) for run in runs for name, holds, _ in run.checks if not holds]
    assert not failed, "\n".join(table(planned, results))
