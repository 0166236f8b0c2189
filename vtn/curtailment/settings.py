"""How the VTN settles: each program's baseline method, when a figure is final, and which meter is whose.

`[curtailment]` in vtn.toml (docs/curtailment.md, "The VTN settles"): the default method and one per
program (by market context, `mapping.curtailment.settings`), and `final_coverage_percent`. The sites
file gives each site's contracted power and delivery point (`delivery_point`, else its oadrVenName).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mapping.curtailment import ADDITIVE, X_OF_Y, Adjustment, BaselineConfig
from mapping.curtailment.settings import BASELINE_KEYS, program_configs
from mapping.curtailment.settlement import ProgramRules
from mapping.settings import Table
from vtn.site_registry import contracted_kw_by_ven, delivery_points_by_ven

#: the VTN's default: PJM's economic CBL — high 4 of 5 weekdays, symmetric additive adjustment over the
#: 3 hours ending 1 hour before the notice (docs/curtailment.md compares the methods' bias)
DEFAULT_BASELINE = BaselineConfig(X_OF_Y, x=4, y=5, adjustment=Adjustment(ADDITIVE, minutes=180, gap_minutes=60, cap=None))


@dataclass(frozen=True)
class CurtailmentConfig:
    """What `[curtailment]` in vtn.toml says."""

    baseline: BaselineConfig = DEFAULT_BASELINE
    #: market context → the program's method
    programs: Mapping[str, BaselineConfig] = field(default_factory=dict)
    #: a site's figures are final once its measured data cover this share of the event's intervals
    final_coverage: float = 0.9
    #: how statements count delivery: capped at the request, the band that counts as delivered as asked
    rules: ProgramRules = field(default_factory=ProgramRules)

    def method_for(self, market_context: str | None) -> BaselineConfig:
        """The method of the program with `market_context`, else the default."""
        return self.programs.get(market_context or "", self.baseline)


def parse_curtailment(table: Table) -> CurtailmentConfig:
    """`[curtailment]` of vtn.toml."""
    table.reject_unknown(BASELINE_KEYS | {"programs", "final_coverage_percent", "cap_at_requested", "tolerance_percent"})
    baseline, programs = program_configs(table, DEFAULT_BASELINE)
    coverage = table.integer("final_coverage_percent", 90, 0, 100)
    rules = ProgramRules(table.boolean("cap_at_requested", True), table.integer("tolerance_percent", 10, 0, 99) / 100)
    return CurtailmentConfig(baseline, programs, coverage / 100, rules)


@dataclass(frozen=True)
class Settlement:
    """Everything a curtailment figure depends on besides the store: the methods and the sites' contracts and meters."""

    config: CurtailmentConfig = field(default_factory=CurtailmentConfig)
    #: oadrVenName → contracted kW
    contracts: Mapping[str, float] = field(default_factory=dict)
    #: oadrVenName → the delivery point its meter-operator load curves are filed under
    delivery_points: Mapping[str, str] = field(default_factory=dict)

    def delivery_point(self, ven_name: str) -> str:
        """The site's delivery point: the sites file's, else its oadrVenName."""
        return self.delivery_points.get(ven_name, ven_name)


def settlement(config: CurtailmentConfig, sites_file: Path) -> Settlement:
    """The settlement settings of a VTN (its `[curtailment]` and its sites file)."""
    return Settlement(config, contracted_kw_by_ven(sites_file), delivery_points_by_ven(sites_file))
