"""A failure of ours, or of the store, as a caller sees it: a short text and an incident id, never the SQL,
its parameters or where the database is; the details are logged under the same id (issue 22). Where HTTP is the
contract (OpenADR 3, the aggregators' API, the UI) a store outage is 503 with Retry-After, and a store that takes
connections but never answers is given up within the configured timeouts."""

import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from tests.support import dso
from tests.support.databases import MigratedTemplates
from tests.support.tcp_proxy import ProxyThread
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.store.database import StoreTimeouts

#: short timeouts, so the test waits seconds for a silent store (libpq's connect timeout is at least 2 s)
QUICK = StoreTimeouts(connect=timedelta(seconds=2), statement=timedelta(seconds=2), pool=timedelta(seconds=1))

INCIDENT = re.compile(r"\(incident (inc-[0-9a-f]{12})\)")


def _registration(name: str) -> m.CreatePartyRegistration:
    return m.CreatePartyRegistration(
        request_id=f"req-{name}",
        profile_name="2.0b",
        transport_name="simpleHttp",
        report_only=False,
        xml_signature=False,
        ven_name=name,
        http_pull_model=True,
    )


def _rename(old: str, new: str):  # noqa: ANN202 - a store function
    def rename(session) -> None:  # noqa: ANN001
        session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    return rename


def _logged(caplog: pytest.LogCaptureFixture, incident: str) -> str:
    return "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records if incident in r.getMessage())


async def test_a_defect_is_answered_with_an_incident_id_and_logged_with_the_sql(vtn, caplog):
    caplog.set_level(logging.ERROR, "cariflex")
    await vtn.admin_store.call(_rename("ven", "ven_gone"))  # every write of a registration now fails in the database
    try:
        answer = await vtn.client.send("EiRegisterParty", _registration("site-incident"))
    finally:
        await vtn.admin_store.call(_rename("ven_gone", "ven"))
    assert answer.response.code == ResponseCode.DEPLOYMENT_ERROR_OR_OTHER_ERROR
    description = answer.response.description
    assert description.startswith("internal error") and INCIDENT.search(description), description
    for leak in ("SQL", "INSERT", "SELECT", "ven_gone", "site-incident", "sqlite", "postgres"):
        assert leak not in description, f"{leak!r} in {description!r}"
    logged = _logged(caplog, INCIDENT.search(description).group(1))
    assert "INSERT INTO ven" in logged or "FROM ven" in logged, logged  # the operator gets the details


@pytest.fixture
async def vtn_behind_proxy(tmp_path: Path, store_templates: MigratedTemplates) -> AsyncIterator[tuple[VtnUnderTest, ProxyThread]]:
    """A VTN whose PostgreSQL is reached through a proxy the test can cut (a database outage)."""
    with store_templates.database("postgresql", tmp_path) as url:
        target = make_url(url)
        proxy = ProxyThread(target.port or 5432)
        proxy.start()
        try:
            proxied = target.set(port=proxy.port).render_as_string(hide_password=False)
            async with running_vtn(config_for_tests(proxied, store_timeouts=QUICK)) as running:
                yield running, proxy
        finally:
            proxy.stop()


@pytest.mark.postgres
async def test_a_database_outage_does_not_tell_where_the_database_is(vtn_behind_proxy, caplog):
    vtn, proxy = vtn_behind_proxy
    caplog.set_level(logging.ERROR, "cariflex")
    proxy.cut()
    answer = await vtn.client.send("EiRegisterParty", _registration("site-outage"))
    assert answer.response.code == ResponseCode.DEPLOYMENT_ERROR_OR_OTHER_ERROR
    description = answer.response.description
    assert "unavailable" in description and INCIDENT.search(description), description
    for leak in ("127.0.0.1", str(proxy.port), "connection", "psycopg", "postgres"):
        assert leak not in description, f"{leak!r} in {description!r}"
    assert str(proxy.port) in _logged(caplog, INCIDENT.search(description).group(1))


EVENT = {
    "programID": "?",
    "eventName": "outage",
    "intervals": [
        {
            "id": 0,
            "intervalPeriod": {"start": "2030-01-01T00:00:00Z", "duration": "PT1H"},
            "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [5]}],
        }
    ],
}


async def _create_event(vtn: VtnUnderTest, client: dso.Dso) -> tuple[int, dict, dict]:
    async with vtn.client.session.post(
        f"{client.base}/events", json=EVENT, headers={"Authorization": f"Bearer {client.token}"}
    ) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


@pytest.mark.postgres
async def test_the_openadr3_api_answers_503_with_retry_after_during_an_outage(vtn_behind_proxy, caplog):
    vtn, proxy = vtn_behind_proxy
    client = await dso.connect(vtn, "dso-outage", "3.1.0")
    proxy.cut()  # refused connections
    status, headers, body = await _create_event(vtn, client)
    assert status == 503 and headers.get("Retry-After", "").isdigit(), (status, headers, body)
    assert body["status"] == 503 and INCIDENT.search(body["detail"]) and body["incident"] in body["detail"], body
    assert "127.0.0.1" not in str(body) and str(proxy.port) not in str(body)


@pytest.mark.postgres
async def test_a_store_that_never_answers_is_given_up_within_the_timeouts(vtn_behind_proxy):
    vtn, proxy = vtn_behind_proxy
    client = await dso.connect(vtn, "dso-silent", "3.1.0")
    proxy.go_silent()  # connections taken, nothing ever answered: a hung server, or packets dropped
    budget = QUICK.call_budget.total_seconds()
    started = time.monotonic()
    answer = await vtn.client.send("EiRegisterParty", _registration("site-silent"))
    assert answer.response.code == ResponseCode.DEPLOYMENT_ERROR_OR_OTHER_ERROR and "retry later" in answer.response.description
    status, headers, _body = await _create_event(vtn, client)
    assert status == 503 and "Retry-After" in headers
    assert time.monotonic() - started < 2 * budget + 3, "a silent store held the requests past the timeouts"
    proxy.cut()  # the connection the store thread still waits on is closed: the VTN stops without waiting a budget
