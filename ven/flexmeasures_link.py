"""Opening the VENs' FlexMeasures connection and building its hooks from the configuration."""

from urllib.parse import urlparse

from flexmeasures_client import FlexMeasuresClient

from ven.config import FlexMeasuresSettings, VenConfig
from ven.flexmeasures_hooks import FlexMeasuresHooks
from ven.provision import provision
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


async def flexmeasures_hooks(config: VenConfig, store: VenStore) -> FlexMeasuresHooks:
    """Provision (idempotently) the configured sites, re-apply held events, and return hooks that apply events to them."""
    if config.flexmeasures is None:
        raise ValueError("FlexMeasures is not enabled in the VEN configuration ([flexmeasures] enabled = true)")
    client = client_for(config.flexmeasures)
    assets = await provision(client, config.sites)
    hooks = FlexMeasuresHooks(client, assets, store.events, utc_now, config.max_backoff)
    await hooks.resume(config.sites)
    return hooks
