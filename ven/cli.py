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
