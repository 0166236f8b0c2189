"""G1_* (general, pull) with our VEN as the device under test and the harness as the VTN."""

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from certs.fingerprint import fingerprint_of_der
from certs.tls import TlsSettings
from mapping.oadr import model as m
from tests.support.pki import TestPki
from tests.ven_conformance import create_report, distribute, event, report_request
from tests.ven_conformance.scripted_vtn import ScriptedVtn, Th


async def test_G1_4011_TH_VTN(th):
    """Certification (empty oadrPoll, self test in the certification): the VEN polls and the harness
    answers oadrResponse (nothing pending).
    Ours: the registered VEN polls with its venID to OadrPoll, takes oadrResponse 200 as nothing
    pending and sends nothing else."""
    await th.start_ven()
    mark = th.vtn.mark()
    await th.wait(lambda: len(th.vtn.received("oadrPoll", mark)) >= 3, "polls")
    assert {x.name for x in th.vtn.received(after=mark)} == {"oadrPoll"}
    assert {p.ven_id for p in th.vtn.messages("oadrPoll", mark)} == {th.vtn.ven_id}


async def test_G1_4015_TH_VTN(th):
    """Certification (de-queue using oadrPoll): the harness queues an oadrDistributeEvent (Event_001)
    and an oadrCreateReport (one-shot TELEMETRY_STATUS); the VEN takes both by polling and answers
    each (oadrCreatedEvent, oadrCreatedReport, then the oadrUpdateReport).
    Ours: both are taken in one polling cycle, each answered; the report follows."""
    await th.start_ven()
    ev = event(signal="SIMPLE", intervals=((300, 2.0),), start_in=timedelta(minutes=1))
    rq = report_request(f"{th.site_name}:TELEMETRY_STATUS", ("status",))
    mark = await th.deliver(distribute(th.vtn.vtn_id, ev), create_report(th.vtn.ven_id, rq))
    assert (await th.answer(ev, mark)).opt_type == "optIn"
    assert [a.response.code for a in th.vtn.messages("oadrCreatedReport", mark)] == [200]
    await th.wait(lambda: th.vtn.updates_for(rq.report_request_id), "the report")
    handed = [seq for seq, _item in th.vtn.handed_out]
    assert handed[1] - handed[0] <= 3, "the second message was not taken in the same cycle"
    assert isinstance(th.vtn.handed_out[0][1], m.DistributeEvent)


@pytest.mark.parametrize(
    ("vtn_cert", "ven_cert", "suite"),
    [("vtn-ecdsa", "site-a-ecdsa", "ECDHE-ECDSA-AES128-SHA256"), ("vtn-rsa", "site-a-rsa", "AES128-SHA256")],
)
async def test_G1_4010_TH_VTN(test_pki: TestPki, tmp_path: Path, vtn_cert: str, ven_cert: str, suite: str):
    """Certification (Security - cipher and X.509 certificate support, pull): the harness VTN serves over
    TLS 1.2 with one of the two 2.0b suites (TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 with an ECC certificate,
    TLS_RSA_WITH_AES_128_CBC_SHA256 with an RSA one) and requires the VEN's X.509 client certificate; the
    VEN registers, polls and answers an event over it.
    Ours: a harness VTN whose only certificate is of one type (so only that suite can be agreed) and that
    refuses a handshake without a client certificate of its CA; our VEN, configured with its site's
    certificate, registers, takes an event by oadrPoll and opts in — every one of its requests came over
    TLS 1.2 with that suite and presented that certificate."""
    tls = replace(
        test_pki.server(crl=True), chains=((test_pki.cert(vtn_cert), test_pki.key(vtn_cert)),), require_client_cert=True
    )
    vtn = ScriptedVtn(tls=tls)
    await vtn.start()
    th = Th(vtn, tmp_path)
    try:
        assert vtn.url.startswith("https://")
        await th.start_ven(
            tls=TlsSettings(chains=((test_pki.cert(ven_cert), test_pki.key(ven_cert)),), ca_file=test_pki.cert("ca"))
        )
        ev = event(signal="SIMPLE", intervals=((300, 2.0),), start_in=timedelta(minutes=1))
        mark = await th.deliver(distribute(vtn.vtn_id, ev))
        assert (await th.answer(ev, mark)).opt_type == "optIn"
        await th.still_polling()
    finally:
        await th.stop_ven()
        await vtn.stop()
    vtn.check()
    names = {x.name for x in vtn.exchanges}
    assert {"oadrCreatePartyRegistration", "oadrPoll", "oadrCreatedEvent"} <= names
    assert {x.tls for x in vtn.exchanges} == {("TLSv1.2", suite)}
    assert {fingerprint_of_der(x.peer_cert) for x in vtn.exchanges if x.peer_cert} == {test_pki.fingerprint(ven_cert)}
    assert all(x.peer_cert for x in vtn.exchanges)


async def test_G1_4010_TH_VTN_vtn_certificate_of_another_ca(test_pki: TestPki, tmp_path: Path):
    """G1_4010, the VEN's half of the mutual check: a VTN whose certificate is not of the VEN's CA gets no
    message at all (the handshake fails before HTTP), and the VEN stays unregistered but keeps trying."""
    tls = replace(test_pki.server(crl=False), chains=((test_pki.cert("stranger"), test_pki.key("stranger")),))
    vtn = ScriptedVtn(tls=tls)
    await vtn.start()
    th = Th(vtn, tmp_path)
    try:
        await th.start_ven(
            registered=False,
            tls=TlsSettings(chains=((test_pki.cert("site-a-ecdsa"), test_pki.key("site-a-ecdsa")),), ca_file=test_pki.cert("ca")),
        )
        await asyncio.sleep(1.5)  # several attempts at the VEN's 0.5 s maximum back-off
        assert th.running() and th.ven.site.registration is None
    finally:
        await th.stop_ven()
        await vtn.stop()
    assert vtn.exchanges == []
