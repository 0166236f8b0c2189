"""One site VEN dispatching over S2 with a real FlexMeasures behind it: our VTN (in process), the VEN process with
`[flexmeasures]` and its S2 CEM on an ephemeral port, the site registered — for the tests whose S2 devices take a
real FlexMeasures schedule (tests/test_ven_s2_flexmeasures.py)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from demo.flexmeasures_server import FlexMeasuresServer
from tests.support.eventually import eventually
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from ven.config import FlexMeasuresSettings, S2Settings
from ven.runner import VenProcess


@dataclass
class S2SiteVen:
    """The running pieces: the VTN, the VEN process, the site's name and the CEM's URL for its RM."""

    vtn: VtnUnderTest
    process: VenProcess
    name: str
    url: str


@asynccontextmanager
async def s2_site_ven(
    db_url: str,
    tmp_path: Path,
    flexmeasures: FlexMeasuresServer,
    token: str,
    feed_in_price_per_kwh: float = 0.0,
    **site_fields: object,
) -> AsyncIterator[S2SiteVen]:
    """A registered site VEN whose device (`site_fields`, e.g. `asset`) is paired over S2 with `token`, paid
    `feed_in_price_per_kwh` for its export; stopped on the way out."""
    name = f"fm-s2-{uuid.uuid4().hex[:8]}"
    fm = FlexMeasuresSettings(flexmeasures.base_url, flexmeasures.email, flexmeasures.password, timedelta(seconds=120))
    async with running_vtn(config_for_tests(db_url, poll_interval=timedelta(seconds=1))) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, s2_token=token, **site_fields)
        s2 = S2Settings(port=0, lookahead=timedelta(hours=1), reception_timeout=timedelta(seconds=20))
        sites = tuple(replace(s, opt=replace(s.opt, feed_in_price_per_kwh=feed_in_price_per_kwh)) for s in config.sites)
        config = replace(config, sites=sites, flexmeasures=fm, s2=s2, report_duration=timedelta(hours=3))
        process = VenProcess(config)
        await process.start(spread_first_polls=False)
        try:
            assert process.cem is not None and process.cem.port
            site = process.vens[name].site
            await eventually(lambda: site.registration is not None, what="registration")
            yield S2SiteVen(vtn, process, name, f"ws://127.0.0.1:{process.cem.port}/")
        finally:
            await process.stop()
