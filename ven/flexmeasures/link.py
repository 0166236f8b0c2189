"""Opening the VENs' FlexMeasures connection and building what uses it from the configuration:
event hooks, the telemetry forwarder and the FlexMeasures telemetry source."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

from flexmeasures_client import FlexMeasuresClient

from ven.config import FlexMeasuresSettings, SiteConfig, VenConfig
from ven.flexmeasures.hooks import FlexMeasuresHooks
from ven.flexmeasures.provision import SiteAssets, provision
from ven.site import utc_now
from ven.store import VenStore


def client_for(settings: FlexMeasuresSettings) -> FlexMeasuresClient:
    """A flexmeasures-client for `settings.url` (http or https)."""
    url = urlparse(settings.url)
    timeout = settings.schedule_timeout.total_seconds()
    return FlexMeasuresClient(
        email=settings.email,
        password=settings.password,
        host=url.netloc,
        ssl=url.scheme == "https",
        job_polling_timeout=timeout,
        request_timeout=min(timeout, 30.0),
    )


@dataclass
class FlexMeasuresConnection:
    """A logged-in client and the ids of the provisioned sites' assets and sensors."""

    settings: FlexMeasuresSettings
    client: FlexMeasuresClient
    assets: dict[str, SiteAssets]


async def connect(config: VenConfig) -> FlexMeasuresConnection:
    """Provision (idempotently) the configured sites and keep the client."""
    if config.flexmeasures is None:
        raise ValueError("FlexMeasures is not enabled in the VEN configuration ([flexmeasures] enabled = true)")
    client = client_for(config.flexmeasures)
    return FlexMeasuresConnection(config.flexmeasures, client, await provision(client, config.sites))


def flexmeasures_hooks(
    config: VenConfig,
    store: VenStore,
    connection: FlexMeasuresConnection,
    soc_percent: Callable[[SiteConfig, datetime], float | None] | None = None,
) -> FlexMeasuresHooks:
    """Hooks that apply events to the sites; schedules start from `soc_percent`. The caller re-applies the
    held events (`resume`) once the site VENs exist, so that what cannot be honoured can be told."""
    return FlexMeasuresHooks(
        connection.client, connection.assets, store.events, utc_now, config.max_backoff, soc_percent, config.flex.horizon
    )
