"""The `[ui]` section of the VTN configuration."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mapping.settings import ConfigError, Table

DEFAULT_SITES = Path(__file__).resolve().parents[2] / "config" / "sites.toml"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: Martinique is UTC−4 all year (AST, no daylight saving time)
DEFAULT_TIMEZONE = "America/Martinique"


@dataclass(frozen=True)
class UiConfig:
    """Operator UI settings."""

    enabled: bool = True
    #: the sites file the map places VENs from (matched by oadrVenName = site name)
    sites_file: Path = DEFAULT_SITES
    #: a VEN not heard from for this long is shown offline
    offline_after: timedelta = timedelta(minutes=1)
    session_lifetime: timedelta = timedelta(hours=12)
    #: the map's background; None draws the outline and the sites only
    tiles_url: str | None = OSM_TILES
    #: pages show times in this zone (UTC on hover); CSV exports stay in UTC
    timezone: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)


def parse_ui(table: Table, base_dir: Path) -> UiConfig:
    """Validate `[ui]`; a relative sites_file is taken from `base_dir` (like relative SQLite paths)."""
    table.reject_unknown({"enabled", "sites_file", "offline_after", "session_lifetime", "tiles", "tiles_url", "timezone"})
    sites = Path(table.string("sites_file", str(DEFAULT_SITES)))
    zone_name = table.string("timezone", DEFAULT_TIMEZONE)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: a path-like name such as "../x"
        expected = f"an IANA name such as {DEFAULT_TIMEZONE}"
        raise ConfigError(f"{table.path}.timezone: unknown time zone {zone_name!r} ({expected})") from exc
    return UiConfig(
        enabled=table.boolean("enabled", True),
        sites_file=sites if sites.is_absolute() else base_dir / sites,
        offline_after=table.duration("offline_after", "PT1M"),
        session_lifetime=table.duration("session_lifetime", "PT12H"),
        tiles_url=table.string("tiles_url", OSM_TILES) if table.boolean("tiles", True) else None,
        timezone=zone,
    )
