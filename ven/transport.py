"""The VEN's link to its VTN over 2.0b simple HTTP: every answer is schema-checked and decoded."""

import logging
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from certs.xmlsig import SignatureRefused, Signer, is_signed, issued_for_host, sign, verify
from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.decode import Envelope, decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.report_model import ReportMessage
from mapping.oadr.xsd import MessageRejected, parse_xml, schema_errors

log = logging.getLogger("cariflex.ven.link")

Message = m.Message | ReportMessage

#: the eiResponse code of a message whose signature is not the VTN's (as the VTN answers a bad VEN signature)
REFUSED = ResponseCode.NOT_REGISTERED_OR_AUTHORIZED


class LinkDown(Exception):
    """The VTN could not be reached or answered with an HTTP error: try again later."""


class VtnProtocolError(Exception):
    """The VTN answered with something that is not a valid 2.0b message; `code` is the eiResponse code
    that refuses it (400: not valid against the schema, 463: its signature is not the VTN's)."""

    def __init__(self, reason: str, code: ResponseCode = ResponseCode.BAD_REQUEST) -> None:
        super().__init__(reason)
        self.code = code


class NotOpenAdr(VtnProtocolError):
    """What the VTN sent is not an OpenADR message at all (not XML, unsafe, not an oadr element)."""


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
        return self.check(url, self.open(url, data))

    def open(self, url: str, data: bytes) -> Envelope:
        """`data` parsed safely as an OpenADR message (not yet checked); NotOpenAdr when it is not one."""
        try:
            return open_envelope(parse_xml(data))
        except MessageRejected as exc:
            raise NotOpenAdr(f"{url}: not an OpenADR message: {exc.reason}") from exc

    def check(self, url: str, envelope: Envelope) -> Message:
        """The message of `envelope` once valid against the 2.0b schema and (when signed, or when this link
        signs) signed by the VTN; VtnProtocolError (with its eiResponse code) when it is not."""
        problem = schema_errors(envelope.root)
        if problem is not None:
            raise VtnProtocolError(f"{url}: {envelope.name} from the VTN is not valid against the 2.0b schema: {problem}")
        if self.signer is not None or is_signed(envelope.root):
            self._check_signature(url, envelope.root)
        return decode(envelope)

    def _check_signature(self, url: str, root: object) -> None:
        try:
            verified = verify(root, datetime.now(UTC), self.signature_window)  # type: ignore[arg-type]
        except SignatureRefused as exc:
            raise VtnProtocolError(f"{url}: the VTN's signature is refused: {exc}", REFUSED) from exc
        host = urlsplit(self.base_url).hostname or ""
        if not issued_for_host(verified.certificate, host, self.ca_pem):
            raise VtnProtocolError(
                f"{url}: the message is signed by {verified.fingerprint}, not a certificate of {host} from our CA", REFUSED
            )
        key = f"{verified.fingerprint}/{verified.nonce}"
        if key in self._nonces:
            raise VtnProtocolError(f"{url}: replayed message (nonce {verified.nonce!r} seen before)", REFUSED)
        self._nonces[key] = None
        while len(self._nonces) > self.NONCES_KEPT:
            self._nonces.popitem(last=False)
