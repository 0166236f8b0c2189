"""The reporting views (revision 0014) on a real PostgreSQL store filled by the store's own functions, their
documented shape (docs/reporting.md), and the read-only role `cariflex db reporting-role` makes: it reads the
views, and is refused the store's tables and every write."""

import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command

from cariflex.cli import main
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.curtailment_store import store_curve, store_event, store_report
from tests.support.databases import PG_ADMIN_DSN, MigratedTemplates, fresh_database
from vtn.domain import VenRecord
from vtn.store import report_repository as reports
from vtn.store import repository as repo
from vtn.store.database import alembic_config, upgrade
from vtn.store.worker import StoreWorker

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 in Martinique, the 26th
DOCS = Path(__file__).resolve().parents[1] / "docs" / "reporting.md"
#: quotes and a per cent sign: the password reaches PostgreSQL as a literal, not as placeholders
PASSWORD = 'it\'s 100% a "reporting" %s passphrase'
VIEWS = ("events", "deliveries", "opts", "curtailment_daily", "settlement_statements", "settlement_lines")
pytestmark = pytest.mark.postgres


def _admin(**more: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in PG_ADMIN_DSN.split()) | more


@pytest.fixture
def pg(tmp_path: Path, store_templates: MigratedTemplates, role: str) -> Iterator[tuple[str, str]]:
    """(store URL, database name) of a PostgreSQL store at the newest schema (dropped before `role`)."""
    with store_templates.database("postgresql", tmp_path) as url:
        yield url, url.rsplit("/", 1)[1]


@pytest.fixture
def role() -> Iterator[str]:
    """A role name of this test only (roles are the cluster's: shared by every worker), dropped afterwards —
    after the test's database, where its grants are, is dropped."""
    name = f"cfx_reporting_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def filled(pg: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The store after one event: delivered to two sites, one opted in, one out; an availability opt; the VEN's
    curtailment report; a statement issued, then re-issued with a reason."""
    url, _ = pg
    store = StoreWorker(url)
    try:
        store_event(store, "evt-1", T0, [7.0, 7.0], T0 - timedelta(hours=2))
        store_report(store, "evt-1", "ven-1", "site-21", T0, [(11.0, 7.0), (11.0, 9.0)])
        store.call_sync(repo.save_ven, VenRecord("ven-2", "site-22", "reg-ven-2"), T0, True)
        store.call_sync(repo.record_deliveries, [("ven-1", "evt-1", 0, T0 - timedelta(minutes=90))])
        store.call_sync(repo.record_deliveries, [("ven-2", "evt-1", 0, T0 - timedelta(minutes=89))])
        answers = [("ven-1", "optIn"), ("ven-2", "optIn"), ("ven-2", "optOut")]  # ven-2 changed its mind
        for ven_id, opt in answers:
            response = m.EventResponse(200, "OK", f"req-{ven_id}", "evt-1", 0, opt)
            store.call_sync(repo.record_event_responses, ven_id, [response], T0 - timedelta(minutes=80))
        window = (T0 + timedelta(days=1), timedelta(hours=2))
        opt = r.CreateOpt("opt-a", "optOut", "notParticipating", "ven-2", T0, "req-o", None, (window,))
        store.call_sync(reports.save_opt, opt, T0)
        assert main(["settlement", "issue", "--event", "evt-1", "--db", url]) == 0
        # the meter operator corrects the curve (the second quarter hour drew 7.5 kW): a second statement
        store_curve(store, "site-21", T0, 11.0, [7.0, 7.5], T0 + timedelta(days=1))
        assert main(["settlement", "issue", "--event", "evt-1", "--reason", "corrected curve", "--db", url]) == 0
    finally:
        store.close()
    capsys.readouterr()
    return pg


def _rows(url_db: str, query: str, **connect: str) -> list[dict[str, Any]]:
    with psycopg.connect(**_admin(dbname=url_db, **connect)) as conn, conn.cursor() as cursor:
        cursor.execute(query)
        names = [c.name for c in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_views_show_what_the_store_holds(filled):
    _, db = filled
    (event,) = _rows(db, "SELECT * FROM reporting.events")
    assert event["event_id"] == "evt-1" and event["starts_at"] == T0 and event["ends_at"] == T0 + timedelta(minutes=30)
    assert event["duration_minutes"] == 30 and event["signals"] == "x-IMPORT_CAPACITY_LIMIT:setpoint"
    assert str(event["day"]) == "2026-11-26" and event["cancelled"] is False

    deliveries = _rows(db, "SELECT ven_id, site, delivered_at, opt_type, response_code FROM reporting.deliveries ORDER BY ven_id")
    assert [(d["site"], d["opt_type"], d["response_code"]) for d in deliveries] == [
        ("site-21", "optIn", 200),
        ("site-22", "optOut", 200),  # the latest answer counts
    ]
    assert deliveries[0]["delivered_at"] == T0 - timedelta(minutes=90)

    (opt,) = _rows(db, "SELECT * FROM reporting.opts")
    assert (opt["site"], opt["opt_type"], opt["event_id"]) == ("site-22", "optOut", None)
    assert (opt["window_start"], opt["window_end"]) == (T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2))

    (day,) = _rows(db, "SELECT * FROM reporting.curtailment_daily")
    # two quarter hours: baseline 11 + 11 kW, measured 7 + 9 kW → 5.5, 4.0 and 1.5 kWh
    assert (day["site"], str(day["day"]), day["intervals"]) == ("site-21", "2026-11-26", 2)
    assert (day["baseline_kwh"], day["measured_kwh"], day["achieved_kwh"], day["planned_kwh"]) == (5.5, 4.0, 1.5, None)

    first, second = _rows(db, "SELECT * FROM reporting.settlement_statements ORDER BY issued_at")
    assert (first["current"], first["superseded_by"]) == (False, second["statement_id"])
    assert (second["current"], second["supersedes"], second["reason"]) == (True, first["statement_id"], "corrected curve")
    # a line per site the event reached: site-21 asked 4 kW twice, delivered 4 then 2 (3.5 once corrected); site-22 none
    assert (first["lines"], first["requested_kwh"], first["delivered_kwh"], first["shortfall_kwh"]) == (2, 2.0, 1.5, 0.5)
    assert (second["delivered_kwh"], second["final"]) == (1.875, False)
    lines = _rows(db, "SELECT * FROM reporting.settlement_lines WHERE current ORDER BY line_number")
    assert [(row["statement_id"], row["event_id"], row["site"], row["outcome"]) for row in lines] == [
        (second["statement_id"], "evt-1", "site-21", "as asked"),
        (second["statement_id"], "evt-1", "site-22", "no data"),
    ]
    assert (lines[0]["line_number"], str(lines[0]["event_day"]), lines[0]["achieved_kwh"]) == (1, "2026-11-26", 1.875)


def _documented() -> dict[str, list[str]]:
    """view → its columns, in the order docs/reporting.md lists them (`### reporting.<view>` then a table)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if heading := re.fullmatch(r"### `reporting\.(\w+)`.*", line):
            current = found.setdefault(heading[1], [])
        elif current is not None and (cell := re.match(r"\| `(\w+)` \|", line)):
            current.append(cell[1])
    return found


