"""A ven.toml written for a test (with a one-site sites.toml beside it) and loaded as `cariflex ven` would."""

from pathlib import Path

from ven.config import VenConfig, load_config


def load_ven_toml(tmp_path: Path, text: str) -> VenConfig:
    """Write `text` as tmp_path/config/ven.toml (sites.toml: one site, site-1) and load it."""
    (tmp_path / "config").mkdir(exist_ok=True)
    sites = tmp_path / "config" / "sites.toml"
    sites.write_text('[[sites]]\nname = "site-1"\n')
    path = tmp_path / "config" / "ven.toml"
    path.write_text(text)
    return load_config(path, sites)
