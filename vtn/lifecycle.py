"""Event status over time: far → near → active → completed (or cancelled), on schedule.

APScheduler fires a reconcile at each event's status boundaries; a periodic reconcile catches
anything missed (clock jumps, events written by other processes). A status change is stored and,
because a VEN's delivered set includes statuses, re-distributed at each VEN's next poll.

Every process plans the reconciles (so that any of them can take over), but only the leader
(vtn/cluster/leadership.py) writes: a follower's reconcile does nothing, and it learns the leader's changes
from the change feed.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from mapping.oadr.lifecycle import delivered_until, event_end, event_status, status_boundaries
from mapping.oadr.model import EventStatus
from vtn.context import VtnContext
from vtn.domain import LiveEvent
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.lifecycle")

#: how long an open-ended (duration 0) cancelled event keeps being distributed
CANCELLED_OPEN_ENDED_GRACE = timedelta(days=1)


class Lifecycle:
    """Keeps every live event's status true to the clock."""

    def __init__(self, ctx: VtnContext, scheduler: AsyncIOScheduler, leads: Callable[[], bool] = lambda: True) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        #: whether this process is the one that writes status changes (see vtn/cluster/leadership.py)
        self.leads = leads

    def schedule(self, live: LiveEvent) -> None:
        """Plan reconciles at the event's future status boundaries."""
        event = live.event
        now = self.ctx.now()
        points = status_boundaries(
            event.dtstart,
            event.duration,
            ramp_up=event.ramp_up,
            near_window=self.ctx.config.near_window,
            start_after=event.start_after,
        )
        for index, at in enumerate(points):
            if at > now:
                self.scheduler.add_job(
                    self.reconcile,
                    "date",
                    run_date=at,
                    id=f"status:{event.event_id}:{index}",
                    replace_existing=True,
                    misfire_grace_time=None,
                )

    def _target_status(self, live: LiveEvent) -> tuple[str, bool]:
        event, now = live.event, self.ctx.now()
        if live.cancelled:
            end = event_end(event.dtstart, event.duration)
            closes_at = end if end is not None else event.modification_datetime or now
            if end is None:
                closes_at = closes_at + CANCELLED_OPEN_ENDED_GRACE
            return EventStatus.CANCELLED, now >= closes_at
        status = event_status(event.dtstart, event.duration, now, ramp_up=event.ramp_up, near_window=self.ctx.config.near_window)
        until = delivered_until(event.dtstart, event.duration, event.start_after)
        return status, until is not None and now >= until

    async def reconcile(self) -> int:
        """Store and apply every status that changed; returns how many changed (0 on a follower)."""
        if not self.leads():
            return 0
        changed = 0
        for live in list(self.ctx.live.events.values()):
            status, closed = self._target_status(live)
            if status == live.event.status and not closed:
                continue
            event_id = live.event.event_id
            written = await self.ctx.store.call(
                repo.set_event_status, event_id, live.event.modification_number, status, closed, self.ctx.now()
            )
            if not written:  # done already (by a previous leader) or the event changed meanwhile: take the store's word
                found = await self.ctx.store.call(repo.load_event, event_id)
                if found is not None:
                    self.ctx.live.put_event(*found)
                continue
            self.ctx.live.set_status(event_id, status, closed)
            changed += 1
            log.info("event %s: %s → %s%s", event_id, live.event.status, status, " (closed)" if closed else "")
        return changed
