"""S2 pairing in the demo: a fresh token for each S2 device at every run, written into the demo's own copy of
config/sites.toml as an `env:` reference (the token itself reaches the VENs through their environment and the site
simulator's RMs in memory, never a file).
"""

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import replace

from ven.api import SiteConfig

#: the environment variable that carries a site's pairing token to the VENs
TOKEN_VARIABLE = "CARIFLEX_DEMO_S2_TOKEN_{site}"


def token_variable(site: str) -> str:
    """The environment variable of `site`'s token (site-11 → CARIFLEX_DEMO_S2_TOKEN_SITE_11)."""
    return TOKEN_VARIABLE.format(site=re.sub(r"[^A-Z0-9]", "_", site.upper()))


def new_tokens(sites: Iterable[SiteConfig], kinds: Iterable[str]) -> dict[str, str]:
    """A new pairing token for every site whose device is of one of `kinds`, by site name."""
    wanted = set(kinds)
    return {site.name: secrets.token_urlsafe(24) for site in sites if site.asset.get("kind") in wanted}


def paired_sites_text(sites_toml: str, tokens: Mapping[str, str]) -> str:
    """`sites_toml` (config/sites.toml's text) with `s2_token = "env:…"` after the `name` line of each site in
    `tokens`. ValueError when a site of `tokens` has no `name = "…"` line to put it after."""
    missing = set(tokens)

    def add(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in tokens:
            return found.group(0)
        missing.discard(name)
        return f'{found.group(0)}\ns2_token = "env:{token_variable(name)}"'

    text = re.sub(r'^name = "([^"]+)"$', add, sites_toml, flags=re.MULTILINE)
    if missing:
        raise ValueError(f'no `name = "…"` line for {", ".join(sorted(missing))} in the sites file')
    return text


def token_environment(tokens: Mapping[str, str]) -> dict[str, str]:
    """The VENs' environment entries that carry the tokens."""
    return {token_variable(site): token for site, token in tokens.items()}


def with_tokens(sites: Iterable[SiteConfig], tokens: Mapping[str, str]) -> tuple[SiteConfig, ...]:
    """`sites` with their pairing tokens (the simulator's RMs present them)."""
    return tuple(replace(site, s2_token=tokens.get(site.name)) for site in sites)
