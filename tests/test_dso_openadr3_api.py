"""The OpenADR 3 (3.0.1 and 3.1) DSO API on the running VTN, with a 2.0b VEN (RawClient) on the other side:
events created, changed and deleted upstream reach the VEN at its next poll; tokens, scopes, ownership,
refusals naming the field, searches, programs, VENs and reports."""

import asyncio
from datetime import timedelta

import aiohttp
import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.timefmt import format_datetime
from tests.support.dso import Dso, add_client, connect, token
from tests.support.reports import register_reports, update, usage_metadata
from vtn.store import dso_repository as dso_repo
from vtn.store import repository as repo
from vtn.store import ui_repository as users

FIFTEEN = timedelta(minutes=15)


def capacity_event(vtn, values=(6.0, 5.5, 5.0), start_in=timedelta(hours=1), version="3.0.1", targets=None, **extra) -> dict:
    start = (vtn.ctx.now() + start_in).replace(microsecond=0)
    body = {
        "programID": "test",
        "eventName": "limite poste source",
        "intervalPeriod": {"start": format_datetime(start), "duration": "PT15M"},
        "payloadDescriptors": [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}],
        "intervals": [{"id": i, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [v]}]} for i, v in enumerate(values)],
        **extra,
    }
    if targets is not None:
        body["targets"] = targets
    return body


async def ready_ven(vtn, name: str) -> str:
    """A registered 2.0b VEN whose poll queue is drained (the VTN's own report registration answered)."""
    reg = await vtn.client.register(name)
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
    return reg.ven_id


async def next_event(vtn, ven_id: str) -> m.Event:
    reply = await vtn.client.poll(ven_id)
    assert isinstance(reply, m.DistributeEvent), reply
    (event,) = reply.events
    await vtn.client.ack(ven_id, reply.events)
    return event


@pytest.mark.parametrize("version", ["3.0.1", "3.1.0"])
async def test_event_created_updated_deleted_upstream_reaches_the_2_0b_ven(vtn, version):
    ven_id = await ready_ven(vtn, "site-north")
    dso = await connect(vtn, "edf-sei", version)
    targets = [{"type": "GROUP", "values": ["north"]}] if version == "3.0.1" else ["north"]
    status, created = await dso.call("POST", "/events", capacity_event(vtn, version=version, targets=targets, priority=None))
    assert status == 201, created
    assert created["objectType"] == "EVENT" and created["intervalPeriod"]["duration"] == "PT15M"
    assert "priority" not in created  # an explicit null means absent, and responses carry no nulls

    event = await next_event(vtn, ven_id)
    assert event.event_id == created["id"] and event.modification_number == 0
    (signal,) = event.signals
    assert (signal.name, signal.type) == ("x-IMPORT_CAPACITY_LIMIT", "setpoint")
    assert [i.value for i in signal.intervals] == [6.0, 5.5, 5.0]
    assert event.target.group_ids == ("north",) and event.vtn_comment == "limite poste source"
    stored, _closed = await vtn.ctx.store.call(repo.load_event, event.event_id)
    assert stored.source == "dso:edf-sei"  # which client sent it

    changed = capacity_event(vtn, values=(4.0, 4.0), version=version, targets=targets)
    changed["intervalPeriod"] = created["intervalPeriod"]
    status, updated = await dso.call("PUT", f"/events/{created['id']}", {**changed, "id": "ignored", "createdDateTime": None})
    assert status == 200, updated
    assert updated["id"] == created["id"] and updated["createdDateTime"] == created["createdDateTime"]
    event = await next_event(vtn, ven_id)
    assert event.modification_number == 1 and [i.value for i in event.signals[0].intervals] == [4.0, 4.0]

    status, deleted = await dso.call("DELETE", f"/events/{created['id']}")
    assert status == 200 and deleted["id"] == created["id"] and deleted["intervals"] == updated["intervals"]
    event = await next_event(vtn, ven_id)
    assert (event.modification_number, event.status) == (2, "cancelled")
    assert (await dso.call("GET", f"/events/{created['id']}"))[0] == 404
    # every change is in the audit log with the client that made it (newest first)
    audited = [(a["username"], a["action"]) for a in await vtn.ctx.store.call(users.audit_log) if a["target"] == created["id"]]
    assert audited == [("dso:edf-sei", "cancel_event"), ("dso:edf-sei", "modify_event"), ("dso:edf-sei", "create_event")]


