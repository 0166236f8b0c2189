"""French grid operators' signals → OpenADR events: pure translations, one module per signal kind.

Martinique's: `sei_peak` (EDF SEI, system operator and DSO of the island). Mainland France's, for
mainland programs only: `ecowatt` and `tempo` (RTE), `local_flex` (Enedis), `nebco` (RTE). Each adapter
module has `translate(body, settings[, directory]) → Translation`; `common` holds what they share
(`AdapterSettings`, `EventSpec`, `Translation` and the field checks, on `mapping.grid`'s 15-minute
slots); `zones` shares a zone's kW among its registered sites (`ZoneDirectory`, by available flexibility).
"""

from mapping.dso import ecowatt, local_flex, nebco, sei_peak, tempo, zones
from mapping.dso.common import AdapterSettings, EventSpec, Translation

__all__ = ["AdapterSettings", "EventSpec", "Translation", "ecowatt", "local_flex", "nebco", "sei_peak", "tempo", "zones"]
