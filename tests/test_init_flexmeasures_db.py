"""scripts/init_flexmeasures_db.py, the seed's "Création des assets": a thin wrapper over `cariflex provision`.

Its --help says what it is and gives `cariflex provision`'s options (in the pytest process); against the suite's
real FlexMeasures it creates a sites file's assets, and `cariflex provision` run after it with the same arguments
finds exactly those (same ids, same sensors: one implementation).
"""

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from ven.config import FlexMeasuresSettings
from ven.flexmeasures.link import client_for

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "init_flexmeasures_db.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("init_flexmeasures_db", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help_says_what_it_is_and_gives_the_options_of_cariflex_provision(capsys):
    with pytest.raises(SystemExit) as ended:
        _load_script().main(["--help"])
    assert ended.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Création des assets: the platform seed's entry point for FlexMeasures, which is `cariflex provision`.")
    assert "usage: cariflex provision" in out
    for option in ("--config", "--sites", "--flexmeasures-url", "--email"):
        assert option in out


def test_a_bad_option_is_refused_as_cariflex_provision_refuses_it(capsys):
    with pytest.raises(SystemExit) as ended:
        _load_script().main(["--bogus", "x.toml"])
    assert ended.value.code == 2
    assert "cariflex: error: unrecognized arguments: --bogus x.toml" in capsys.readouterr().err


def _sites_toml(path: Path, prefix: str) -> Path:
    path.write_text(
        f'[[sites]]\nname = "{prefix}-battery"\ncommune = "Le Robert"\nlatitude = 14.6775\nlongitude = -60.9406\n'
        '[sites.asset]\nkind = "battery"\nflexmeasures_type = "battery"\ncapacity_kwh = 10.0\npower_kw = 5.0\n\n'
        f'[[sites]]\nname = "{prefix}-pv"\ncommune = "Le Diamant"\nlatitude = 14.4764\nlongitude = -61.0286\n'
        '[sites.asset]\nkind = "pv"\nflexmeasures_type = "solar"\npeak_kw = 3.0\n'
    )
    return path


def _run(command: list[str], args: list[str], password: str) -> dict:
    done = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "CARIFLEX_FM_PASSWORD": password},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    progress, _, ids = done.stdout.partition("\n{\n")  # a line per site, then the ids as JSON
    assert progress.startswith("provisioning "), done.stdout
    return json.loads("{" + ids)


async def test_it_provisions_what_cariflex_provision_then_finds_unchanged(flexmeasures, tmp_path):
    prefix = f"seed-{uuid.uuid4().hex[:6]}"  # new sites: the script must create them
    sites = _sites_toml(tmp_path / "sites.toml", prefix)
    args = ["--sites", str(sites), "--flexmeasures-url", flexmeasures.base_url, "--email", flexmeasures.email]

    seeded = _run([sys.executable, str(SCRIPT)], args, flexmeasures.password)
    provisioned = _run([sys.executable, "-m", "cariflex.cli", "provision"], args, flexmeasures.password)

    assert sorted(seeded) == [f"{prefix}-battery", f"{prefix}-pv"]
    assert provisioned == seeded
    settings = FlexMeasuresSettings(flexmeasures.base_url, flexmeasures.email, flexmeasures.password)
    client = client_for(settings)
    try:
        assets = {a["id"]: a for a in await client.get_assets()}
    finally:
        await client.close()
    robert = assets[seeded[f"{prefix}-battery"]["site_asset"]]
    assert (robert["name"], robert["latitude"], robert["longitude"]) == (f"{prefix}-battery", 14.6775, -60.9406)
    assert assets[seeded[f"{prefix}-pv"]["device_asset"]]["parent_asset_id"] == seeded[f"{prefix}-pv"]["site_asset"]
