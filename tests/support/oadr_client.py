"""A raw OpenADR 2.0b client for tests: sends typed messages or raw XML, checks every answer
against the official XSD and decodes it."""

from dataclasses import dataclass

import aiohttp

from mapping.oadr import model as m
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import parse_xml, schema_errors

BASE = "/OpenADR2/Simple/2.0b"


@dataclass
class Reply:
    """An HTTP answer: status, body, and the decoded message when there is one."""

    status: int
    body: bytes
    message: m.Message | None


class RawClient:
    """Talks to a VTN at `base_url` (http://host:port)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def post(self, service: str, body: bytes, content_type: str | None = "application/xml") -> Reply:
        """POST raw bytes; any XML answer must be schema-valid (asserted)."""
        headers = {"Content-Type": content_type} if content_type else {}
        async with self.session.post(f"{self.base_url}{BASE}/{service}", data=body, headers=headers) as response:
            data = await response.read()
        message = None
        if response.status == 200 and data:
            root = parse_xml(data)
            problem = schema_errors(root)
            assert problem is None, f"VTN sent a schema-invalid message: {problem}\n{data.decode()}"
            message = decode(open_envelope(root))
        return Reply(status=response.status, body=data, message=message)

    async def send(self, service: str, message: m.Message) -> m.Message | None:
        """Send a typed message; return the decoded answer (None for an empty body)."""
        reply = await self.post(service, encode(message))
        assert reply.status == 200, f"HTTP {reply.status}: {reply.body[:500]!r}"
        return reply.message

    async def register(self, ven_name: str, **fields: object) -> m.CreatedPartyRegistration:
        """Register a pull VEN; asserts success."""
        reply = await self.send(
            "EiRegisterParty",
            m.CreatePartyRegistration(
                request_id=f"req-{ven_name}",
                profile_name="2.0b",
                transport_name="simpleHttp",
                report_only=False,
                xml_signature=False,
                ven_name=ven_name,
                http_pull_model=True,
                **fields,  # type: ignore[arg-type]
            ),
        )
        assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == 200, reply
        return reply

    async def poll(self, ven_id: str) -> m.Message | None:
        """One oadrPoll."""
        return await self.send("OadrPoll", m.Poll(ven_id=ven_id))

    async def request_events(self, ven_id: str) -> m.DistributeEvent:
        """oadrRequestEvent; asserts a distribute comes back."""
        reply = await self.send("EiEvent", m.RequestEvent(request_id="req-events", ven_id=ven_id))
        assert isinstance(reply, m.DistributeEvent), reply
        return reply

    async def ack(self, ven_id: str, events: tuple[m.Event, ...], opt: str = "optIn") -> m.Message | None:
        """oadrCreatedEvent for `events`."""
        return await self.send(
            "EiEvent",
            m.CreatedEvent(
                response=m.EiResponse(request_id="req-events"),
                ven_id=ven_id,
                event_responses=tuple(
                    m.EventResponse(200, "OK", "req-events", e.event_id, e.modification_number, opt) for e in events
                ),
            ),
        )
