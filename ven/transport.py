"""The VEN's link to its VTN over 2.0b simple HTTP: every answer is schema-checked and decoded."""

import logging

import aiohttp

from mapping.oadr import model as m
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.report_model import ReportMessage
from mapping.oadr.xsd import MessageRejected, parse_xml, schema_errors

log = logging.getLogger("cariflex.ven.link")

Message = m.Message | ReportMessage


class LinkDown(Exception):
    """The VTN could not be reached or answered with an HTTP error: try again later."""


class VtnProtocolError(Exception):
    """The VTN answered with something that is not a valid 2.0b message."""


class VtnLink:
    """Posts messages to `<base_url>/<service>` and decodes the answers."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout_s: float) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, service: str, message: Message) -> Message | None:
        """Send a typed message; None when the VTN answers with an empty body."""
        return await self.send_raw(service, encode(message))

    async def send_raw(self, service: str, body: bytes) -> Message | None:
        """Send an encoded message (used to resend queued reports byte for byte)."""
        url = f"{self.base_url}/{service}"
        try:
            async with self.session.post(
                url, data=body, headers={"Content-Type": "application/xml"}, timeout=self.timeout
            ) as response:
                data = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise LinkDown(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        if status >= 500:
            raise LinkDown(f"{url}: HTTP {status}")
        if status != 200:
            raise VtnProtocolError(f"{url}: HTTP {status}: {data[:300]!r}")
        if not data.strip():
            return None
        try:
            root = parse_xml(data)
            envelope = open_envelope(root)
        except MessageRejected as exc:
            raise VtnProtocolError(f"{url}: the answer is not an OpenADR message: {exc.reason}") from exc
        problem = schema_errors(root)
        if problem is not None:
            raise VtnProtocolError(f"{url}: {envelope.name} from the VTN is not valid against the 2.0b schema: {problem}")
        return decode(envelope)