async def test_a_ven_outside_the_targets_gets_nothing_and_a_later_group_member_gets_the_event(vtn):
    other = await ready_ven(vtn, "site-elsewhere")
    dso = await connect(vtn, "edf-sei")
    status, _ = await dso.call("POST", "/events", capacity_event(vtn, targets=[{"type": "GROUP", "values": ["north"]}]))
    assert status == 201
    assert isinstance(await vtn.client.poll(other), m.Response)
    late = await vtn.client.register("site-north")  # registers after the event was created: resolved at delivery
    assert isinstance(await vtn.client.poll(late.ven_id), r.RegisterReport)
    assert (await next_event(vtn, late.ven_id)).target.group_ids == ("north",)


@pytest.mark.parametrize("version", ["3.0.1", "3.1.0"])
async def test_token_endpoint(vtn, version):
    secret = await add_client(vtn, "rte", scopes="read_all write_events")
    base = f"{vtn.base_url}/openadr3/{version}"
    session = vtn.client.session
    form = {"grant_type": "client_credentials", "client_id": "rte", "client_secret": secret, "scope": "read_all"}
    async with session.post(f"{base}/auth/token", data=form) as response:  # credentials in the form body
        body = await response.json()
    assert response.status == 200 and body["token_type"] == "Bearer" and body["scope"] == "read_all" and body["expires_in"] > 0
    read_only = Dso(session, base, body["access_token"])
    assert (await read_only.call("GET", "/events"))[0] == 200
    status, problem = await read_only.call("POST", "/events", capacity_event(vtn))
    assert status == 403 and "write_events" in problem["detail"]

    bad_secret = {"grant_type": "client_credentials", "client_id": "rte", "client_secret": secret + "x"}
    async with session.post(f"{base}/auth/token", data=bad_secret) as response:
        assert response.status == (400 if version == "3.0.1" else 401)
        assert (await response.json())["error"] == "invalid_client"
    async with session.post(f"{base}/auth/token", data={**form, "scope": "write_programs"}) as response:
        assert response.status == 400 and (await response.json())["error"] == "invalid_scope"
    async with session.post(f"{base}/auth/token", data={**form, "grant_type": "password"}) as response:
        assert response.status == 400 and (await response.json())["error"] == "unsupported_grant_type"

    async with session.get(f"{base}/events") as response:
        assert response.status == (403 if version == "3.0.1" else 401)
    async with session.get(f"{base}/events", headers={"Authorization": "Bearer not-a-token"}) as response:
        assert response.status == (403 if version == "3.0.1" else 401)
    if version == "3.1.0":
        async with session.get(f"{base}/auth/server") as response:
            assert (await response.json())["tokenURL"] == f"{base}/auth/token"


async def test_stored_secret_is_a_hash(vtn):
    secret = await add_client(vtn, "enedis")
    record = await vtn.ctx.store.call(dso_repo.find_client, "enedis")
    assert secret not in record.secret_hash and record.secret_hash.startswith("scrypt$")


async def test_each_client_sees_and_changes_only_its_own_events(vtn):
    edf = await connect(vtn, "edf-sei")
    rte = await connect(vtn, "rte")
    status, created = await edf.call("POST", "/events", capacity_event(vtn))
    assert status == 201
    assert (await rte.call("GET", "/events"))[1] == []
    for method in ("GET", "DELETE"):
        assert (await rte.call(method, f"/events/{created['id']}"))[0] == 404
    assert (await rte.call("PUT", f"/events/{created['id']}", capacity_event(vtn)))[0] == 404
    assert [e["id"] for e in (await edf.call("GET", "/events"))[1]] == [created["id"]]


