"""The VEN's link to its VTN over 2.0b simple HTTP: every answer is schema-checked and decoded."""

import logging
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from certs.xmlsig import SignatureRefused, Signer, is_signed, issued_for_host, sign, verify
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
    """Posts messages to `<base_url>/<service>` and decodes the answers.

    With a `signer` (XML signatures, over mutual TLS) every message goes out signed and every answer
    must be signed by a certificate of the VTN's host from the CA in `ca_pem` (what TLS checks of the
    VTN), fresh and not replayed."""

    #: how many answer nonces are remembered against replays
    NONCES_KEPT = 10_000

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        timeout_s: float,
        signer: Signer | None = None,
        ca_pem: bytes = b"",
        signature_window: timedelta = timedelta(minutes=5),
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.signer = signer
        self.ca_pem = ca_pem
        self.signature_window = signature_window
        self._nonces: OrderedDict[str, None] = OrderedDict()

    @property
    def signs(self) -> bool:
        """True when this link uses XML signatures (announced at registration as oadrXmlSignature)."""
        return self.signer is not None

    async def send(self, service: str, message: Message) -> Message | None:
        """Send a typed message; None when the VTN answers with an empty body."""
        return await self.send_raw(service, encode(message))

    async def send_raw(self, service: str, body: bytes) -> Message | None:
        """Send an encoded message (used to resend queued reports byte for byte)."""
        url = f"{self.base_url}/{service}"
        body = self.signed(body)
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
        return self.read(url, data)

    def signed(self, body: bytes) -> bytes:
        """The body as it goes out: signed when this link uses XML signatures."""
        if self.signer is None:
            return body
        return sign(body, self.signer, datetime.now(UTC), uuid.uuid4().hex)

    def read(self, url: str, data: bytes) -> Message:
        """A message from the VTN (an answer, or one it pushed to us): parsed safely, schema-checked, its
        signature checked as for answers; VtnProtocolError when it is not acceptable."""
        try:
            root = parse_xml(data)
            envelope = open_envelope(root)
        except MessageRejected as exc:
            raise VtnProtocolError(f"{url}: the answer is not an OpenADR message: {exc.reason}") from exc
        problem = schema_errors(root)
        if problem is not None:
            raise VtnProtocolError(f"{url}: {envelope.name} from the VTN is not valid against the 2.0b schema: {problem}")
        if self.signer is not None or is_signed(root):
            self._check_signature(url, root)
        return decode(envelope)

    def _check_signature(self, url: str, root: object) -> None:
        try:
            verified = verify(root, datetime.now(UTC), self.signature_window)  # type: ignore[arg-type]
        except SignatureRefused as exc:
            raise VtnProtocolError(f"{url}: the VTN's answer is refused: {exc}") from exc
        host = urlsplit(self.base_url).hostname or ""
        if not issued_for_host(verified.certificate, host, self.ca_pem):
            raise VtnProtocolError(
                f"{url}: the answer is signed by {verified.fingerprint}, not a certificate of {host} from our CA"
            )
        key = f"{verified.fingerprint}/{verified.nonce}"
        if key in self._nonces:
            raise VtnProtocolError(f"{url}: replayed answer (nonce {verified.nonce!r} seen before)")
        self._nonces[key] = None
        while len(self._nonces) > self.NONCES_KEPT:
            self._nonces.popitem(last=False)
