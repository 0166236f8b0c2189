"""What the VTN reads of the platform's sites file (config/sites.toml, shared with the VENs): where
each site is (the UI's map) and its contracted power (what SIMPLE levels and capacity shares mean)."""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: a site without contracted_kva has the VENs' default contract (ven.config.SiteConfig)
DEFAULT_CONTRACTED_KVA = 9.0


def read_sites_file(path: Path) -> list[Mapping[str, Any]]:
    """The `[[sites]]` entries of a sites file; none when it is missing or not TOML (the VTN works without it)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return []
    return [entry for entry in data.get("sites", []) if isinstance(entry, Mapping) and "name" in entry]


def contracted_kw_by_ven(path: Path) -> dict[str, float]:
    """oadrVenName → contracted power in kW (kVA taken as kW, power factor 1, as the VENs do)."""
    found = {}
    for entry in read_sites_file(path):
        kva = entry.get("contracted_kva", DEFAULT_CONTRACTED_KVA)
        if isinstance(kva, int | float) and not isinstance(kva, bool) and kva > 0:
            found[str(entry.get("ven_name", entry["name"]))] = float(kva)
    return found
