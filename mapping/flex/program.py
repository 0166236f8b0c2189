"""What a program's signals ask of a site: the rules a VEN applies per program (marketContext). Pure.

A signal asks for a change against what the site would have done (its expected load), never against its
subscription. The program decides how much a SIMPLE level sheds, whether it pays for export, and how much
preparation (pre-charging) it allows before an event. docs/flexmeasures.md gives the Martinique defaults.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from mapping.refusal import Refused

#: Martinique default: SIMPLE 0 (normal) sheds nothing; VIGILANCE (1) a fifth, ORANGE (2) half, RED (3) all
#: of the site's flexible load
DEFAULT_SIMPLE_SHED = (0.0, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class ProgramRules:
    """How one program's signals turn into requests on a site's import."""

    #: the share of the site's flexible load a SIMPLE level 0, 1, 2, 3 asks it to shed
    simple_shed: tuple[float, float, float, float] = DEFAULT_SIMPLE_SHED
    #: whether the program asks for (and pays) export: a target below zero is refused otherwise
    allow_export: bool = False
    #: how long before an event its preparation window starts (pre-charging is limited in it)
    preparation: timedelta = timedelta(hours=2)
    #: how far above its expected load a site may import in the preparation window (kW)
    preparation_margin_kw: float = 0.0
    #: after an event that asks for a reduction, how long the import stays at most the expected load plus
    #: `preparation_margin_kw`, so that storage refills later instead of rebounding at once (an event's own
    #: eiEvent recovery period, when it gives one, is used instead)
    recovery: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class Programs:
    """The rules of each program a site takes part in, by marketContext (an entry ending in * is a prefix)."""

    default: ProgramRules = ProgramRules()
    by_context: Mapping[str, ProgramRules] = field(default_factory=dict)

    def rules(self, market_context: str) -> ProgramRules:
        """The rules of `market_context`: an exact entry, else the longest matching prefix, else the default."""
        if market_context in self.by_context:
            return self.by_context[market_context]
        prefixes = [p for p in self.by_context if p.endswith("*") and market_context.startswith(p[:-1])]
        return self.by_context[max(prefixes, key=len)] if prefixes else self.default


def check_rules(rules: ProgramRules) -> ProgramRules:
    """`rules` when they make sense, else Refused naming the field."""
    if len(rules.simple_shed) != 4 or any(not 0.0 <= share <= 1.0 for share in rules.simple_shed):
        raise Refused("simple_shed", "expected four shares between 0 and 1 (SIMPLE levels 0, 1, 2, 3)")
    if list(rules.simple_shed) != sorted(rules.simple_shed):
        raise Refused("simple_shed", "a higher SIMPLE level cannot shed less than a lower one")
    if rules.preparation < timedelta(0):
        raise Refused("preparation", "must not be negative")
    if rules.recovery < timedelta(0):
        raise Refused("recovery", "must not be negative")
    if rules.preparation_margin_kw < 0:
        raise Refused("preparation_margin_kw", "must not be negative")
    return rules