def test_the_views_have_the_documented_columns_in_order(pg):
    _, db = pg
    rows = _rows(
        db,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'reporting' "
        "ORDER BY table_name, ordinal_position",
    )
    actual: dict[str, list[str]] = {}
    for row in rows:
        actual.setdefault(row["table_name"], []).append(row["column_name"])
    assert sorted(actual) == sorted(VIEWS)
    assert _documented() == actual


def test_the_reporting_role_reads_the_views_and_nothing_else(filled, role, monkeypatch, capsys):
    url, db = filled
    monkeypatch.setenv("REPORTING_PASSWORD", PASSWORD)
    assert main(["db", "reporting-role", "--role", role, "--password-env", "REPORTING_PASSWORD", "--db", url]) == 0
    assert f"role {role} created" in capsys.readouterr().out
    (made,) = _rows(db, f"SELECT rolcanlogin, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = '{role}'")
    assert made == {"rolcanlogin": True, "has_password": True}
    as_role = {"user": role, "password": PASSWORD}
    for view in VIEWS:
        assert _rows(db, f"SELECT * FROM reporting.{view}", **as_role), view  # every view has a row here
    for table in ("event", "ven", "settlement_statement", "report_point", "ui_user"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _rows(db, f"SELECT * FROM public.{table}", **as_role)
    # transactions are read-only by default; with that undone, privileges still refuse every write
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        _rows(db, "DELETE FROM public.event", **as_role)
    # (the views join tables: PostgreSQL refuses to write through them whoever asks, so they prove nothing here)
    writes = (
        "INSERT INTO public.program VALUES ('p', 'http://x', 'x')",
        "UPDATE public.event SET status = 'cancelled'",
        "DELETE FROM public.settlement_statement",
        "CREATE TABLE reporting.mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "CREATE VIEW reporting.mine AS SELECT 1",
    )
    for write in writes:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _rows(db, f"SET TRANSACTION READ WRITE; {write}", **as_role)
    # run again (a new password, say): the role is adjusted, not refused
    assert main(["db", "reporting-role", "--role", role, "--password-env", "REPORTING_PASSWORD", "--db", url]) == 0
    assert f"role {role} adjusted" in capsys.readouterr().out


def test_without_a_password_the_role_cannot_log_in(pg, role, capsys):
    url, db = pg
    assert main(["db", "reporting-role", "--role", role, "--db", url]) == 0
    assert "NOLOGIN" in capsys.readouterr().out
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        _rows(db, "SELECT 1", user=role)


def test_a_role_that_could_do_more_is_refused(pg, capsys):
    url, _ = pg
    assert main(["db", "reporting-role", "--role", "postgres", "--db", url]) == 2
    assert "error: role: postgres is a superuser" in capsys.readouterr().err
    assert main(["db", "reporting-role", "--role", "Bad-Name; DROP", "--db", url]) == 2
    assert "error: role: 'Bad-Name; DROP' must be lower-case letters" in capsys.readouterr().err


def test_on_sqlite_there_are_no_views_and_the_role_is_refused(sqlite_url, capsys):
    assert main(["db", "reporting-role", "--db", sqlite_url]) == 2
    assert "error: store: the reporting views and role exist on PostgreSQL only" in capsys.readouterr().err


def test_0014_downgrades_with_a_role_granted_and_upgrades_again(tmp_path, role, capsys):
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        assert main(["db", "reporting-role", "--role", role, "--db", url]) == 0
        config = alembic_config(url)
        command.downgrade(config, "0013")  # the views and the grants on them go; the role stays
        db = url.rsplit("/", 1)[1]
        assert _rows(db, "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'reporting'") == []
        command.upgrade(config, "head")
        assert len(_rows(db, "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting'")) == len(VIEWS)


def test_on_sqlite_0014_creates_nothing(tmp_path):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'view'").fetchone() == (0,)
        command.downgrade(alembic_config(url), "0013")


def test_a_view_a_later_revision_adds_is_granted_when_the_owner_grants(pg, role, monkeypatch, capsys):
    """The default privileges are the schema owner's (who runs the migrations that add views), so a view added after
    the command is readable by the role without running it again."""
    url, db = pg
    monkeypatch.setenv("REPORTING_PASSWORD", PASSWORD)
    assert main(["db", "reporting-role", "--role", role, "--password-env", "REPORTING_PASSWORD", "--db", url]) == 0
    assert "note:" not in capsys.readouterr().out
    with psycopg.connect(**_admin(dbname=db), autocommit=True) as conn:  # as the owner, as a revision would
        conn.execute("CREATE VIEW reporting.later AS SELECT 1 AS one")
    assert _rows(db, "SELECT one FROM reporting.later", user=role, password=PASSWORD) == [{"one": 1}]


def test_a_createrole_user_that_is_no_member_of_the_owner_is_told_to_run_it_again(pg, role, monkeypatch, capsys):
    """A user with CREATEROLE (not the store's owner) can create the role, but cannot set the owner's default
    privileges: the role reads today's views, and the command says what a later revision needs."""
    url, db = pg
    admin = f"cfx_admin_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {admin} LOGIN CREATEROLE PASSWORD 'admin-pass'")
        conn.execute(f"GRANT ALL ON DATABASE {db} TO {admin} WITH GRANT OPTION")
    with psycopg.connect(**_admin(dbname=db), autocommit=True) as conn:  # what it may hand on, and read to check
        conn.execute(f"GRANT USAGE ON SCHEMA reporting TO {admin} WITH GRANT OPTION")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO {admin} WITH GRANT OPTION")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {admin}")
    try:
        admin_url = url.replace("postgres@", f"{admin}:admin-pass@", 1)
        assert admin_url != url, url
        monkeypatch.setenv("REPORTING_PASSWORD", PASSWORD)
        status = main(["db", "reporting-role", "--role", role, "--password-env", "REPORTING_PASSWORD", "--db", admin_url])
        out = capsys.readouterr()
        assert status == 0, out.err
        assert "run this command again after a `cariflex db upgrade` that adds views" in out.out
        assert _rows(db, "SELECT count(*) AS n FROM reporting.events", user=role, password=PASSWORD) == [{"n": 0}]
    finally:
        with psycopg.connect(**_admin(dbname=db), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {admin}")
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f"REVOKE ALL ON DATABASE {db} FROM {admin}")
            conn.execute(f"DROP ROLE IF EXISTS {admin}")
