"""Push over mutual TLS: the VTN pushes with its own certificate, the VEN's endpoint accepts only
clients with a certificate from the CA, and the VTN pushes only to an endpoint presenting the
certificate the VEN registered with (pinned by fingerprint)."""

import ssl
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest

from tests.support.eventually import eventually
from tests.support.push_tls import push_ven_over_tls
from tests.support.ven_harness import RecordingHooks
from vtn.store import repository as repo


async def _answered(vtn, event_id: str) -> bool:
    return bool(await vtn.ctx.store.call(repo.event_responses, event_id))


async def test_G0_9010_TH_VEN_push_over_mutual_tls(test_pki, sqlite_url, tmp_path):
    """G0_9010 (Security - cipher and X.509 certificate support, push) with our VEN as the harness: the
    whole exchange runs over the 2.0b TLS profile both ways; pinning refuses an endpoint with another
    certificate (the push is counted as failed, the event stays undelivered)."""
    hooks = RecordingHooks()
    async with push_ven_over_tls(test_pki, sqlite_url, tmp_path, hooks=hooks) as (vtn, site):
        assert site.push_address is not None and site.push_address.startswith("https://")
        record = vtn.ctx.live.vens[site.ven_id]
        assert record.fingerprint == test_pki.fingerprint("site-a-ecdsa") and record.http_pull_model is False
        event = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=1))
        await eventually(lambda: _answered(vtn, event.event_id), "the event pushed over mTLS and answered", timeout=15)
        assert vtn.process.pusher.counters.failures == 0

        # the endpoint does not let a client without a certificate in
        plain = ssl.create_default_context(cafile=str(test_pki.cert("ca")))
        plain.check_hostname = False
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientError):
                async with session.post(f"{site.push_address}/EiEvent", data=b"<x/>", ssl=plain) as response:
                    await response.read()

        # pretend the VEN registered with another certificate: the VTN refuses to push to this endpoint
        vtn.ctx.live.put_ven(replace(record, fingerprint=test_pki.fingerprint("site-b-ecdsa")))
        second = await vtn.create_event(values=(2.0,), start_in=timedelta(hours=2))
        await eventually(lambda: vtn.process.pusher.counters.failures >= 1, "a refused push", timeout=15)
        assert not await _answered(vtn, second.event_id)
        assert ("event", second.event_id, (0, "optIn")) not in hooks.calls


async def test_push_with_xml_signatures(test_pki, sqlite_url, tmp_path):
    """A push VEN registered with oadrXmlSignature true: the VTN signs what it pushes, the VEN checks it
    and signs its answer, the VTN checks that (bad answers would be counted) and stores the optIn."""
    async with push_ven_over_tls(test_pki, sqlite_url, tmp_path, xml_signatures=True) as (vtn, site):
        assert vtn.ctx.live.vens[site.ven_id].xml_signature is True
        event = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=1))
        await eventually(lambda: _answered(vtn, event.event_id), "the signed push answered with a signed optIn", timeout=20)
        counters = vtn.process.pusher.counters
        assert counters.bad_answers == 0 and counters.failures == 0
