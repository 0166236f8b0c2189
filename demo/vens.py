"""The demo's site VENs: their generated configuration (config/ven.toml's defaults with FlexMeasures, MQTT and the S2
CEM on; the demo's copy of config/sites.toml with a pairing token per storage device) and their process."""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from demo.flexmeasures_server import FlexMeasuresServer
from demo.pairing import new_tokens, paired_sites_text, token_environment, with_tokens
from demo.processes import Child, DemoError, start_child, wait_for_line
from demo.progress import say
from demo.s2_devices import S2_KINDS
from ven.api import SiteConfig

#: how long the VENs may take to start their S2 CEM (they log where it listens), seconds
CEM_START = 180.0


@dataclass(frozen=True)
class Vens:
    """The VENs' process, where their S2 CEM listens, and the sites with their pairing tokens."""

    child: Child
    cem_url: str
    sites: tuple[SiteConfig, ...]


def start_vens(
    stack: contextlib.ExitStack,
    data: Path,
    vtn_url: str,
    fm: FlexMeasuresServer,
    sites_toml: Path,
    sites: tuple[SiteConfig, ...],
    mqtt_port: int,
    time_zone: str,
) -> Vens:
    """Write the VENs' configuration, start them (stopped by `stack`) and wait for their S2 CEM. The batteries, EV
    chargers and V2G cars are S2 devices, paired anew at each run; the PV roofs keep MQTT setpoints."""
    tokens = new_tokens(sites, S2_KINDS)
    sites_file = data / "sites.toml"
    sites_file.write_text(paired_sites_text(sites_toml.read_text(), tokens))
    ven_config = write_ven_config(data, vtn_url, fm, sites_file, mqtt_port, time_zone)
    say(
        f"starting the {len(sites)} site VENs (FlexMeasures, MQTT telemetry and setpoints, and an S2 CEM for the "
        f"{len(tokens)} storage devices on; {ven_config})"
    )
    env = {**os.environ, "CARIFLEX_FM_PASSWORD": fm.password, **token_environment(tokens)}
    child = start_child("VENs", ["ven", "--config", str(ven_config)], data / "ven.log", env=env)
    stack.callback(child.stop)
    cem = wait_for_line(child, r"S2 CEM on (ws://\S+/) for (\d+) paired devices", CEM_START)
    if int(cem.group(2)) != len(tokens):
        raise DemoError(f"the VENs' S2 CEM pairs {cem.group(2)} devices, not the {len(tokens)} of {sites_file}; see {child.log}")
    return Vens(child, cem.group(1), with_tokens(sites, tokens))


def write_ven_config(data: Path, vtn_url: str, fm: FlexMeasuresServer, sites_file: Path, mqtt_port: int, time_zone: str) -> Path:
    """The VENs' configuration: config/ven.toml's defaults with FlexMeasures, MQTT and the S2 CEM (on a free port) on,
    in the scenario's time."""
    path = data / "ven.toml"
    path.write_text(
        f"""# Written by `cariflex demo` — config/ven.toml documents every key.
sites_file = "{sites_file}"

[vtn]
url = "{vtn_url}/OpenADR2/Simple/2.0b"
vtn_id = "CARIFLEX-VTN"

[store]
path = "{data / "ven.db"}"

[opt]
programs = ["http://cariflex.mq/programs/*"]

[flexmeasures]
enabled = true
url = "{fm.base_url}"
email = "{fm.email}"
password = "env:CARIFLEX_FM_PASSWORD"
forward_every = "PT30S"

[mqtt]
enabled = true
port = {mqtt_port}

[s2]
enabled = true
port = 0

[flex]
time_zone = "{time_zone}"
"""
    )
    return path
