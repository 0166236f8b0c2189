"""README.md stays true to the code: every `cariflex` command it shows parses with the real command-line
parser; every short-lived one runs, in order, on a store of the test's; the long-running VTN and VEN
commands start (pointed at the test's database, a free port and the test's VTN), serve, and stop cleanly
on SIGTERM; every `make` target, script and document it names exists. (`cariflex demo` is run by
tests/test_demo.py with `--fast`; `cariflex provision` by it too, through the demo's provisioning of the
same sites; `make test` is what CI runs.)"""

import asyncio
import os
import re
import shlex
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cariflex.cli import parser
from tests.support.databases import fresh_database
from tests.support.eventually import eventually
from tests.support.reports import usage_metadata
from tests.support.vtn_harness import config_for_tests, running_vtn
from tests.support.vtn_process import wait_base_url
from vtn.domain import VenRecord
from vtn.store import report_repository
from vtn.store import repository as repo
from vtn.store.database import upgrade
from vtn.store.worker import StoreWorker

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _shell_lines() -> list[str]:
    """The commands of the README's sh blocks: continuations joined, comments and blank lines dropped."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(" ".join(shlex.quote(w) for w in words))
    return lines


COMMANDS = _shell_lines()
CARIFLEX = [line for line in COMMANDS if line.startswith(".venv/bin/cariflex ")]


def test_the_readme_shows_commands() -> None:
    assert len(CARIFLEX) >= 20 and any(line.startswith("make demo") for line in COMMANDS)


@pytest.mark.parametrize("line", CARIFLEX)
def test_each_cariflex_command_parses(line: str) -> None:
    try:
        args = parser().parse_args(shlex.split(line)[1:])
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"README command does not parse (exit {exc.code}): {line}")
    assert callable(args.run)


def test_every_make_target_and_script_exists() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    named = {word for line in COMMANDS if line.startswith("make ") for word in line.split()[1:2]}
    named |= set(re.findall(r"`make ([\w-]+)", README))
    assert named and named <= targets, named - targets
    scripts = set(re.findall(r"(scripts/[\w./-]+\.(?:sh|py))", README))
    assert scripts and all((ROOT / s).is_file() for s in scripts), scripts


def test_every_linked_document_exists() -> None:
    links = set(re.findall(r"\]\(((?:docs|config)/[^)#]+)\)", README)) | set(re.findall(r"`((?:config|docs)/[\w./-]+)`", README))
    missing = sorted(link for link in links if not (ROOT / link).exists())
    assert links and not missing, missing


#: commands that run until stopped or need a FlexMeasures server: tests/test_demo.py runs the VTN, the VENs and
#: the provisioning (through `cariflex demo`); here they are only parsed
LONG_RUNNING = {"vtn", "ven", "demo", "provision"}
README_VEN = "ven-readme"


def _runnable(line: str) -> list[str]:
    """The README command's arguments, with the flags that point it at the test's store and folders."""
    words = shlex.split(line)[1:]
    while words and words[0].startswith("--"):  # global options (e.g. --log-format json) come before the command
        words = words[2:]
    return words


def _exports() -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)='?([^'\n]*)'?", README, flags=re.M))


@pytest.mark.external  # the README's `cariflex` commands as processes
def test_each_cariflex_command_runs_on_a_store(tmp_path: Path) -> None:
    """Every short-lived command, in the README's order, on one SQLite store: EVENT_ID is the event the README's
    first `event create` makes, VEN_ID a registered VEN; PostgreSQL URLs and output folders point to the test's."""
    url = f"sqlite:///{tmp_path / 'vtn.db'}"
    upgrade(url)
    store = StoreWorker(url)
    now = datetime.now(UTC)
    store.call_sync(repo.save_ven, VenRecord(README_VEN, "site-01", "reg-readme"), now, True)
    store.call_sync(report_repository.replace_descriptions, README_VEN, [usage_metadata()], now)  # as its registration would
    store.close()
    env = {**os.environ, **_exports()}
    cariflex = str(Path(sys.executable).parent / "cariflex")
    # the load curve the README's `meter import` and `baseline` lines read (a meter operator's file)
    (tmp_path / "curves.csv").write_text(
        "delivery_point,start,step,power_kw\n"
        + "".join(f"PDL-README,2026-11-26T{h:02}:00:00-04:00,PT1H,2.5\n" for h in range(24))
    )
    event_id = None
    ran = 0
    for line in CARIFLEX:
        words = _runnable(line)
        if words[0] in LONG_RUNNING:
            continue
        args = [w.replace("VEN_ID", README_VEN).replace("EVENT_ID", event_id or "EVENT_ID") for w in words]
        args = [url if w.startswith("postgresql://") else w for w in args]
        if words[0] == "certs":
            args += ["--out", str(tmp_path / "pki")]
        elif "--db" not in args and words[0] not in STORELESS:
            args += ["--db", url]
        done = subprocess.run([cariflex, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, f"README command failed (exit {done.returncode}): {line}\n{done.stderr}{done.stdout}"
        if words[:2] == ["event", "create"] and event_id is None:
            found = re.search(r"\b((?:event|evt)-[\w-]+)", done.stdout)
            assert found, done.stdout
            event_id = found.group(1)
        ran += 1
    assert ran >= 15 and event_id is not None


#: commands that read files only, never a store
STORELESS = frozenset({"baseline"})


def _long_running(command: str) -> list[str]:
    """The README's `cariflex <command> …` lines that run until stopped."""
    return [line for line in CARIFLEX if _runnable(line)[0] == command]


async def _stops_cleanly(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(process.wait, 60)
    assert code == 0, f"exit {code} after SIGTERM:\n{process.stderr.read() if process.stderr else ''}"


@pytest.mark.external  # a `cariflex vtn` process
@pytest.mark.postgres
async def test_the_readme_vtn_command_serves_on_postgresql_and_stops_cleanly(tmp_path: Path) -> None:
    (line,) = _long_running("vtn")
    with fresh_database("postgresql", tmp_path) as url:
        args = [url if w.startswith("postgresql://") else w for w in _runnable(line)]
        args[args.index("--port") + 1] = "0"  # a free port, not the README's 8443
        cariflex = str(Path(sys.executable).parent / "cariflex")
        process = subprocess.Popen([cariflex, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            base = await asyncio.wait_for(asyncio.to_thread(wait_base_url, process), timeout=120)
            assert base.startswith("http://")
        finally:
            await _stops_cleanly(process)


@pytest.mark.external  # `cariflex ven` processes
async def test_the_readme_ven_commands_register_with_a_vtn_and_stop_cleanly(sqlite_url: str, tmp_path: Path) -> None:
    """Each `cariflex ven` line, pointed at the test's VTN (its URL for the README's 8080 one, or added to the
    line that takes config/ven.toml's) and a store of the test's: its VENs register, and SIGTERM stops it."""
    lines = _long_running("ven")
    assert len(lines) == 3
    sites = re.findall(r'^name = "([^"]+)"', (ROOT / "config" / "sites.toml").read_text(), flags=re.M)
    cariflex = str(Path(sys.executable).parent / "cariflex")
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        url = f"{vtn.base_url}/OpenADR2/Simple/2.0b"
        for index, line in enumerate(lines):
            args = [url if w in ("URL", "http://127.0.0.1:8080/OpenADR2/Simple/2.0b") else w for w in _runnable(line)]
            args = [f"readme-{index}" if w == "NAME" else w for w in args]
            if "--vtn-url" not in args:
                args += ["--vtn-url", url]
            store = tmp_path / f"ven-{index}.db"
            if "--store" in args:
                args[args.index("--store") + 1] = str(store)
            else:
                args += ["--store", str(store)]
            names = {args[args.index("--ven-name") + 1]} if "--ven-name" in args else set(sites)
            process = subprocess.Popen([cariflex, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:

                def registered(wanted: set[str] = names) -> bool:
                    return wanted <= {v.ven_name for v in vtn.ctx.live.vens.values() if v.registered}

                await eventually(registered, f"{line}: VENs {sorted(names)[:3]}… registered", timeout=60)
            finally:
                await _stops_cleanly(process)
