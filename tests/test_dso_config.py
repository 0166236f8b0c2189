"""`[dso]` configuration: every mistake is refused naming the key; the shipped configurations are
Martinique's, the example shows the mainland's kinds on mainland programs."""

import re
import tomllib
from pathlib import Path

import pytest

from mapping.settings import ConfigError
from vtn.config import load_config, parse_config


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


ROOT = Path(__file__).resolve().parents[1]
MAINLAND_KINDS = {"ecowatt", "tempo", "local-flex", "nebco"}


def _uncommented_mainland(text: str) -> str:
    """The example configuration with its commented-out mainland programs and signal kinds switched on: the
    commented TOML lines of the two mainland paragraphs (from the comment that opens each to the next section)."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith(("# Mainland France (metropolitan) programs", "# The mainland's kinds")):
            inside = True
        elif not line.startswith("#") and line.strip():
            inside = False
        toml_line = re.match(r"# ((?:\[\[?[\w.-]+\]\]?|[\w-]+ = ).*)$", line)  # a table or a key, maybe a comment after
        lines.append(toml_line.group(1) if inside and toml_line else line)
    return "\n".join(lines)


def test_the_default_configuration_has_martinique_programs_only():
    config = load_config(ROOT / "config" / "vtn.toml")
    programs = {p.program_id: p.market_context for p in config.programs}
    assert {"sei-evening-peak", "dso-capacity", "sei-tariff"} <= set(programs)
    assert all(context.startswith("http://cariflex.mq/programs/") for context in programs.values())
    assert {kind: s.program_id for kind, s in config.dso.signals.items()} == {"sei-peak": "sei-evening-peak"}
    assert config.dso.time_zone == "America/Martinique"


def test_the_example_shows_the_mainland_kinds_on_mainland_programs():
    text = (ROOT / "config" / "vtn.example.toml").read_text()
    assert MAINLAND_KINDS.isdisjoint(parse(text).dso.signals)  # off as shipped
    config = parse(_uncommented_mainland(text))
    programs = {p.program_id: p.market_context for p in config.programs}
    fed = {kind: s.program_id for kind, s in config.dso.signals.items()}
    assert set(fed) == MAINLAND_KINDS | {"sei-peak"} and fed["sei-peak"] == "sei-evening-peak"
    for kind in MAINLAND_KINDS:
        assert fed[kind].startswith("mainland-") and programs[fed[kind]].startswith("http://cariflex.fr/programs/mainland-")
    assert fed["local-flex"] == fed["nebco"]  # two mechanisms on one program: they coexist (docs/vtn.md)
    assert config.dso.signals["tempo"].prices["RED"] == (0.1568, 0.7562)
