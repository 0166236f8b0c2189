"""French grid operators' signals → OpenADR events: pure translations, one module per signal kind.

Each adapter module (`ecowatt`, `local_flex`, `nebco`, `sei_peak`, `tempo`) has `translate(body, settings[,
known_zones]) → Translation`; `common` holds what they share (`AdapterSettings`, `EventSpec`,
`Translation` and the field checks, on `mapping.grid`'s 15-minute slots).
"""

from mapping.dso import ecowatt, local_flex, nebco, sei_peak, tempo
from mapping.dso.common import AdapterSettings, EventSpec, Translation

__all__ = ["AdapterSettings", "EventSpec", "Translation", "ecowatt", "local_flex", "nebco", "sei_peak", "tempo"]
