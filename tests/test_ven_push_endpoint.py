"""The VEN's push endpoint over mutual TLS: only the VTN may push (another site's certificate, valid for
the same CA, is refused with 403 before the body is read); with XML signatures, a pushed message signed
by anyone but the VTN is refused the OpenADR way (eiResponse 463 in the reply type)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp

from certs.tls import client_context
from certs.xmlsig import Signer, sign
from mapping.oadr import report_model as r
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import parse_xml
from tests.support.pki import TestPki
from tests.support.push_tls import push_ven_over_tls


async def _push_as(test_pki: TestPki, stem: str, url: str, body: bytes) -> tuple[int, bytes]:
    """POST `body` to `url` presenting certificate `stem` (the endpoint's own certificate names no host)."""
    context = client_context(replace(test_pki.client(stem), check_hostname=False))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        async with session.post(url, data=body, headers={"Content-Type": "application/xml"}) as response:
            return response.status, await response.read()


async def test_push_endpoint_accepts_only_the_vtn(test_pki, sqlite_url, tmp_path):
    """Another site's certificate (same CA, clientAuth) gets 403 and nothing is handled; the VTN's
    certificate (issued for the VTN URL's host) gets the answer."""
    async with push_ven_over_tls(test_pki, sqlite_url, tmp_path) as (vtn, site):
        url = f"{site.push_address}/EiReport"
        body = encode(r.RegisterReport("rr-push", (), ven_id=site.ven_id))

        status, text = await _push_as(test_pki, "site-b-ecdsa", url, body)
        assert status == 403 and b"not the VTN's" in text

        status, answer = await _push_as(test_pki, "vtn-ecdsa", url, body)
        assert status == 200
        reply = decode(open_envelope(parse_xml(answer)))
        assert isinstance(reply, r.RegisteredReport) and reply.response.request_id == "rr-push"


async def test_push_signed_by_another_site_is_refused_with_463(test_pki, sqlite_url, tmp_path):
    """With XML signatures, a message pushed over the VTN's TLS connection but signed with another site's
    key is refused in its reply type (oadrRegisteredReport, eiResponse 463 naming the signer); the same
    message signed by the VTN is answered 200."""
    async with push_ven_over_tls(test_pki, sqlite_url, tmp_path, xml_signatures=True) as (vtn, site):
        url = f"{site.push_address}/EiReport"
        body = encode(r.RegisterReport("rr-signed", (), ven_id=site.ven_id))

        def signed_by(stem: str) -> bytes:
            signer = Signer.from_files(test_pki.cert(stem), test_pki.key(stem))
            return sign(body, signer, datetime.now(UTC), uuid.uuid4().hex)

        status, answer = await _push_as(test_pki, "vtn-ecdsa", url, signed_by("site-b-ecdsa"))
        reply = decode(open_envelope(parse_xml(answer)))
        assert status == 200 and isinstance(reply, r.RegisteredReport) and reply.response.code == 463
        assert reply.response.request_id == "rr-signed" and "not a certificate of" in reply.response.description

        status, answer = await _push_as(test_pki, "vtn-ecdsa", url, signed_by("vtn-ecdsa"))
        reply = decode(open_envelope(parse_xml(answer)))
        assert status == 200 and isinstance(reply, r.RegisteredReport) and reply.response.code == 200
