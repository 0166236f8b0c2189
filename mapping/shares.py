"""One quantity shared among sites in proportion to their weights. Pure.

The one split of Cariflex: the aggregator API shares a group's kW by the sites' subscribed power
(`mapping.flexready.sites.split`), the grid operators' zone signals share a zone's kW by the sites'
available flexibility (`mapping.dso.zones`).
"""

import math
from collections.abc import Mapping


def proportional(total: float, weights: Mapping[str, float]) -> dict[str, float]:
    """`total` shared among the keys of `weights` (none negative) in proportion to them; equal shares when
    they are all 0, so that a quantity is never lost. The shares add up to `total`."""
    whole = math.fsum(weights.values())
    if not weights:
        return {}
    if whole <= 0:
        return {key: total / len(weights) for key in weights}
    return {key: total * weight / whole for key, weight in weights.items()}
