"""The `cariflex` command: every sub-command has --help; bad configuration fails with one message
naming the key; commands that create things create and upgrade the store (tests/test_cli_store.py: reads never do)."""

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mapping.settings import ConfigError
from ven.config import load_config as load_ven_config
from vtn.config import load_config
from vtn.domain import VenRecord
from vtn.store import repository as repo
from vtn.store.database import upgrade
from vtn.store.worker import StoreWorker

pytestmark = pytest.mark.external  # `cariflex` commands as processes

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    [],
    ["vtn"],
    ["db"],
    ["db", "upgrade"],
    ["event"],
    ["event", "create"],
    ["event", "list"],
    ["event", "show"],
    ["event", "modify"],
    ["event", "cancel"],
    ["vens"],
    ["vens", "list"],
    ["vens", "reregister"],
    ["vens", "cancel-registration"],
    ["vens", "group"],
    ["reports"],
    ["reports", "request"],
    ["reports", "cancel"],
    ["reports", "list"],
    ["reports", "data"],
    ["opts"],
]


def _cariflex(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cariflex.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "cariflex")
def test_every_command_has_help(command):
    done = _cariflex(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: cariflex" in done.stdout


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[vtn]\nport = "eighty"\n', "vtn.port: expected an integer"),
        ('[vtn]\npoll_interval = "10 seconds"\n', "vtn.poll_interval: expected an ISO 8601 duration"),
        ("[vtn]\nvtn_idd = 'x'\n", "vtn.vtn_idd: unknown key"),
        (
            '[store]\nurl = "env:CARIFLEX_NO_SUCH_VARIABLE"\n',
            "store.url: environment variable CARIFLEX_NO_SUCH_VARIABLE is not set",
        ),
        ("[[programs]]\nmarket_context = 'http://x'\n", "programs[0].program_id: expected a non-empty string"),
        ("[groups]\nnorth = 'site-01'\n", "groups.north: expected a list of strings"),
        ("[vtn\n", "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path, toml, message):
    path = tmp_path / "config" / "vtn.toml"
    path.parent.mkdir()
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        load_config(path)
    done = _cariflex("vtn", "--config", str(path))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_shipped_configurations_are_valid():
    for name in ("vtn.toml", "vtn.example.toml"):
        config = load_config(ROOT / "config" / name)
        assert config.vtn_id == "CARIFLEX-VTN" and config.programs
    ven = load_ven_config()
    assert ven.sites[0].opt.programs == ("http://cariflex.mq/programs/*",) and ven.curtailment.baseline.method == "rectangle"
    assert len(ven.sites) == 40 and {s.asset["kind"] for s in ven.sites} == {"pv", "battery", "evse", "v2g"}
    assert all(14.3 < s.latitude < 14.9 and -61.3 < s.longitude < -60.8 for s in ven.sites)  # Martinique


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        ('[[sites]]\nname = "a"\ncontracted_kva = "lots"\n', "sites[0].contracted_kva: expected a number"),
        ('[[sites]]\nname = "a"\ncolour = "red"\n', "sites[0].colour: unknown key"),
        ('[[sites]]\nname = "a"\n[[sites]]\nname = "a"\n', "two sites share a name"),
        ('[[sites]]\nname = "a"\n[sites.opt]\nprograms = "all"\n', "sites[0].opt.programs: expected a list of non-empty strings"),
        (
            '[[sites]]\nname = "a"\n[sites.opt]\non_breach = "shrug"\n',
            "sites[0].opt.on_breach: expected one of log, partial, optOut",
        ),
        ('[[sites]]\nname = "a"\ntelemetry = "pigeon"\n', "sites[0].telemetry: expected one of mqtt, flexmeasures"),
        (
            '[[sites]]\nname = "a"\n[sites.asset]\nkind = "battery"\ncapacity_kwh = 0\n',
            "sites[0].asset.capacity_kwh: must be a positive number",
        ),
        ('[[sites]]\nname = "a"\n[sites.asset]\ncapacity_kwh = 10\n', "sites[0].asset.kind"),
        ('[[sites]]\nname = "a"\n[sites.asset]\nkind = "ev"\n', "sites[0].asset.kind: expected one of battery"),
        ('[[sites]]\nname = "a"\n[sites.asset]\nkind = "v2g"\nreserve_percent = 120\n', "sites[0].asset.reserve_percent"),
        (
            '[[sites]]\nname = "a"\n[sites.asset]\nkind = "evse"\narrival = "late"\n',
            "sites[0].asset.arrival: expected a local time",
        ),
    ],
)
def test_bad_sites_file_names_the_key(tmp_path, sites, message):
    path = tmp_path / "sites.toml"
    path.write_text(sites)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_ven_config(sites_path=path)


def test_db_upgrade_creates_and_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for _ in range(2):
        done = _cariflex("db", "upgrade", "--db", url)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "fresh.db").exists()


def test_event_create_refuses_an_unknown_signal_with_a_reason(tmp_path):
    done = _cariflex(
        "event", "create", "--db", f"sqlite:///{tmp_path / 'e.db'}", "--program", "sei-evening-peak", "--signal", "LOUDNESS:level"
    )
    assert done.returncode == 1
    assert "is not a 2.0b signal name" in done.stderr


def test_output_cut_short_by_its_reader_is_not_an_error(tmp_path):
    """`cariflex vens list | head -1` with more VENs than a pipe holds: the command ends quietly once `head`
    has gone (no BrokenPipeError traceback; exit 141, as a command stopped by SIGPIPE)."""
    url = f"sqlite:///{tmp_path / 'many.db'}"
    upgrade(url)
    store = StoreWorker(url)
    now = datetime.now(UTC)
    for i in range(3000):
        store.call_sync(repo.save_ven, VenRecord(f"ven-{i:05}-{'x' * 40}", f"site-{i:05}", f"reg-{i}"), now, True)
    store.close()
    done = subprocess.run(
        f"set -o pipefail; '{sys.executable}' -m cariflex.cli vens list --db '{url}' | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        executable="/bin/bash",
    )
    assert done.stdout.startswith("ven-00000-"), done.stdout
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
