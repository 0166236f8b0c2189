#!/usr/bin/env python3
"""Création des assets: the platform seed's entry point for FlexMeasures, which is `cariflex provision`.

It creates (or finds: it is idempotent) every site's building asset at its commune, its device asset, DSO
limit and price sensors, stored flex-context and flex-model in FlexMeasures, from config/sites.toml and
config/ven.toml, and prints their ids as JSON. There is no second implementation: it calls the `cariflex`
command's own entry point with `provision` and passes every argument through unchanged, so its options,
output, errors and exit codes are those of `cariflex provision` (docs/deployment.md, "The platform around
the gateway").

    export CARIFLEX_FM_PASSWORD=...        # the FlexMeasures user's password
    .venv/bin/python scripts/init_flexmeasures_db.py --flexmeasures-url http://127.0.0.1:5000 --email you@example.com
"""

import sys

HELP_FLAGS = ("-h", "--help")


def main(argv: list[str]) -> int:
    """Run `cariflex provision` with `argv`; with -h/--help, say first what this script is."""
    try:
        from cariflex.cli import main as cariflex
    except ImportError as exc:
        print(
            f"error: the cariflex package cannot be imported ({exc}): run this script with the project's venv, "
            "`.venv/bin/python scripts/init_flexmeasures_db.py` (`make venv` creates it)",
            file=sys.stderr,
        )
        return 2
    if any(flag in argv for flag in HELP_FLAGS):
        print(__doc__.split("\n\n")[0] + "\nIts options are those of `cariflex provision`:\n")
    return cariflex(["provision", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