async def test_refusals_name_the_field_and_nothing_is_stored(vtn):
    dso = await connect(vtn, "edf-sei")
    body = capacity_event(vtn)
    body["intervals"][1]["payloads"][0]["type"] = "OLS"
    status, problem = await dso.call("POST", "/events", body)
    assert status == 400 and problem["field"] == "intervals[1].payloads" and "OLS" in problem["detail"]
    status, problem = await dso.call("POST", "/events", {**capacity_event(vtn), "programID": "nope"})
    assert status == 400 and problem["field"] == "programID"
    status, problem = await dso.call("POST", "/events", capacity_event(vtn, targets=[{"type": "GROUP", "values": ["atlantis"]}]))
    assert status == 400 and problem["field"] == "targets[0].values[0]"
    async with vtn.client.session.post(
        dso.base + "/events",
        data=b"{not json",
        headers={"Authorization": f"Bearer {dso.token}", "Content-Type": "application/json"},
    ) as response:
        assert response.status == 400 and (await response.json())["field"] == "body"
    assert (await dso.call("GET", "/events"))[1] == []
    assert not vtn.ctx.live.events


async def test_overlapping_event_of_the_same_program_and_priority_is_a_conflict(vtn):
    dso = await connect(vtn, "edf-sei")
    assert (await dso.call("POST", "/events", capacity_event(vtn)))[0] == 201
    status, problem = await dso.call("POST", "/events", capacity_event(vtn))
    assert status == 409 and "priority" in problem["detail"]
    assert (await dso.call("POST", "/events", capacity_event(vtn, priority=3)))[0] == 201
    right_after = capacity_event(vtn, start_in=timedelta(hours=1) + 3 * FIFTEEN)  # starts where the first ends
    assert (await dso.call("POST", "/events", right_after))[0] == 201


async def test_search_filters_and_paging(vtn):
    dso = await connect(vtn, "edf-sei")
    for i in range(4):
        targets = [{"type": "GROUP", "values": ["north"]}] if i % 2 else None
        assert (await dso.call("POST", "/events", capacity_event(vtn, start_in=timedelta(hours=1 + i), targets=targets)))[
            0
        ] == 201
    _, everything = await dso.call("GET", "/events")
    assert len(everything) == 4
    _, north = await dso.call("GET", "/events", targetType="GROUP", targetValues="north")
    assert len(north) == 2
    _, page = await dso.call("GET", "/events", skip=1, limit=2)
    assert [e["id"] for e in page] == [e["id"] for e in everything[1:3]]
    assert len((await dso.call("GET", "/events", limit=500))[1]) == 4  # capped at 50, not refused
    assert (await dso.call("GET", "/events", programID="other"))[1] == []
    status, problem = await dso.call("GET", "/events", skip=-1)
    assert status == 400 and problem["field"] == "skip"
    status, problem = await dso.call("GET", "/events/not%20an%20id")
    assert status == 400 and problem["field"] == "eventID"


async def test_programs_crud_and_capacity_choice(vtn):
    dso = await connect(vtn, "edf-sei")
    status, program = await dso.call(
        "POST", "/programs", {"programName": "flex-lamentin", "retailerName": "EDF SEI", "country": None}
    )
    assert status == 201 and program["objectType"] == "PROGRAM" and "country" not in program
    assert (await dso.call("POST", "/programs", {"programName": "flex-lamentin"}))[0] == 409
    status, changed = await dso.call("PUT", f"/programs/{program['id']}", {"programName": "flex-lamentin", "programType": "DSO"})
    assert status == 200 and changed["programType"] == "DSO" and "retailerName" not in changed
    names = [p["programName"] for p in (await dso.call("GET", "/programs"))[1]]
    assert names == ["test", "flex-lamentin"]
    status, deleted = await dso.call("DELETE", f"/programs/{program['id']}")
    assert status == 200 and deleted["id"] == program["id"]
    assert (await dso.call("GET", f"/programs/{program['id']}"))[0] == 404
    assert (await dso.call("DELETE", "/programs/test"))[0] == 403  # configured
    status, mine = await dso.call("POST", "/programs", {"programName": "with-events"})
    assert (await dso.call("POST", "/events", {**capacity_event(vtn), "programID": mine["id"]}))[0] == 201
    status, problem = await dso.call("DELETE", f"/programs/{mine['id']}")
    assert status == 400 and problem["field"] == "programID"  # events belong to it


