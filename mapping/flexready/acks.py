"""Acknowledgements per site, from what the VENs answered: oadrCreatedEvent responses and oadrCreateOpt."""

from dataclasses import dataclass

from mapping.oadr.codes import ResponseCode
from mapping.oadr.model import OptType

ACCEPTED, REFUSED, PENDING, CANCELLED = "accepted", "refused", "pending", "cancelled"


@dataclass(frozen=True)
class Response:
    """One eventResponse of a VEN for the site's event."""

    modification_number: int
    opt_type: str
    code: int
    description: str


@dataclass(frozen=True)
class Ack:
    """A site's acknowledgement: accepted, refused (with the reason), or pending (no answer yet)."""

    state: str
    reason: str | None = None
    modification_number: int | None = None


def site_ack(
    placement_refused: str | None, responses: list[Response], opted_out: str | None = None, modification_number: int = 0
) -> Ack:
    """What a site said: a refusal at placement wins, then an opt-out (oadrCreateOpt), then the latest
    eventResponse — pending while the event's current modification (`modification_number`) is unanswered."""
    if placement_refused is not None:
        return Ack(REFUSED, placement_refused)
    if opted_out is not None:
        return Ack(REFUSED, f"opted out ({opted_out})")
    if not responses:
        return Ack(PENDING)
    latest = responses[-1]
    if latest.modification_number < modification_number:
        return Ack(PENDING, f"awaiting the answer to modification {modification_number}", latest.modification_number)
    if latest.code != ResponseCode.OK:
        return Ack(REFUSED, f"code {latest.code}: {latest.description}", latest.modification_number)
    if latest.opt_type == OptType.OPT_OUT:
        # a VEN may put its reason in the description, or only the code's text ("OK")
        said = latest.description if latest.description not in ("", "OK") else None
        return Ack(REFUSED, said or "the site's VEN opted out", latest.modification_number)
    return Ack(ACCEPTED, None, latest.modification_number)
