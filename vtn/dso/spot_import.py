"""Import a day-ahead price publication (ENTSO-E A44 or EPEX CSV) as ELECTRICITY_PRICE events of a mainland
program: read, translate (`mapping.dso.spot`), store as the French signals' messages are (`vtn.dso.signals`).

A publication is one message (kind `spot-prices`, its id the document's mRID and revision, or the CSV's
fingerprint): the same file twice creates its events once; a later publication for a day modifies that day's
event while it can still change. The events' source is `dso:<client>/spot-prices` (the command line's client is
`cli`), so they sit in the grid band like Tempo's prices.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.dso.common import AdapterSettings
from mapping.dso.spot import SpotPrices, SpotRefused, check_mainland, translate
from mapping.dso.spot_entsoe import parse_a44
from mapping.dso.spot_epex import parse_epex_csv
from vtn.admin.events import EventRefused
from vtn.dso.signals import apply_message, draft_signal_event
from vtn.store import Tx

KIND = "spot-prices"


@dataclass(frozen=True)
class Imported:
    """What an import did: the events (one per Paris delivery day), whether the publication was already imported."""

    message_id: str
    event_ids: tuple[str, ...]
    duplicate: bool


def read_publication(body: bytes, name: str) -> SpotPrices:
    """An ENTSO-E A44 document (XML) or an EPEX CSV export, by its first character; refused naming what is wrong."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return parse_a44(body)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpotRefused("file", f"neither XML nor UTF-8 text (byte {exc.start})") from exc
    return parse_epex_csv(text, name)


def import_prices(
    session: Tx,
    prices: SpotPrices,
    program: tuple[str, str, str],
    zones: tuple[str, ...],
    client_id: str,
    now: datetime,
    near_window: timedelta,
) -> Imported:
    """Store `prices` as events of `program` (id, market context, name), targeting `zones` (none: every VEN);
    a Martinique program is refused (SpotRefused), so is a change to a day whose event can no longer change."""
    program_id, market_context, name = program
    check_mainland(program_id, market_context, name)
    translation = translate(prices, AdapterSettings(program_id=program_id, zones=zones))
    try:
        drafts = [draft_signal_event(spec, market_context, now, near_window) for spec in translation.events]
        duplicate, event_ids, _ = apply_message(session, KIND, translation.message_id, client_id, drafts, now, near_window)
    except EventRefused as exc:
        raise SpotRefused("prices", str(exc)) from exc
    return Imported(translation.message_id, tuple(event_ids), duplicate)
