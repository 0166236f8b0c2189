"""`cariflex ven`: run the site VENs of config/sites.toml, or one VEN against any VTN."""

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from ven.config import SiteConfig, load_config


def register(commands: Any) -> None:
    """Add `ven` to the `cariflex` parser."""
    ven = commands.add_parser(
        "ven",
        help="run site VENs",
        description="Run every site VEN of the sites file (default config/sites.toml), or a single VEN with --ven-name.",
    )
    ven.add_argument("--config", type=Path, default=None, help="VEN configuration (default config/ven.toml)")
    ven.add_argument("--sites", type=Path, default=None, help="sites file (default: sites_file of the configuration)")
    ven.add_argument(
        "--vtn-url", default=None, help="base URL of the VTN's 2.0b services, e.g. http://127.0.0.1:8080/OpenADR2/Simple/2.0b"
    )
    ven.add_argument("--ven-name", default=None, help="run one VEN with this oadrVenName and default settings")
    ven.add_argument("--vtn-id", default=None, help="vtnID the VTN must announce (overrides the configuration)")
    ven.add_argument("--any-vtn-id", action="store_true", help="accept whatever vtnID the VTN announces")
    ven.add_argument("--store", type=Path, default=None, help="local state file (default var/ven.db)")
    ven.set_defaults(run=_run)

    provision = commands.add_parser(
        "provision",
        help="create the sites' assets and sensors in FlexMeasures (idempotent)",
        description="Create (or find) every site's assets, sensors, stored flex-context and flex-model in FlexMeasures.",
    )
    provision.add_argument("--config", type=Path, default=None, help="VEN configuration (default config/ven.toml)")
    provision.add_argument("--sites", type=Path, default=None, help="sites file (default: sites_file of the configuration)")
    provision.add_argument("--flexmeasures-url", default=None, help="FlexMeasures URL (overrides [flexmeasures] url)")
    provision.add_argument("--email", default=None, help="FlexMeasures user (overrides [flexmeasures] email)")
    provision.set_defaults(run=_run_provision)


def _run(args: argparse.Namespace) -> int:
    import uvloop

    from ven.runner import serve

    config = load_config(args.config, args.sites, vtn_url=args.vtn_url, store_path=args.store)
    if args.vtn_id:
        config = replace(config, vtn_id=args.vtn_id)
    if args.any_vtn_id:
        config = replace(config, vtn_id=None)
    if args.ven_name:
        config = replace(config, sites=(SiteConfig(name=args.ven_name, ven_name=args.ven_name),))
    uvloop.run(serve(config))
    return 0


def _run_provision(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import os
    import sys

    from ven.config import FlexMeasuresSettings
    from ven.flexmeasures.link import client_for
    from ven.flexmeasures.provision import provision

    config = load_config(args.config, args.sites)
    settings = config.flexmeasures
    if args.flexmeasures_url or args.email:
        password = os.environ.get("CARIFLEX_FM_PASSWORD")
        if not password:
            print("error: set CARIFLEX_FM_PASSWORD to the FlexMeasures user's password", file=sys.stderr)
            return 2
        settings = FlexMeasuresSettings(args.flexmeasures_url or settings.url, args.email or settings.email, password)
    if settings is None:
        print(
            "error: FlexMeasures is not configured: set [flexmeasures] enabled = true, or give --flexmeasures-url",
            file=sys.stderr,
        )
        return 2

    async def run() -> dict:
        client = client_for(settings)
        try:
            assets = await provision(client, config.sites)
        finally:
            await client.close()
        return {
            name: {"site_asset": a.site_asset_id, "device_asset": a.device_asset_id, "sensors": a.sensors}
            for name, a in assets.items()
        }

    print(json.dumps(asyncio.run(run()), indent=1))
    return 0
