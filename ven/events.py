"""The VEN's side of EiEvent: taking an oadrDistributeEvent apart, answering oadrCreatedEvent,
and running each event's start / interval / end callbacks on time (with startafter randomization)."""

import logging
import random
from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.model import EventStatus, OptType
from ven import event_book, metrics
from ven.opt_policy import OptDecision, decide
from ven.site import Site
from ven.store import KnownEvent

log = logging.getLogger("cariflex.ven.events")


def _opt_type(previous: KnownEvent | None) -> OptType:
    """The answer the site gave an event before (optIn when it gave none)."""
    return OptType(previous.opt_type) if previous is not None and previous.opt_type else OptType.OPT_IN


class EventRunner:
    """One site's events."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def _job_prefix(self, event_id: str) -> str:
        return f"{self.site.name}:event:{event_id}:"

    def unschedule(self, event_id: str) -> None:
        """Drop every pending callback of an event."""
        prefix = self._job_prefix(event_id)
        for job in self.site.scheduler.get_jobs():
            if job.id.startswith(prefix):
                job.remove()

    def schedule(self, known: KnownEvent, resumed: bool = False) -> None:
        """Plan start, interval and end callbacks; an event already running is resumed at once."""
        event, offset = known.event, timedelta(seconds=known.start_offset_s)
        self.unschedule(event.event_id)
        if known.opt_type != OptType.OPT_IN or event.test_event.lower() not in ("false", ""):
            return  # opted out, or a test event: acknowledged, not acted on
        now = self.site.clock()
        current = event_book.current_interval(event, offset, now)
        if current is not None:
            self.site.scheduler.add_job(
                self._resume, "date", args=[event.event_id, current, resumed], id=self._job_prefix(event.event_id) + "resume"
            )
        for moment in event_book.timeline(event, offset):
            if moment.at <= now or (moment.kind == "interval" and moment.index == 0):
                continue  # interval 0 is run by the start callback, so that start comes first
            self.site.scheduler.add_job(
                self._fire,
                "date",
                run_date=moment.at,
                args=[event.event_id, moment.kind, moment.index],
                id=f"{self._job_prefix(event.event_id)}{moment.kind}:{moment.index}",
                misfire_grace_time=None,
            )

    def _held(self, event_id: str) -> m.Event | None:
        known = self.site.store.events(self.site.name).get(event_id)
        return known.event if known else None

    async def _resume(self, event_id: str, index: int, resumed: bool) -> None:
        event = self._held(event_id)
        if event is not None:
            await self.site.hooks.on_start(self.site.config, event, resumed)
            await self.site.hooks.on_interval(self.site.config, event, index)

    async def _fire(self, event_id: str, kind: str, index: int) -> None:
        event = self._held(event_id)
        if event is None:
            return
        hooks, config = self.site.hooks, self.site.config
        if kind == "start":
            await hooks.on_start(config, event, False)
            await hooks.on_interval(config, event, 0)
        elif kind == "interval":
            await hooks.on_interval(config, event, index)
        else:
            await hooks.on_end(config, event)
            self.site.store.delete_event(self.site.name, event_id)

    def resume_all(self) -> int:
        """Re-plan every held event after a restart; finished ones are dropped. Returns how many are held."""
        now = self.site.clock()
        held = 0
        for known in self.site.store.events(self.site.name).values():
            if event_book.has_ended(known.event, timedelta(seconds=known.start_offset_s), now):
                self.site.store.delete_event(self.site.name, known.event.event_id)
                continue
            held += 1
            if known.event.status != EventStatus.CANCELLED:
                self.schedule(known, resumed=True)
        return held

    def _offset(self, event: m.Event, held: KnownEvent | None) -> float:
        if held is not None:
            return held.start_offset_s
        window = event.start_after.total_seconds() if event.start_after else 0.0
        return random.uniform(0.0, window) if window > 0 else 0.0

    async def distribute(
        self, message: m.DistributeEvent, expected_vtn_id: str | None, pushed: bool = False
    ) -> m.CreatedEvent | None:
        """Apply a distribution; the oadrCreatedEvent to send (None when nothing needs an answer).

        pushed: the VTN pushed it; a pushed distribution that changes nothing is the VTN asking again
        for answers it did not get, so every event that needs one is answered again."""
        if expected_vtn_id is not None and message.vtn_id != expected_vtn_id:
            log.error(
                "%s: oadrDistributeEvent from vtnID %r, expected %r: refused, events kept as they were",
                self.site.name,
                message.vtn_id,
                expected_vtn_id,
            )
            return m.CreatedEvent(
                response=m.EiResponse(ResponseCode.INVALID_ID, f"vtnID {message.vtn_id!r} is not our VTN", message.request_id),
                ven_id=self.site.ven_id,
            )
        if message.response is not None and message.response.code != ResponseCode.OK:
            log.warning(
                "%s: the VTN sent an error instead of events: %s %s",
                self.site.name,
                message.response.code,
                message.response.description,
            )
            return None
        held = self.site.store.events(self.site.name)
        changes = event_book.compare(held, message.events)
        tally, site_name = self.site.tally, self.site.name
        for kind, events in (("new", changes.new), ("modified", changes.modified), ("cancelled", changes.cancelled)):
            if events:
                tally.inc(metrics.EVENTS_RECEIVED, (site_name, kind), len(events))
        answers: list[m.EventResponse] = []
        for event in changes.new + changes.modified:
            decision = (
                self._target_mismatch(event)
                or self._operator_opt_out(event)
                or decide(event, self.site.config.opt, self.site.config)
            )
            tally.inc(metrics.EVENT_OPTS, (site_name, decision.opt_type))
            known = KnownEvent(
                event,
                decision.opt_type,
                held[event.event_id].answered_modification if event.event_id in held else None,
                self._offset(event, held.get(event.event_id)),
            )
            self.site.store.save_event(self.site.name, known)
            self.schedule(known)
            await self.site.hooks.on_event(self.site.config, event, decision.opt_type)
            self._answer(answers, event, decision, message.request_id)
            if decision.opt_type == OptType.OPT_OUT:
                log.info("%s: optOut of %s: %s", self.site.name, event.event_id, decision.reason)
        for event in changes.cancelled:
            previous = held.get(event.event_id)
            self.unschedule(event.event_id)
            self.site.store.save_event(
                self.site.name,
                KnownEvent(event, _opt_type(previous), None, previous.start_offset_s if previous else 0.0),
            )
            await self._cancel_later(event, previous, implicit=False)
            self._answer(
                answers,
                event,
                OptDecision(_opt_type(previous), ResponseCode.OK, "OK"),
                message.request_id,
            )
        for event in changes.status_only:
            previous = held[event.event_id]
            self.site.store.save_event(
                self.site.name, KnownEvent(event, previous.opt_type, previous.answered_modification, previous.start_offset_s)
            )
        now = self.site.clock()
        for gone in changes.vanished:
            if event_book.has_ended(gone.event, timedelta(0), now):
                continue  # completed on the VTN's clock: our own (randomized) end callback still runs
            self.unschedule(gone.event.event_id)
            self.site.store.delete_event(self.site.name, gone.event.event_id)
            if gone.event.status != EventStatus.CANCELLED:
                log.info("%s: event %s is no longer listed: implicitly cancelled", self.site.name, gone.event.event_id)
                await self._cancel_later(gone.event, gone, implicit=True)
        for event in changes.stale:
            previous = held[event.event_id]
            log.warning(
                "%s: event %s came back with modification %s after %s: refused",
                self.site.name,
                event.event_id,
                event.modification_number,
                previous.event.modification_number,
            )
            reason = f"modification {event.modification_number} is older than {previous.event.modification_number}"
            self._answer(
                answers,
                event,
                OptDecision(_opt_type(previous), ResponseCode.OUT_OF_SEQUENCE, reason),
                message.request_id,
            )
        answered_now = {a.event_id for a in answers}
        for event in changes.unanswered(held, asked_again=pushed and changes.nothing_changed):
            if event.event_id not in answered_now:  # our answer did not reach the VTN: say it again
                previous = held[event.event_id]
                self._answer(answers, event, OptDecision(_opt_type(previous), ResponseCode.OK, "OK"), message.request_id)
        if not answers:
            return None
        return m.CreatedEvent(
            response=m.EiResponse(ResponseCode.OK, "OK", message.request_id),
            ven_id=self.site.ven_id,
            event_responses=tuple(answers),
        )

    def _operator_opt_out(self, event: m.Event) -> OptDecision | None:
        """The operator opted out of this event (`SiteVen.opt_out_event`): its modifications stay optOut."""
        opt_id = self.site.store.operator_opt_out(self.site.name, event.event_id)
        if opt_id is None:
            return None
        return OptDecision(OptType.OPT_OUT, ResponseCode.OK, f"opted out by the operator (optID {opt_id})")

    def _target_mismatch(self, event: m.Event) -> OptDecision | None:
        """An event that names VENs (and no group of ours) but not us is refused with 462."""
        target = event.target
        if not target.ven_ids or self.site.ven_id in target.ven_ids:
            return None
        if set(target.group_ids) & set(self.site.config.groups) or target.party_ids:
            return None
        return OptDecision(
            OptType.OPT_OUT,
            ResponseCode.TARGET_MISMATCH,
            f"the event targets other VENs ({', '.join(target.ven_ids)}), not {self.site.ven_id}",
        )

    async def _cancel_later(self, event: m.Event, held: KnownEvent | None, implicit: bool) -> None:
        """Stop a running event at a random moment within its startafter window (as its start was), else now."""
        window = event.start_after.total_seconds() if event.start_after else 0.0
        running = (
            held is not None
            and event_book.current_interval(held.event, timedelta(seconds=held.start_offset_s), self.site.clock()) is not None
        )
        if running and window > 0:
            at = self.site.clock() + timedelta(seconds=random.uniform(0.0, window))
            self.site.scheduler.add_job(
                self.site.hooks.on_cancel,
                "date",
                run_date=at,
                args=[self.site.config, event, implicit],
                id=f"{self._job_prefix(event.event_id)}cancel",
                replace_existing=True,
                misfire_grace_time=None,
            )
            return
        await self.site.hooks.on_cancel(self.site.config, event, implicit)

    @staticmethod
    def _answer(answers: list[m.EventResponse], event: m.Event, decision: OptDecision, request_id: str) -> None:
        if event.response_required == "always":
            answers.append(
                m.EventResponse(
                    int(decision.code),
                    # an optOut says why (the VTN shows it to operators and aggregators); an optIn just "OK"
                    decision.reason if decision.code != 200 or decision.opt_type == OptType.OPT_OUT else "OK",
                    request_id,
                    event.event_id,
                    event.modification_number,
                    decision.opt_type,
                )
            )

    def answered(self, created: m.CreatedEvent) -> None:
        """Remember which modifications the VTN has our answer for."""
        held = self.site.store.events(self.site.name)
        for r in created.event_responses:
            known = held.get(r.event_id)
            if known is not None:
                self.site.store.save_event(
                    self.site.name, KnownEvent(known.event, known.opt_type, r.modification_number, known.start_offset_s)
                )
