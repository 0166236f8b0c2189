"""`cariflex dso spot-prices`: day-ahead price publications (tests/data/spot-prices) imported as ELECTRICITY_PRICE
events of a mainland program in the VTN's store, once per publication; a Martinique program and bad files refused."""

from pathlib import Path

import pytest

from cariflex.cli import main
from mapping.dso.spot import SpotRefused, check_mainland
from tests.support.reference_data import spot_price_file
from vtn.config import load_config
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker

PROGRAMS = """
[[programs]]
program_id = "mainland-spot"
market_context = "http://cariflex.fr/programs/mainland-spot"
name = "EPEX SPOT day-ahead prices (mainland France)"

[[programs]]
program_id = "sei-tariff"
market_context = "http://cariflex.mq/programs/sei-tariff"
name = "EDF SEI regulated tariffs"
"""


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> Path:
    """A VTN configuration with a mainland and a Martinique program, on a SQLite store."""
    path = tmp_path / "vtn.toml"
    path.write_text(f'[store]\nurl = "{sqlite_url}"\n{PROGRAMS}')
    return path


def _import(config: Path, file: Path | str, *more: str) -> int:
    return main(["dso", "spot-prices", str(file), "--config", str(config), *more])


def _signal(url: str, event_id: str) -> tuple[str, list[float], str]:
    store = StoreWorker(url)
    try:
        found = store.call_sync(repo.load_event, event_id)
    finally:
        store.close()
    assert found is not None, event_id
    event = found[0].event
    (signal,) = event.signals
    return event.market_context, [i.value for i in signal.intervals], found[0].source


def test_a44_and_epex_files_become_events_of_the_mainland_program(config, sqlite_url, capsys):
    xml = spot_price_file("entsoe-a44-fr-2025-10-26-pt15m-a01.xml")
    assert _import(config, xml, "--program", "mainland-spot", "--zone", "poste-ivry") == 0
    assert "100 prices (ENTSO-E A44 0b9d8c7e6f5a4b3c2d1e0f9a8b7c6d5e) → events spot-fr-2025-10-26 of mainland-spot" in (
        capsys.readouterr().out
    )
    context, values, source = _signal(sqlite_url, "spot-fr-2025-10-26")
    assert context == "http://cariflex.fr/programs/mainland-spot" and source == "dso:cli/spot-prices"
    assert (len(values), values[0]) == (100, 0.04)
    # the same publication again: nothing new
    assert _import(config, xml, "--program", "mainland-spot") == 0
    assert "already imported: events spot-fr-2025-10-26" in capsys.readouterr().out
    csv = spot_price_file("epex-fr-2026-10-25-hours.csv")
    assert _import(config, csv, "--program", "http://cariflex.fr/programs/mainland-spot") == 0
    _, values, _ = _signal(sqlite_url, "spot-fr-2026-10-25")
    assert len(values) == 100 and values[:4] == [0.07] * 4


def test_a_martinique_program_is_refused_and_nothing_is_stored(config, sqlite_url, capsys):
    xml = spot_price_file("entsoe-a44-fr-2025-03-30-pt60m-a03.xml")
    assert _import(config, xml, "--program", "sei-tariff") == 2
    assert "error: program: sei-tariff is a Martinique program: Martinique (a non-interconnected zone) has no spot market" in (
        capsys.readouterr().err
    )
    store = StoreWorker(sqlite_url)
    try:
        assert store.call_sync(repo.load_event, "spot-fr-2025-03-30") is None
    finally:
        store.close()
    assert _import(config, xml, "--program", "no-such") == 2
    assert "error: --program: no program 'no-such'" in capsys.readouterr().err


def test_a_bad_file_is_refused_naming_the_element(config, tmp_path, capsys):
    bad = tmp_path / "prices.xml"
    bad.write_text(spot_price_file("entsoe-a44-fr-2025-03-30-pt60m-a03.xml").read_text().replace("<type>A44", "<type>A65"))
    assert _import(config, bad, "--program", "mainland-spot") == 2
    assert f"error: {bad}: Publication_MarketDocument/type: 'A65': A44 (day-ahead prices) expected" in capsys.readouterr().err
    assert _import(config, tmp_path / "missing.csv", "--program", "mainland-spot") == 2
    assert "No such file or directory" in capsys.readouterr().err


def test_every_program_of_the_shipped_martinique_configuration_is_refused():
    config = load_config(Path(__file__).resolve().parents[1] / "config" / "vtn.toml")
    assert config.programs
    for program in config.programs:
        with pytest.raises(SpotRefused, match="has no spot market"):
            check_mainland(program.program_id, program.market_context, program.name)
