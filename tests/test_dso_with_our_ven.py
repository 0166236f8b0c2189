"""End to end with our own site VEN (`ven` package) polling: a grid operator's OpenADR 3.1 event, its
update and its deletion reach the VEN as a 2.0b event, a modification and a cancellation, and the VEN's
answers are stored against the event."""

from datetime import timedelta

from mapping.oadr.timefmt import format_datetime
from tests.support.dso import connect
from tests.support.eventually import eventually
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.store import repository as repo


def _event(vtn, values: list[float]) -> dict:
    start = (vtn.ctx.now() + timedelta(hours=1)).replace(microsecond=0)
    return {
        "programID": "test",
        "targets": ["site-dso"],  # 3.1: a VEN name, resolved to its venID
        "intervalPeriod": {"start": format_datetime(start), "duration": "PT15M"},
        "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}],
        "intervals": [{"id": i, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [v]}]} for i, v in enumerate(values)],
    }


async def test_our_ven_follows_an_openadr3_event(sqlite_url, tmp_path):
    hooks = RecordingHooks()
    async with (
        running_vtn(config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))) as vtn,
        running_ven(ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-dso"), hooks) as ven,
    ):
        site = ven.vens["site-dso"]
        await eventually(lambda: site.site.registration is not None, timeout=30, what="registration")
        dso = await connect(vtn, "edf-sei", "3.1.0")
        status, created = await dso.call("POST", "/events", _event(vtn, [6.0, 5.0]))
        assert status == 201, created
        event_id = created["id"]
        await eventually(lambda: ("event", event_id, (0, "optIn")) in hooks.calls, timeout=30, what="the event at the VEN")

        status, _ = await dso.call(
            "PUT", f"/events/{event_id}", {**_event(vtn, [4.0, 4.0]), "intervalPeriod": created["intervalPeriod"]}
        )
        assert status == 200
        await eventually(lambda: ("event", event_id, (1, "optIn")) in hooks.calls, timeout=30, what="the modification at the VEN")

        assert (await dso.call("DELETE", f"/events/{event_id}"))[0] == 200
        await eventually(lambda: ("cancel", event_id, False) in hooks.calls, timeout=30, what="the cancellation at the VEN")

        async def answered() -> bool:
            return {n for _v, n, _o, _c, _t in await vtn.ctx.store.call(repo.event_responses, event_id)} >= {0, 1, 2}

        await eventually(answered, timeout=30, what="the VEN's answers to all three")
