"""Which store a `cariflex` command uses, and what it says when it cannot: reads never create a store, a
missing one is named in one line with how to point at another (--config, --db, CARIFLEX_VTN_CONFIG);
`db upgrade` says what it did or what is missing; unknown venIDs are refused; `reports curtailment
--format table` prints the demo's table."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command

from cariflex.cli import main
from mapping.grid import QUARTER as Q
from tests.support.curtailment_store import store_event, store_report
from tests.support.databases import pg_url
from vtn.cli.store import CONFIG_ENV
from vtn.domain import VenRecord
from vtn.store import repository as repo
from vtn.store.database import alembic_config, newest_revision, upgrade
from vtn.store.worker import StoreWorker

pytestmark = pytest.mark.external  # `cariflex` commands as processes

#: commands that read, or act on something stored: none may create a store
EXISTING_ONLY = [
    ["event", "list"],
    ["event", "show", "evt-1"],
    ["event", "modify", "evt-1", "--values", "1"],
    ["event", "cancel", "evt-1"],
    ["vens", "list"],
    ["vens", "reregister", "ven-1"],
    ["vens", "cancel-registration", "ven-1"],
    ["reports", "request", "--ven", "ven-1", "--report", "TELEMETRY_USAGE"],
    ["reports", "cancel", "rr-1"],
    ["reports", "list"],
    ["reports", "data"],
    ["reports", "curtailment", "evt-1"],
    ["opts"],
    ["dso", "client", "list"],
    ["dso", "client", "disable", "edf-sei"],
    ["user", "list"],
]


def cariflex(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `cariflex ARGS` in-process: (exit status, stdout, stderr), a SystemExit's message on stderr as Python prints it."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """A store at the newest schema with one registered VEN, ven-1 (site-01)."""
    url = f"sqlite:///{tmp_path / 'vtn.db'}"
    upgrade(url)
    store = StoreWorker(url)
    store.call_sync(repo.save_ven, VenRecord("ven-1", "site-01", "reg-1"), datetime.now(UTC), True)
    store.close()
    yield url


@pytest.mark.usefixtures("no_env_config")
@pytest.mark.parametrize("command", EXISTING_ONLY, ids=" ".join)
def test_a_command_on_a_missing_store_creates_nothing_and_says_where_it_looked(capsys, tmp_path, command):
    folder = tmp_path / "nowhere"
    url = f"sqlite:///{folder / 'vtn.db'}"
    code, out, err = cariflex(capsys, *command, "--db", url)
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err  # one line
    assert err.startswith(f"error: no VTN store at {url} (nothing created); that URL was given with --db.")
    assert "--config FILE" in err and "--db URL" in err and CONFIG_ENV in err
    assert not folder.exists()


@pytest.mark.usefixtures("no_env_config")
def test_a_file_without_the_schema_is_not_a_store_and_is_left_alone(capsys, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    code, _out, err = cariflex(capsys, "event", "list", "--db", f"sqlite:///{empty}")
    assert code == 1 and "holds no VTN store (no schema; nothing created)" in err
    assert empty.stat().st_size == 0


@pytest.mark.usefixtures("no_env_config")
def test_a_store_at_an_older_schema_is_read_only_after_db_upgrade(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    previous = str(int(newest_revision()) - 1).zfill(4)
    command.upgrade(alembic_config(url), previous)
    code, _out, err = cariflex(capsys, "vens", "list", "--db", url)
    assert code == 1 and f"is at schema revision {previous}, this version needs {newest_revision()}" in err
    assert "cariflex db upgrade" in err
    code, out, _err = cariflex(capsys, "db", "upgrade", "--db", url)
    assert (code, out) == (0, f"{url}: upgraded the schema from revision {previous} to {newest_revision()}\n")
    assert cariflex(capsys, "vens", "list", "--db", url)[0] == 0


@pytest.mark.usefixtures("no_env_config")
def test_db_upgrade_says_whether_it_created_or_found_the_schema(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'vtn.db'}"
    created = f"{url}: created the schema (revision {newest_revision()})\n"
    assert cariflex(capsys, "db", "upgrade", "--db", url)[:2] == (0, created)
    assert cariflex(capsys, "db", "upgrade", "--db", url)[:2] == (
        0,
        f"{url}: already at the newest schema (revision {newest_revision()})\n",
    )


def test_the_store_comes_from_the_file_cariflex_vtn_config_names(capsys, tmp_path, store_url, monkeypatch):
    config = tmp_path / "etc" / "vtn.toml"
    config.parent.mkdir()
    config.write_text(f'[store]\nurl = "{store_url}"\n')
    monkeypatch.setenv(CONFIG_ENV, str(config))
    code, out, _err = cariflex(capsys, "vens", "list")
    assert code == 0 and out.startswith("ven-1  site-01  registered reg-1")
    # --db still wins, and a missing store is told with the file that named it
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    config.write_text(f'[store]\nurl = "{missing}"\n')
    code, _out, err = cariflex(capsys, "event", "list")
    assert code == 1 and f"that URL is the [store] url of {config} (named by {CONFIG_ENV})" in err
    assert cariflex(capsys, "event", "list", "--db", store_url)[0] == 0
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "no-such.toml"))
    code, _out, err = cariflex(capsys, "event", "list")
    assert code == 2 and f"configuration file not found (the file {CONFIG_ENV} names)" in err


@pytest.mark.usefixtures("no_env_config")
def test_commands_that_create_things_create_the_store(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'vtn.db'}"
    code, out, err = cariflex(capsys, "dso", "client", "add", "edf-sei", "--db", url)
    assert code == 0 and "client_id=edf-sei" in out, err
    assert cariflex(capsys, "dso", "client", "list", "--db", url)[1].startswith("edf-sei\t")


@pytest.mark.usefixtures("no_env_config")
def test_an_unknown_ven_is_refused_by_event_create_and_reports_request_alike(capsys, store_url):
    refusals = []
    for args in (
        ["event", "create", "--program", "sei-evening-peak", "--target-ven", "ven-1", "--target-ven", "ven-123"],
        ["reports", "request", "--ven", "ven-123", "--report", "TELEMETRY_USAGE"],
    ):
        code, out, err = cariflex(capsys, *args, "--db", store_url)
        assert (code, out) == (1, "")
        refusals.append(err.partition(": ")[2])
    flags = ("--target-ven", "--ven")
    for flag, refusal in zip(flags, refusals, strict=True):
        assert refusal == f"{flag}: no VEN ven-123 in this store; `cariflex vens list` shows the venIDs it knows\n"
    assert cariflex(capsys, "event", "list", "--db", store_url)[1] == ""  # nothing was created
    known = ["--program", "sei-evening-peak", "--target-ven", "ven-1"]
    code, out, err = cariflex(capsys, "event", "create", *known, "--db", store_url)
    assert code == 0 and '"event_id"' in out, err


@pytest.mark.usefixtures("no_env_config")
@pytest.mark.parametrize(
    "command", [["reports", "list"], ["reports", "data"], ["reports", "curtailment", "evt-1"], ["opts"]], ids=" ".join
)
def test_a_read_filter_on_an_unknown_ven_is_refused_not_answered_with_nothing(capsys, store_url, command):
    code, out, err = cariflex(capsys, *command, "--ven", "ven-123", "--db", store_url)
    assert (code, out) == (1, "")
    assert err == "error: --ven: no VEN ven-123 in this store; `cariflex vens list` shows the venIDs it knows\n"
    if command != ["reports", "curtailment", "evt-1"]:  # the known VEN is read as before (evt-1 does not exist)
        assert cariflex(capsys, *command, "--ven", "ven-1", "--db", store_url)[0] == 0


@pytest.mark.usefixtures("no_env_config")
def test_reports_curtailment_prints_the_table(capsys, store_url):
    store = StoreWorker(store_url)
    start = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    store_event(store, "evt-1", start, [7.0, 7.0], start - timedelta(hours=1))
    store_report(store, "evt-1", "ven-1", "site-01", start, [(11.0, 7.0), (11.0, 6.5)])
    store_event(store, "evt-2", start + 4 * Q, [7.0], start)
    store.close()
    code, out, _err = cariflex(capsys, "reports", "curtailment", "evt-1", "--format", "table", "--db", store_url)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["site", "requested"]
    assert lines[1].split() == ["site-01", "4.00", "11.00", "6.75", "4.25", "11.00", "106%", "met", "final", "good"]
    assert lines[2].split()[0] == "TOTAL" and lines[3].startswith("baseline: x-of-y: high 4 of 5 weekdays (holidays FR-972")
    assert lines[4].startswith("kW, mean over the event")
    code, out, _err = cariflex(capsys, "reports", "curtailment", "evt-2", "--format", "table", "--db", store_url)
    assert (code, out) == (0, "no curtailment reported yet for event evt-2\n")
    code, out, _err = cariflex(capsys, "reports", "curtailment", "evt-1", "--db", store_url)
    # csv is the default
    assert out.splitlines()[0].endswith(",quality,counted,delivery,ratio,ven_baseline_kw,coverage,final,method")


def _cariflex_process(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "cariflex.cli", *args], capture_output=True, text=True, timeout=120, env=env)


def test_as_a_process_a_missing_store_is_one_line_and_status_1(tmp_path):
    done = _cariflex_process("reports", "curtailment", "evt-1", "--db", f"sqlite:///{tmp_path / 'vtn.db'}")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: no VTN store at") and done.stderr.count("\n") == 1, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "said"),
    [
        (pg_url(f"cfx_missing_{uuid.uuid4().hex[:8]}"), "no PostgreSQL database cfx_missing_"),
        (pg_url("postgres").replace("postgres@", "cfx_nobody@", 1), "no PostgreSQL role cfx_nobody"),
    ],
    ids=["database", "role"],
)
def test_db_upgrade_on_a_missing_postgresql_database_or_role_says_how_to_create_it(url, said):
    done = _cariflex_process("db", "upgrade", "--db", url)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: {said}") and done.stderr.count("\n") == 1, done.stderr
    assert ("createdb -h 127.0.0.1" if "database" in said else "createuser -h 127.0.0.1") in done.stderr
    assert "Traceback" not in done.stderr
