"""`[dso]` configuration: every mistake is refused naming the key."""

import tomllib
from pathlib import Path

import pytest

from mapping.settings import ConfigError
from vtn.config import parse_config


def parse(text: str):
    return parse_config(tomllib.loads(text), Path("/tmp"), {})


def test_a_full_section_is_read():
    config = parse(
        """
[dso]
time_zone = "America/Martinique"
callback_hosts = ["dso.example.mq"]
client_recheck = "PT5S"
[dso.capacity_signal]
dso-capacity = "LOAD_DISPATCH"
[dso.zones]
poste-lamentin = ["site-02", "site-05"]
[dso.signals.tempo]
program = "price"
zones = ["poste-lamentin"]
peak_start = "07:00"
[dso.signals.tempo.prices]
RED = [0.15, 0.75]
"""
    ).dso
    assert config.capacity_signal == {"dso-capacity": "LOAD_DISPATCH"}
    assert config.zones == {"poste-lamentin": ("site-02", "site-05")}
    tempo = config.signals["tempo"]
    assert (tempo.program_id, tempo.zones, tempo.prices, tempo.peak_start.hour) == (
        "price",
        ("poste-lamentin",),
        {"RED": (0.15, 0.75)},
        7,
    )
    assert config.callback_hosts == frozenset({"dso.example.mq"}) and config.client_recheck.total_seconds() == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[dso]\ncolour = "red"\n', "dso.colour: unknown key"),
        ('[dso]\ncurrency = "EUROS"\n', "dso.currency"),
        ('[dso]\ntime_zone = "Mars/Olympus"\n', "dso.time_zone: unknown time zone"),
        ('[dso.capacity_signal]\ndso-capacity = "SIMPLE"\n', "dso.capacity_signal.dso-capacity"),
        ('[dso.signals.weather]\nprogram = "x"\n', "dso.signals.weather: unknown key"),
        ("[dso.signals.tempo]\nzones = []\n", "dso.signals.tempo.program"),
        ('[dso.signals.tempo]\nprogram = "p"\n[dso.signals.tempo.prices]\nPINK = [1, 2]\n', "dso.signals.tempo.prices.PINK"),
        ('[dso.signals.tempo]\nprogram = "p"\npeak_start = "noon"\n', "dso.signals.tempo.peak_start"),
        ('[dso]\ncallback_hosts = "127.0.0.1"\n', "dso.callback_hosts"),
    ],
)
def test_mistakes_name_the_key(text, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse(text)
