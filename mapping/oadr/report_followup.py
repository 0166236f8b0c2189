"""What a VTN does about a report request the VEN has not answered. Pure: the clock is an argument.

A VEN answers an oadrCreateReport with oadrCreatedReport. Some never answer a request piggy-backed on
oadrRegisteredReport (the EPRI VEN), so a request still unanswered a while after it was last sent is sent again on
its own, a bounded number of times; past that the operator is told it stays unanswered.
"""

from datetime import datetime, timedelta
from enum import StrEnum


class Followup(StrEnum):
    """The next step for an unanswered request."""

    WAIT = "wait"
    RESEND = "resend"
    GIVE_UP = "give_up"


def followup(last_sent: datetime, resends: int, now: datetime, *, after: timedelta, most: int) -> Followup:
    """For a request last sent at `last_sent` and sent again `resends` times already: wait until `after` has passed
    since it was last sent, then send it again while fewer than `most` resends were made, else give up."""
    if now - last_sent < after:
        return Followup.WAIT
    return Followup.RESEND if resends < most else Followup.GIVE_UP
