"""Our site VEN driven from a test: a recording hooks object and a VenProcess factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from mapping.oadr import model as m
from ven.config import OptPolicy, SiteConfig, VenConfig
from ven.runner import VenProcess


@dataclass
class RecordingHooks:
    """Keeps every callback as (kind, event_id, detail) in order."""

    calls: list[tuple[str, str, object]] = field(default_factory=list)

    async def on_event(self, site: SiteConfig, event: m.Event, opt_type: str) -> None:
        self.calls.append(("event", event.event_id, (event.modification_number, opt_type)))

    async def on_start(self, site: SiteConfig, event: m.Event, resumed: bool) -> None:
        self.calls.append(("start", event.event_id, resumed))

    async def on_interval(self, site: SiteConfig, event: m.Event, index: int) -> None:
        self.calls.append(("interval", event.event_id, index))

    async def on_end(self, site: SiteConfig, event: m.Event) -> None:
        self.calls.append(("end", event.event_id, None))

    async def on_cancel(self, site: SiteConfig, event: m.Event, implicit: bool) -> None:
        self.calls.append(("cancel", event.event_id, implicit))

    def kinds(self, event_id: str) -> list[str]:
        """The callback kinds seen for one event, in order."""
        return [kind for kind, eid, _ in self.calls if eid == event_id]


def ven_config(vtn_url: str, store: Path, *names: str, vtn_id: str | None = "CARIFLEX-VTN", **site_fields: object) -> VenConfig:
    """A VEN configuration for tests: fast polls until the VTN says otherwise, short back-off."""
    # a home battery unless told otherwise: a site with something to shed, so that a SIMPLE level is opted in
    site_fields = {"asset": {"kind": "battery"}, **site_fields}
    sites = tuple(SiteConfig(name=n, ven_name=n, opt=OptPolicy(min_import_limit_kw=1.0), **site_fields) for n in names)  # type: ignore[arg-type]
    return VenConfig(
        vtn_url=vtn_url,
        vtn_id=vtn_id,
        store_path=store,
        request_timeout=timedelta(seconds=3),
        default_poll_interval=timedelta(seconds=1),
        max_backoff=timedelta(seconds=2),
        sites=sites,
    )


@asynccontextmanager
async def running_ven(config: VenConfig, hooks: RecordingHooks | None = None) -> AsyncIterator[VenProcess]:
    """Start a VEN process; always stop it."""
    process = VenProcess(config, hooks=hooks or RecordingHooks())
    await process.start(spread_first_polls=False)
    try:
        yield process
    finally:
        await process.stop()
