"""The set-up the push-over-TLS tests share: our VTN with the test PKI's server certificate, and our VEN
(site-a) in push mode with its own certificate, registered over mutual TLS."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from certs.tls import TlsSettings
from tests.conformance.push_helpers import FAST_PUSH
from tests.support.eventually import eventually
from tests.support.pki import TestPki
from tests.support.tls_harness import served_vtn
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import VtnUnderTest, config_for_tests
from ven.config import PushSettings
from ven.site import Site


def site_tls(test_pki: TestPki) -> TlsSettings:
    """Each VEN's own ECDSA certificate (`{ven_name}` filled in per site) and the test CA."""
    return TlsSettings(
        chains=((test_pki.root / "{ven_name}-ecdsa.crt", test_pki.root / "{ven_name}-ecdsa.key"),), ca_file=test_pki.cert("ca")
    )


@asynccontextmanager
async def push_ven_over_tls(
    test_pki: TestPki, db_url: str, tmp_path: Path, *, xml_signatures: bool = False, hooks: RecordingHooks | None = None
) -> AsyncIterator[tuple[VtnUnderTest, Site]]:
    """(the VTN, site-a's VEN) once site-a has registered in push mode over mutual TLS."""
    async with served_vtn(config_for_tests(db_url, tls=test_pki.server(), push=FAST_PUSH)) as vtn:
        config = replace(
            ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a"),
            tls=site_tls(test_pki),
            push=PushSettings(port=0),
            xml_signatures=xml_signatures,
        )
        async with running_ven(config, hooks) as ven:
            site = ven.vens["site-a"].site
            await eventually(lambda: site.registration is not None, "registration over mutual TLS", timeout=30)
            yield vtn, site