async def test_vens_and_resources_are_read_from_2_0b_registrations(vtn):
    ven_id = await ready_ven(vtn, "site-res")
    dso = await connect(vtn, "edf-sei")
    _, vens = await dso.call("GET", "/vens")
    assert [(v["id"], v["venName"], v["objectType"]) for v in vens] == [(ven_id, "site-res", "VEN")]
    assert vens[0]["resources"][0]["resourceName"] == "site-res-battery"
    dso31 = await connect(vtn, "edf-sei-31", "3.1.0")
    _, resources = await dso31.call("GET", "/resources")
    assert [(x["id"], x["venID"]) for x in resources] == [("site-res-battery", ven_id)]
    status, _ = await dso.call("POST", "/vens", {"venName": "x"})
    assert status == 403


async def test_reports_are_what_the_ven_reported_during_the_event(vtn):
    reg = await vtn.client.register("site-north")
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    answer = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata()))
    (request,) = answer.report_requests
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
    dso = await connect(vtn, "edf-sei")
    status, created = await dso.call("POST", "/events", capacity_event(vtn, start_in=timedelta(minutes=5)))
    assert status == 201
    await next_event(vtn, reg.ven_id)
    await vtn.process.sync.flush_deliveries()
    start = vtn.ctx.now().replace(microsecond=0) + timedelta(minutes=6)
    sent = await vtn.client.send("EiReport", update(reg.ven_id, request, [[5.0, -2.0, 1.5], [4.0, -2.5, 0.5]], start=start))
    assert sent.response.code == 200
    _, reports = await dso.call("GET", "/reports", eventID=created["id"])
    (report,) = reports
    assert (report["eventID"], report["programID"], report["clientName"]) == (created["id"], "test", "site-north")
    assert all("objectType" not in d for d in report["payloadDescriptors"])
    site = next(x for x in report["resources"] if x["resourceName"] == "site-power")
    assert [i["payloads"][0] for i in site["intervals"]] == [
        {"type": "USAGE", "values": [5.0]},
        {"type": "USAGE", "values": [4.0]},
    ]
    assert (await dso.call("GET", f"/reports/{report['id']}"))[1] == report
    other = await connect(vtn, "rte")
    assert (await other.call("GET", "/reports"))[1] == []


async def test_unknown_client_cannot_get_a_token(vtn):
    async with aiohttp.ClientSession() as session:
        base = f"{vtn.base_url}/openadr3/3.1.0"
        with pytest.raises(AssertionError):
            await token(session, base, "nobody", "whatever-secret-1234")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),  # nesting deeper than the parser goes
        (b"\xff\xfe{}", 400),  # not UTF-8
        (b'{"programID": "test", "intervals": ' + b"[" * 50 + b"]" * 50 + b"}", 400),
        (b" " * (3 * 1024 * 1024), 413),  # over the VTN's body limit
    ],
)
async def test_hostile_bodies_get_a_clear_4xx(vtn_sqlite, body, status):
    dso = await connect(vtn_sqlite, "edf-sei")
    headers = {"Authorization": f"Bearer {dso.token}", "Content-Type": "application/json"}
    async with vtn_sqlite.client.session.post(dso.base + "/events", data=body, headers=headers) as response:
        assert response.status == status
    assert (await dso.call("GET", "/events"))[0] == 200  # still serving


async def test_failed_client_secrets_are_throttled_even_when_concurrent(vtn):
    """Issue 22: the token endpoint counts a failure per client_id and address before checking the secret."""
    secret = await add_client(vtn, "dso-guessed")
    base = f"{vtn.base_url}/openadr3/3.1.0"

    async def guess(attempt: str) -> tuple[int, str | None]:
        form = {"grant_type": "client_credentials", "client_id": "dso-guessed", "client_secret": attempt}
        async with vtn.client.session.post(f"{base}/auth/token", data=form) as response:
            body = await response.json()
            # paused: still invalid_client (3.1 documents no 429 here), saying so, with Retry-After
            paused = "too many failed attempts" in body["error_description"] and response.headers["Retry-After"].isdigit()
            return response.status, paused

    answers = await asyncio.gather(*(guess(f"wrong-{i}") for i in range(20)))
    assert {status for status, _ in answers} == {401}
    assert sum(paused for _, paused in answers) >= 15, answers  # at most 5 secrets were checked
    assert await guess(secret) == (401, True)  # even the right secret waits out the pause from this address
    other = await add_client(vtn, "dso-other")  # another client from the same address is not paused
    assert await token(vtn.client.session, base, "dso-other", other)


