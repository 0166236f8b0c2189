"""Migration 0013 on both stores: existing aggregator clients keep the sites their stored orders and
series addressed (a site two clients addressed is left to the operator), and downgrades cleanly; the
`cariflex aggregator portfolio` commands give, list and take sites (an aggregator's and a supplier's
side by side) and refuse what is not a site or not a client."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from cariflex.cli import main
from tests.support.databases import fresh_database
from vtn.store.database import alembic_config, normalise_url, upgrade

CREATED = datetime(2026, 11, 2, 8, 0)


def _request(client_id: str, request_id: str, sites: list[str], created: datetime) -> dict:
    placements = [{"site": s, "ven_id": None, "event_id": None, "refused": "x"} for s in sites]
    return {
        "client_id": client_id,
        "kind": "order",
        "request_id": request_id,
        "body": "{}",
        "placements": json.dumps(placements),
        "cancelled": False,
        "created_at": created,
        "modified_at": created,
    }


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_0013_gives_each_client_the_sites_only_it_addressed(tmp_path: Path, kind: str):
    with fresh_database(kind, tmp_path) as url:
        config = alembic_config(url)
        command.upgrade(config, "0012")
        engine = create_engine(normalise_url(url))
        try:
            insert = text(
                "INSERT INTO aggregator_request (client_id, kind, request_id, body, placements, cancelled, created_at,"
                " modified_at) VALUES (:client_id, :kind, :request_id, :body, :placements, :cancelled, :created_at,"
                " :modified_at)"
            )
            with engine.begin() as connection:
                connection.execute(insert, _request("agg-1", "o-1", ["site-a", "site-b"], CREATED))
                connection.execute(insert, _request("agg-1", "o-0", ["site-a"], datetime(2026, 11, 1, 7, 45)))
                connection.execute(insert, _request("agg-2", "o-1", ["site-b", "site-c"], CREATED))
            command.upgrade(config, "0013")
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT site, client_id, since, until FROM aggregator_holding ORDER BY site"))
                # raw SQL: SQLite gives the stored text back, PostgreSQL a datetime
                found = [(site, client, datetime.fromisoformat(str(since)), until) for site, client, since, until in rows]
            assert found == [("site-a", "agg-1", datetime(2026, 11, 1, 7, 45), None), ("site-c", "agg-2", CREATED, None)]
            command.downgrade(config, "0012")
            command.upgrade(config, "head")
        finally:
            engine.dispose()


SITES = '[aggregator]\nprogram = "p"\nuse_sites_file = false\n[aggregator.sites]\nsite-a = { subscribed_kva = 9 }\n'


def test_the_portfolio_commands_give_list_and_take_sites(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite:///{tmp_path / 'vtn.db'}"
    upgrade(url)
    config = tmp_path / "vtn.toml"
    config.write_text(f'[store]\nurl = "{url}"\n[[programs]]\nprogram_id = "p"\nmarket_context = "http://p"\n{SITES}')
    base = ["--config", str(config)]
    assert main(["aggregator", "portfolio", "add", "agg-1", "site-a", *base]) == 1  # no such client yet
    for client in ("agg-1", "agg-2"):
        assert main(["aggregator", "client", "add", client, *base]) == 0
    assert main(["supplier", "client", "add", "sup-1", *base]) == 0
    # a supplier holds sites beside the aggregator that holds them
    assert main(["aggregator", "portfolio", "add", "sup-1", "site-a", "--from", "2026-12-01T00:00:00Z", *base]) == 0
    capsys.readouterr()
    assert (
        main(["aggregator", "portfolio", "add", "agg-1", "site-a", "--from", "2026-12-01T00:00:00Z", "--actor", "ana", *base])
        == 0
    )
    assert main(["aggregator", "portfolio", "add", "agg-2", "site-a", "--from", "2026-12-02T00:00:00Z", *base]) == 0
    assert "(from agg-1)" in capsys.readouterr().out
    assert main(["aggregator", "portfolio", "add", "agg-1", "site-a", "--from", "tomorrow", *base]) == 2
    assert "--from/--at: 'tomorrow' is not a date-time" in capsys.readouterr().err
    assert main(["aggregator", "portfolio", "add", "agg-1", "site-q", *base]) == 2
    assert "not a site of the aggregator API: site-q" in capsys.readouterr().err
    assert main(["aggregator", "portfolio", "add", "agg-1", "site-a", "--from", "2026-12-01T00:05:00Z", *base]) == 1
    assert main(["aggregator", "portfolio", "remove", "agg-2", "site-a", "--at", "2026-12-03T00:00:00Z", *base]) == 0
    capsys.readouterr()
    assert main(["aggregator", "portfolio", "list", *base]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [  # by site, then since, then when given
        "site-a\tsup-1\tsupplier\t2026-12-01T00:00:00Z\t-",
        "site-a\tagg-1\taggregator\t2026-12-01T00:00:00Z\t2026-12-02T00:00:00Z",
        "site-a\tagg-2\taggregator\t2026-12-02T00:00:00Z\t2026-12-03T00:00:00Z",
    ]
    assert datetime(2026, 12, 3, tzinfo=UTC)  # the dates above are on the 15-minute grid
