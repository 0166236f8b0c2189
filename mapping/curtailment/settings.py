"""A program's baseline method from its configuration table (ven.toml and vtn.toml share the keys). Pure.

    [curtailment.programs."http://cariflex.mq/programs/edf-sei-peak"]
    method = "x-of-y"                # x-of-y, rectangle, rectangle-double, meter-before-after, control-group, counterfactual
    x = 4                            # x-of-y
    y = 5
    days = "weekdays"                # weekdays, weekends, same-kind, all
    holidays = "FR-972"              # FR-972 (Martinique), FR (mainland), none
    lookback_days = 60
    low_usage_percent = 25
    minutes = 60                     # rectangle family: the reference window
    neutralisation_minutes = 0
    adjustment = "additive"          # none, additive, multiplicative (x-of-y, control-group)
    adjustment_minutes = 180
    adjustment_gap_minutes = 60
    adjustment_cap_percent = 20      # or "none": uncapped

A key left out takes the section's default (the table above the programs), then the method's own.
"""

from mapping.curtailment._common import CurtailmentRefused
from mapping.curtailment.adjustment import Adjustment
from mapping.curtailment.baseline import BaselineConfig
from mapping.settings import ConfigError, Table

BASELINE_KEYS = {
    "method",
    "minutes",
    "neutralisation_minutes",
    "x",
    "y",
    "days",
    "holidays",
    "lookback_days",
    "low_usage_percent",
    "adjustment",
    "adjustment_minutes",
    "adjustment_gap_minutes",
    "adjustment_cap_percent",
}


def _cap(table: Table, default: float | None) -> float | None:
    raw = table.data.get("adjustment_cap_percent")
    if raw is None:
        return default
    if raw == "none":
        return None
    return table.integer("adjustment_cap_percent", 0, 0, 1000) / 100


def baseline_config(table: Table, default: BaselineConfig) -> BaselineConfig:
    """The method `table` configures, each key left out taken from `default`; a refusal names the key."""
    try:
        adjustment = Adjustment(
            table.string("adjustment", default.adjustment.kind),
            table.integer("adjustment_minutes", default.adjustment.minutes, 15),
            table.integer("adjustment_gap_minutes", default.adjustment.gap_minutes, 0),
            _cap(table, default.adjustment.cap),
        )
        return BaselineConfig(
            method=table.string("method", default.method),
            minutes=table.integer("minutes", default.minutes, 15),
            neutralisation_minutes=table.integer("neutralisation_minutes", default.neutralisation_minutes, 0),
            x=table.integer("x", default.x, 1),
            y=table.integer("y", default.y, 1),
            days=table.string("days", default.days),
            holidays=table.string("holidays", default.holidays),
            lookback_days=table.integer("lookback_days", default.lookback_days, 1, 366),
            low_usage_share=table.integer("low_usage_percent", round(default.low_usage_share * 100), 0, 99) / 100,
            adjustment=adjustment,
        )
    except CurtailmentRefused as exc:
        raise ConfigError(f"{table.path}.{exc.field}: {exc.reason}") from exc


def program_configs(table: Table, default: BaselineConfig) -> tuple[BaselineConfig, dict[str, BaselineConfig]]:
    """(the section's default method, market context → the program's method) from a `[curtailment]` table."""
    section_default = baseline_config(table, default)
    programs_table = table.table("programs")
    programs = {}
    for name in programs_table.data:
        program = programs_table.table(name)
        program.reject_unknown(BASELINE_KEYS)
        programs[name] = baseline_config(program, section_default)
    return section_default, programs
