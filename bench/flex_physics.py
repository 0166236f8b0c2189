"""Flexibility at the meter: every scenario family (EDF SEI alert, price peak, up-modulation, a delta against an
eiEventBaseline, a PV export cap, a DSO cap against an aggregator's order) through our VTN and our VEN process
to a real FlexMeasures 1.0.1, with one site of each kind from config/sites.toml under the shipped
config/ven.toml; simulated devices obey what FlexMeasures dispatches (tests/support/physics.py). Prints, per
scenario and site, the import before, during and after the events against the baseline (the same site under
the plan it had before the events), the lowest state of charge, the highest export, and each property with
PASS/FAIL. Exit status 1 when a property fails. FlexMeasures is started here (~60 s) and stopped at the end.

    .venv/bin/python bench/flex_physics.py
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support is not an installed package

from tests.support.flexmeasures import flexmeasures_server  # noqa: E402
from tests.support.physics import PhysicsRun, judge, scenarios  # noqa: E402
from tests.support.physics_table import table  # noqa: E402
from ven.config import FlexMeasuresSettings  # noqa: E402
from ven.site import utc_now  # noqa: E402

T0 = time.monotonic()


def say(message: str) -> None:
    """Progress line with the seconds since the bench started."""
    print(f"[{time.monotonic() - T0:6.1f} s] {message}", flush=True)


def main() -> int:
    """Start FlexMeasures, run every scenario, print the table; FlexMeasures is stopped whatever happens."""
    work = Path(tempfile.mkdtemp(prefix="cariflex-physics-"))
    planned = scenarios(utc_now())
    try:
        with flexmeasures_server(work / "flexmeasures", echo=lambda line: say(f"  {line}")) as fm:
            settings = FlexMeasuresSettings(fm.base_url, fm.email, fm.password, timedelta(seconds=120))
            run = PhysicsRun(settings, f"sqlite:///{work / 'vtn.db'}", work, planned)
            results = asyncio.run(run.run(say=say))
    except KeyboardInterrupt:
        say("interrupted: FlexMeasures stopped and its database dropped")
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for scenario in planned:
        judge(scenario, results[scenario.name])
    print("\n".join(table(planned, results)))
    checks = [holds for runs in results.values() for run in runs for _name, holds, _detail in run.checks]
    print(f"\n{sum(checks)}/{len(checks)} properties hold")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
