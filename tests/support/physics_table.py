"""The scenario table of tests/support/physics.py: per scenario and site, the import before, during and after
the events against the baseline, state of charge, export, and each property with whether it holds."""

from datetime import timedelta

from tests.support.physics import MQ, Scenario, SiteRun

#: how long before and after the events the table looks
AROUND = timedelta(hours=2)


def _row(run: SiteRun, scenario: Scenario) -> str:
    start, end = scenario.window
    before = run.mean(run.import_kw, start - AROUND, start)
    during = run.mean(run.import_kw, start, end)
    after = run.mean(run.import_kw, end, end + AROUND)
    base = (
        run.mean(run.baseline_kw, start - AROUND, start),
        run.mean(run.baseline_kw, start, end),
        run.mean(run.baseline_kw, end, end + AROUND),
    )
    export = max(0.0, -min(run.import_kw))
    soc = f"{min(run.soc_kwh):5.1f}" if run.kind != "pv" else "    -"
    return (
        f"  {run.site.name:<8} {run.kind:<7} {run.opt:<6} "
        f"{before:6.2f} {during:6.2f} {after:6.2f}   {base[0]:6.2f} {base[1]:6.2f} {base[2]:6.2f}   "
        f"{base[1] - during:+6.2f}  {soc}  {export:5.2f}"
    )


def table(scenarios: list[Scenario], results: dict[str, list[SiteRun]]) -> list[str]:
    """The printed lines: a header, then per scenario its sites and their properties (PASS/FAIL)."""
    lines = [
        "import kW (mean): before = the 2 h before the events, during, after = the 2 h after; baseline = the same site",
        "under the plan it had before the events; Δ = baseline − import during; SoC = lowest kWh; export = highest kW",
        f"  {'site':<8} {'kind':<7} {'opt':<6} {'before':>6} {'during':>6} {'after':>6}   "
        f"{'base b':>6} {'base d':>6} {'base a':>6}   {'Δ':>6}  {'SoC':>5}  {'export':>5}",
    ]
    for scenario in scenarios:
        start, end = scenario.window
        lines.append(f"{scenario.name}: {scenario.what} ({start.astimezone(MQ):%a %H:%M}–{end.astimezone(MQ):%H:%M} Martinique)")
        for run in results.get(scenario.name, []):
            lines.append(_row(run, scenario))
            for name, holds, detail in run.checks:
                lines.append(f"      {'PASS' if holds else 'FAIL'}  {name}: {detail}")
    return lines