NOTIFIER_PATHS = [
    "/notifiers",
    "/notifiers/mqtt/topics/programs",
    "/notifiers/mqtt/topics/programs/dso-capacity",
    "/notifiers/mqtt/topics/events",
    "/notifiers/mqtt/topics/programs/dso-capacity/events",
    "/notifiers/mqtt/topics/reports",
    "/notifiers/mqtt/topics/subscriptions",
    "/notifiers/mqtt/topics/vens",
    "/notifiers/mqtt/topics/vens/site-01",
    "/notifiers/mqtt/topics/resources",
    "/notifiers/mqtt/topics/vens/site-01/events",
    "/notifiers/mqtt/topics/vens/site-01/programs",
    "/notifiers/mqtt/topics/vens/site-01/resources",
]


async def test_the_13_notifier_paths_answer_per_the_3_1_spec(vtn):
    """Issue 22 (finding 13): no 5xx. Without `[dso.mqtt]`, WEBHOOK is the binding offered; the MQTT topic paths answer 404
    (binding not offered) behind the bearer token; any other method, TRACE included, is 405 with Allow."""
    dso = await connect(vtn, "edf-sei", version="3.1.0")
    session = vtn.client.session
    auth = {"Authorization": f"Bearer {dso.token}"}
    assert len(NOTIFIER_PATHS) == 13
    for path in NOTIFIER_PATHS:
        async with session.get(dso.base + path, headers=auth) as response:
            body = await response.json()
            if path == "/notifiers":
                assert response.status == 200 and body == {"WEBHOOK": True}
            else:
                assert response.status == 404 and body["status"] == 404 and "MQTT" in body["detail"], path
        async with session.get(dso.base + path) as response:
            assert response.status == 401, path
        for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE"):
            async with session.request(method, dso.base + path, headers=auth) as response:
                assert response.status == 405 and response.headers["Allow"] == "GET, HEAD", (method, path)
    async with session.get(dso.base + "/notifiers/mqtt/topics/vens/not%20an%20id", headers=auth) as response:
        assert response.status == 400
    async with session.get(f"{vtn.base_url}/openadr3/3.0.1/notifiers", headers=auth) as response:
        assert response.status == 404  # 3.0.1 has no notifiers


async def test_a_3_1_put_with_null_optional_members_keeps_the_intervals(vtn):
    """Issue 22: ElaadNL's client sends every optional member of an EventUpdate, null when unset. 3.1 makes
    `intervals` optional (default: the VTN's); a null or absent one keeps the stored intervals and timeline.
    3.0.1 requires intervals (400 naming them), as does a 3.1 POST (a 2.0b event needs one)."""
    dso = await connect(vtn, "edf-sei", version="3.1.0")
    status, created = await dso.call("POST", "/events", capacity_event(vtn, version="3.1.0"))
    assert status == 201, created
    nulls = {"programID": "test", "eventName": "renamed", "priority": None, "targets": None, "reportDescriptors": None}
    nulls |= {"payloadDescriptors": None, "intervalPeriod": None, "intervals": None, "duration": None}
    status, updated = await dso.call("PUT", f"/events/{created['id']}", nulls)
    assert status == 200, updated
    assert updated["eventName"] == "renamed" and updated["intervals"] == created["intervals"]
    assert updated["intervalPeriod"] == created["intervalPeriod"] and "payloadDescriptors" not in updated
    assert (await dso.call("GET", f"/events/{created['id']}"))[1]["intervals"] == created["intervals"]

    status, problem = await dso.call("POST", "/events", {**capacity_event(vtn, version="3.1.0"), "intervals": None})
    assert status == 400 and problem["field"] == "intervals"
    old = await connect(vtn, "rte", version="3.0.1")
    status, created = await old.call("POST", "/events", capacity_event(vtn, start_in=timedelta(hours=5)))
    assert status == 201, created
    status, problem = await old.call("PUT", f"/events/{created['id']}", {**capacity_event(vtn), "intervals": None})
    assert status == 400 and problem["field"] == "intervals"
