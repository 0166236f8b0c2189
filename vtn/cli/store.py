"""Which VTN store a `cariflex` command works on, and opening it.

A command takes its store the way the VTN does, from a configuration file's `[store] url`: the file
given with `--config`, else the one the environment variable CARIFLEX_VTN_CONFIG names, else
config/vtn.toml; `--db URL` overrides the file's URL. So `export CARIFLEX_VTN_CONFIG=/etc/cariflex/vtn.toml`
once points every command at the VTN's own store.

Commands that only read, or that act on something already stored (modify, cancel, disable…), open
an existing store and never create one: a wrong URL must not leave an empty store behind that answers
"nothing" to every question. Commands that create things (an event, a client, a user) create or
upgrade the store first, as `cariflex db upgrade` does.
"""

import argparse
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mapping.settings import ConfigError
from vtn.config import DEFAULT_CONFIG, VtnConfig, load_config
from vtn.store import Tx
from vtn.store import repository as repo
from vtn.store.database import StoreUnavailable, require_schema, upgrade
from vtn.store.worker import StoreWorker

#: names the configuration file commands read when --config is not given
CONFIG_ENV = "CARIFLEX_VTN_CONFIG"

#: how to point a command elsewhere, said whenever a store cannot be used
POINTING = (
    f"Point at the VTN's store with --config FILE (its [store] url), --db URL, or {CONFIG_ENV}=FILE; "
    "`make demo` prints the option for its store."
)


def config_args(parser: argparse.ArgumentParser) -> None:
    """Add --config and --db to a sub-command."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"TOML configuration file whose [store] url is used (default: ${CONFIG_ENV}, else config/vtn.toml)",
    )
    parser.add_argument("--db", dest="db_url", default=None, metavar="URL", help="store URL, overrides the file's [store] url")


def config_path(args: argparse.Namespace) -> tuple[Path, str]:
    """The configuration file a command reads, and where that choice came from (for messages)."""
    if args.config is not None:
        return args.config, "--config"
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named), CONFIG_ENV
    return DEFAULT_CONFIG, "the default"


def load(args: argparse.Namespace, **overrides: object) -> VtnConfig:
    """The configuration a command runs with (--config / CARIFLEX_VTN_CONFIG / default, then --db)."""
    path, chosen_by = config_path(args)
    try:
        return load_config(path, db_url=args.db_url, **overrides)
    except ConfigError as exc:
        if chosen_by == CONFIG_ENV:
            raise ConfigError(f"{exc} (the file {CONFIG_ENV} names)") from exc
        raise


def store_origin(args: argparse.Namespace) -> str:
    """Where a command's store URL came from, to follow "that URL": "was given with --db", "is the [store]
    url of /etc/vtn.toml (named by CARIFLEX_VTN_CONFIG)"…"""
    if args.db_url is not None:
        return "was given with --db"
    path, chosen_by = config_path(args)
    why = {"--config": "", CONFIG_ENV: f" (named by {CONFIG_ENV})", "the default": " (the default file)"}[chosen_by]
    return f"is the [store] url of {path}{why}"


@contextmanager
def open_store(args: argparse.Namespace, *, create: bool = False) -> Iterator[tuple[VtnConfig, StoreWorker]]:
    """The configuration and a handle on its store, closed when the block ends. Without `create` the store must
    exist at the newest schema (nothing is created or migrated); with it, it is created or upgraded first. A
    store that cannot be used ends the command with one line saying which store it was and how to name another."""
    config = load(args)
    try:
        if create:
            upgrade(config.db_url)
        else:
            require_schema(config.db_url)
    except StoreUnavailable as exc:
        raise SystemExit(f"error: {exc}; that URL {store_origin(args)}. {POINTING}") from exc
    store = StoreWorker(config.db_url)
    try:
        yield config, store
    finally:
        store.close()


def _unknown(session: Tx, ven_ids: list[str]) -> list[str]:
    known = {ven.ven_id for ven in repo.load_vens_by_id(session, ven_ids)}
    return [ven_id for ven_id in ven_ids if ven_id not in known]


def unknown_vens(store: StoreWorker, flag: str, ven_ids: Iterable[str]) -> str | None:
    """The refusal when some of `ven_ids` (given with `flag`) are no VEN of the store; None when all are."""
    missing = store.call_sync(_unknown, list(dict.fromkeys(ven_ids)))
    if not missing:
        return None
    return f"{flag}: no VEN {', '.join(missing)} in this store; `cariflex vens list` shows the venIDs it knows"
