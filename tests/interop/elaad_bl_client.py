"""Drives our VTN with ElaadNL's openadr3-client (BL role). Runs under Python >= 3.12 in its own venv
(.venv-openadr3-client), started by tests/test_interop_openadr3_client.py; imports nothing of ours.

Protocol on stdout/stdin: after each step it prints one JSON line, then (where the test checks the
2.0b side) waits for a line on stdin before going on.
"""

import json
import sys
from datetime import UTC, datetime, timedelta

from openadr3_client.bl.http_factory import BusinessLogicHttpClientFactory
from openadr3_client.version import OADRVersion


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def wait() -> None:
    if sys.stdin.readline().strip() != "next":
        sys.exit(3)


def main(base: str, version: str, client_id: str, secret: str) -> None:
    v301 = version == "3.0.1"
    if v301:
        from openadr3_client._models.common.interval import Interval
        from openadr3_client._models.common.interval_period import IntervalPeriod
        from openadr3_client.oadr301.models.event.event import EventUpdate, NewEvent
        from openadr3_client.oadr301.models.event.event_payload import EventPayload, EventPayloadDescriptor, EventPayloadType
        from openadr3_client.oadr301.models.program.program import NewProgram
        from openadr3_client.oadr301.models.target import Target
        from openadr3_client.oadr301.models.unit import Unit

        targets = (Target(type="GROUP", values=("north",)),)
    else:
        from openadr3_client._models.common.interval import Interval
        from openadr3_client._models.common.interval_period import IntervalPeriod
        from openadr3_client.oadr310.models.event.event import EventUpdate, NewEvent
        from openadr3_client.oadr310.models.event.event_payload import EventPayload, EventPayloadDescriptor, EventPayloadType
        from openadr3_client.oadr310.models.program.program import NewProgram
        from openadr3_client.oadr310.models.unit import Unit

        targets = ("north",)

    client = BusinessLogicHttpClientFactory.create_http_bl_client(
        vtn_base_url=f"{base}/openadr3/{version}",
        client_id=client_id,
        client_secret=secret,
        token_url=f"{base}/openadr3/{version}/auth/token" if v301 else None,  # 3.1: discovered through auth/server
        scopes=["read_all", "write_programs", "write_events"],
        version=OADRVersion.OADR_301 if v301 else OADRVersion.OADR_310,
        allow_insecure_http=True,  # the test VTN listens on loopback without TLS (the client wants HTTPS for 3.1)
    )
    program = client.programs.create_program(new_program=NewProgram(program_name=f"elaad-{version}"))
    say(step="program", id=program.id)

    start = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    descriptor = EventPayloadDescriptor(payload_type=EventPayloadType.IMPORT_CAPACITY_LIMIT, units=Unit.KW)

    def intervals(values: tuple[float, ...]) -> tuple:
        return tuple(
            Interval(
                id=i, interval_period=None, payloads=(EventPayload(type=EventPayloadType.IMPORT_CAPACITY_LIMIT, values=(v,)),)
            )
            for i, v in enumerate(values)
        )

    event = client.events.create_event(
        new_event=NewEvent(
            programID=program.id,
            event_name="elaad interop",
            targets=targets,
            payload_descriptors=(descriptor,),
            interval_period=IntervalPeriod(start=start, duration=timedelta(minutes=15)),
            intervals=intervals((7.0, 6.0)),
        )
    )
    say(step="created", id=event.id)
    wait()

    listed = [e.id for e in client.events.get_events(target=None, pagination=None, program_id=program.id)]
    # PUT replaces the whole event: send all of it with the new intervals
    whole = EventUpdate(
        programID=program.id,
        event_name=event.event_name,
        targets=event.targets,
        payload_descriptors=event.payload_descriptors,
        interval_period=event.interval_period,
        intervals=intervals((3.0, 3.0, 3.0)),
    )
    if v301:
        changed = client.events.update_event_by_id(event_id=event.id, updated_event=event.update(whole))
    else:
        changed = client.events.update_event_by_id(event_id=event.id, updated_event=whole)
    reports = client.reports.get_reports(pagination=None, program_id=None, event_id=event.id, client_name=None)
    say(step="updated", listed=listed, intervals=len(changed.intervals), reports=[(x.event_id, x.client_name) for x in reports])
    wait()

    if not v301:  # issue 22: a partial EventUpdate goes out with every unset optional member null, intervals too
        renamed = client.events.update_event_by_id(
            event_id=event.id, updated_event=EventUpdate(programID=program.id, event_name="renamed")
        )
        say(step="renamed", name=renamed.event_name, intervals=len(renamed.intervals))
        wait()

    deleted = client.events.delete_event_by_id(event_id=event.id)
    say(step="deleted", id=deleted.id)


if __name__ == "__main__":
    main(*sys.argv[1:5])
