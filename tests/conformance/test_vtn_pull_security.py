"""G1_4010 (Security - Cipher and X.509 Cert support, pull) with our VTN as the device under test: the
harness VEN runs the registration and event exchange over the 2.0b TLS profile, once per required suite.
The handshake-level refusals (other suites and protocol versions, expired, unknown-CA and revoked client
certificates) are checked in tests/test_security_tls.py; the venID-to-certificate binding (463) in
tests/test_security_identity.py."""

import ssl
from dataclasses import replace

import aiohttp
import pytest

from tests.conformance import assert_ok_response, created_event, register
from tests.conformance.test_vtn_pull_events import only_event
from tests.support.oadr_client import RawClient
from tests.support.pki import TestPki
from tests.support.tls_harness import served_vtn
from tests.support.vtn_harness import config_for_tests


def one_suite(test_pki: TestPki, suite: str, cert: str | None) -> ssl.SSLContext:
    """A harness VEN's context offering exactly `suite` over exactly TLS 1.2, with certificate `cert`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(suite)
    context.load_verify_locations(cafile=str(test_pki.cert("ca")))
    if cert is not None:
        context.load_cert_chain(str(test_pki.cert(cert)), str(test_pki.key(cert)))
    return context


@pytest.mark.parametrize(
    ("suite", "cert"), [("ECDHE-ECDSA-AES128-SHA256", "site-a-ecdsa"), ("AES128-SHA256", "site-a-rsa")], ids=["ecdsa", "rsa"]
)
async def test_G1_4010_TH_VEN(test_pki, db_url, suite, cert):
    """G1_4010 (Security - Cipher and X.509 Cert support). Certification: the harness VEN connects over
    TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 (ECC certificate), then with
    TLS_RSA_WITH_AES_128_CBC_SHA256 (RSA certificate), presenting its X.509 client certificate, and runs a
    registration and an event exchange; the VTN must complete both. Ours: a harness VEN that offers only
    that one suite and only TLS 1.2 (so a completed handshake is that suite) registers, takes an event by
    oadrPoll and answers it, with oadrResponse 200 throughout; the VTN binds the venID to the presented
    certificate's fingerprint; the same client without a certificate is refused at the handshake."""
    async with served_vtn(config_for_tests(db_url, tls=test_pki.server())) as served:
        connector = aiohttp.TCPConnector(ssl=one_suite(test_pki, suite, cert))
        async with aiohttp.ClientSession(connector=connector) as session:
            vtn = replace(served, client=RawClient(session, served.base_url))
            reg = await register(vtn, "site-a")
            assert vtn.ctx.live.vens[reg.ven_id].fingerprint == test_pki.fingerprint(cert)
            got = await vtn.create_event()
            delivered = await only_event(vtn, reg.ven_id)
            assert delivered.event_id == got.event_id
            assert_ok_response(await created_event(vtn, reg.ven_id, [(delivered, "optIn")]), reg.ven_id)
            assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)
        anonymous = aiohttp.TCPConnector(ssl=one_suite(test_pki, suite, None))
        async with aiohttp.ClientSession(connector=anonymous) as session:
            with pytest.raises(aiohttp.ClientError):
                await RawClient(session, served.base_url).poll(reg.ven_id)
