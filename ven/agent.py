"""A site VEN's main loop: register, poll until drained, answer what the VTN asks, back off with
jitter when the VTN is away — never crash, never lose state."""

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from mapping.backoff import backoff_delay
from mapping.flex.unmet import Window, before, covers, union
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.model import EventStatus, OptType
from ven import event_book, metrics
from ven.events import EventRunner
from ven.reporting import Reporter
from ven.site import Site, new_request_id
from ven.store import KnownEvent, Registration
from ven.transport import LinkDown, Message, VtnProtocolError

log = logging.getLogger("cariflex.ven.agent")

MAX_MESSAGES_PER_CYCLE = 100

#: how a VEN answers a VTN-initiated message: (service, message) → the VTN's reply, if any
Answerer = Callable[[str, Message], Awaitable[Message | None]]

#: what a push answerer returns once the answer has gone out in the HTTP response to the push: the VTN
#: takes it there as it takes a POSTed one, and has no way left to refuse it to us
GIVEN_IN_PUSH_RESPONSE = m.Response(m.EiResponse(ResponseCode.OK, "given in the HTTP response to the push"))


class RegistrationRefused(Exception):
    """The VTN would not register us (or is not the VTN we were configured for)."""


class SiteVen:
    """The OpenADR client role of one site."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.events = EventRunner(site)
        self.reports = Reporter(site)
        self.failures = 0
        self._stop = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------------------

    def resume(self) -> None:
        """Pick up the stored registration, events and report requests (after a restart); before `run`, and
        before a push endpoint opens: a push that arrives at once finds the VEN registered."""
        site = self.site
        site.registration = site.store.registration(site.name)
        if site.registration is not None:
            held = self.events.resume_all()
            self.reports.resume()
            log.info(
                "%s: resumed as %s (registration %s): %d events held",
                site.name,
                site.registration.ven_id,
                site.registration.registration_id,
                held,
            )

    async def run(self) -> None:
        """Until stopped: stay registered and poll at the VTN's pace (after `resume`)."""
        while not self._stop.is_set():
            try:
                if self.site.registration is None:
                    await self.register()
                if not self.reports.registered:
                    await self.reports.register()
                await self.reports.flush()
                if self.site.push_address is None:
                    await self.poll_until_drained()  # in push mode the VTN POSTs to our endpoint instead
                self.failures = 0
                wait = self.poll_interval()
            except (LinkDown, VtnProtocolError, RegistrationRefused) as exc:
                self.failures += 1
                self.site.tally.inc(metrics.CYCLE_FAILURES, (self.site.name, type(exc).__name__))
                wait = self.backoff()
                log.warning("%s: %s — retrying in %.1f s", self.site.name, exc, wait)
            except Exception as exc:  # a defect must not stop the site's VEN
                self.failures += 1
                self.site.tally.inc(metrics.CYCLE_FAILURES, (self.site.name, type(exc).__name__))
                wait = self.backoff()
                log.exception("%s: unexpected error — retrying in %.1f s", self.site.name, wait)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=wait)
            except TimeoutError:
                pass

    def stop(self) -> None:
        """Ask the loop to end after the current step."""
        self._stop.set()

    def poll_interval(self) -> float:
        """The VTN's requested poll frequency, else the configured default."""
        return self.site.poll_interval()

    def backoff(self) -> float:
        """Exponential back-off with jitter from the poll interval, capped by `max_backoff`."""
        return backoff_delay(self.failures, self.poll_interval(), self.site.ven.max_backoff.total_seconds())

    # --- registration ---------------------------------------------------------------------------

    def _check_vtn_id(self, vtn_id: str) -> None:
        expected = self.site.ven.vtn_id
        if expected is not None and vtn_id != expected:
            raise RegistrationRefused(
                f"the VTN announces vtnID {vtn_id!r}, this VEN is configured for {expected!r} (case counts)"
            )

    async def register(self) -> None:
        """oadrQueryRegistration, oadrCreatePartyRegistration, then register our reports."""
        link, site = self.site.link, self.site
        query = await link.send("EiRegisterParty", m.QueryRegistration(new_request_id()))
        if not isinstance(query, m.CreatedPartyRegistration):
            raise RegistrationRefused(f"oadrQueryRegistration was answered with {type(query).__name__}")
        self._check_vtn_id(query.vtn_id)
        previous = site.store.registration(site.name)
        reply = await link.send(
            "EiRegisterParty",
            m.CreatePartyRegistration(
                request_id=new_request_id(),
                profile_name="2.0b",
                transport_name="simpleHttp",
                report_only=False,
                xml_signature=link.signs,
                ven_name=site.config.ven_name,
                http_pull_model=site.push_address is None,
                transport_address=site.push_address,
                ven_id=previous.ven_id if previous else None,
                registration_id=previous.registration_id if previous else None,
            ),
        )
        if not isinstance(reply, m.CreatedPartyRegistration) or reply.response.code != ResponseCode.OK:
            if previous is not None and isinstance(reply, m.CreatedPartyRegistration):
                site.store.forget_registration(site.name)  # our old ids are gone on the VTN side: start afresh
            detail = (
                f"{reply.response.code} {reply.response.description}"
                if isinstance(reply, m.CreatedPartyRegistration)
                else type(reply).__name__
            )
            if site.push_address is not None and isinstance(reply, m.CreatedPartyRegistration):
                if reply.response.code == ResponseCode.COMPLIANCE_ERROR:
                    detail += " (if this VTN takes no push-mode VENs, set push = false under [vtn] in ven.toml)"
            raise RegistrationRefused(f"registration refused: {detail}")
        self._check_vtn_id(reply.vtn_id)
        if not reply.ven_id or not reply.registration_id:
            raise RegistrationRefused("the VTN registered us without a venID or registrationID")
        freq = reply.poll_freq.total_seconds() if reply.poll_freq else None
        site.registration = Registration(reply.ven_id, reply.registration_id, reply.vtn_id, freq)
        site.store.save_registration(site.name, site.registration)
        how = f"poll every {freq} s" if site.push_address is None else f"push mode: the VTN POSTs to {site.push_address}"
        log.info("%s: registered as %s (registration %s, %s)", site.name, reply.ven_id, reply.registration_id, how)
        await self.reports.register()

    def _lose_registration(self, why: str) -> None:
        log.warning("%s: registration lost (%s); registering again", self.site.name, why)
        for known in self.site.store.events(self.site.name).values():
            self.events.unschedule(known.event.event_id)
        self.site.store.forget_registration(self.site.name)
        self.site.registration = None

    # --- opt schedules ------------------------------------------------------------------------

    async def create_opt_schedule(
        self, windows: tuple[tuple[datetime, timedelta], ...], opt_type: str = OptType.OPT_OUT, reason: str = "x-schedule"
    ) -> str:
        """Tell the VTN when this site is (un)available: oadrCreateOpt with a vavailability schedule; returns the optID."""
        if self.site.registration is None:
            raise RegistrationRefused("not registered: an opt schedule needs a venID")
        opt_id = f"opt-{uuid.uuid4().hex[:12]}"
        await self._send_opt(opt_id, opt_type, reason, windows)
        log.info("%s: %s schedule %s sent (%d windows)", self.site.name, opt_type, opt_id, len(windows))
        return opt_id

    async def opt_out_event(self, event_id: str, reason: str = "x-schedule") -> str:
        """Opt out of one held event after having answered it (2.0b's asynchronous opt out): oadrCreateOpt
        optOut naming the event (qualifiedEventID); once the VTN accepts it the site stops acting on the event
        (its end callback runs at once if it is under way) and later modifications are answered optOut.
        Returns the optID; an event the VEN does not hold → KeyError; refused by the VTN → VtnProtocolError."""
        site = self.site
        if site.registration is None:
            raise RegistrationRefused("not registered: an opt needs a venID")
        known = site.store.events(site.name).get(event_id)
        if known is None or known.event.status == EventStatus.CANCELLED:
            raise KeyError(f"event {event_id} is not held by site {site.name}")
        opt_id = f"opt-{uuid.uuid4().hex[:12]}"
        await self._send_opt(opt_id, OptType.OPT_OUT, reason, (), known.event.market_context, known.event)
        was_in = known.opt_type == OptType.OPT_IN
        site.store.save_operator_opt_out(site.name, event_id, opt_id)
        site.store.save_event(site.name, replace(known, opt_type=OptType.OPT_OUT))
        self.events.unschedule(event_id)
        running = event_book.current_interval(known.event, timedelta(seconds=known.start_offset_s), site.clock()) is not None
        if was_in and running:
            await site.hooks.on_end(site.config, known.event)  # the site stops acting on it now
        log.info("%s: opted out of event %s (optID %s)", site.name, event_id, opt_id)
        return opt_id

    async def _send_opt(
        self,
        opt_id: str,
        opt_type: str,
        reason: str,
        windows: tuple[Window, ...],
        market_context: str | None = None,
        event: m.Event | None = None,
    ) -> None:
        """oadrCreateOpt: a schedule of `windows`, or (with `event`) an opt on that event; refused → VtnProtocolError."""
        message = r.CreateOpt(
            opt_id=opt_id,
            opt_type=opt_type,
            opt_reason=reason,
            ven_id=self.site.ven_id,
            created=self.site.clock().replace(microsecond=0),
            request_id=new_request_id(),
            market_context=market_context,
            windows=windows,
            event_id=event.event_id if event else None,
            modification_number=event.modification_number if event else None,
            target=m.Target(ven_ids=(self.site.ven_id,)),
        )
        _accepted(await self.site.link.send("EiOpt", message), "oadrCreateOpt")

    async def opt_out_unmet(self, unmet: Mapping[str, tuple[Window, ...]], why: str) -> None:
        """Tell the VTN, as the site's `[opt] on_breach` says, which events its schedule cannot honour (called
        after every schedule; `unmet` may be empty): "partial" sends an oadrCreateOpt optOut schedule
        (vavailability) of the windows given, "optOut" — and "partial" with no windows (the job failed) —
        an optOut on the whole event (qualifiedEventID), "log" nothing. One opt per event (optID
        opt-unmet-<eventID>, kept in the VEN's store): replaced when it changes, never losing a window that
        has begun; withdrawn (oadrCancelOpt) when the schedule honours an event that has not started. The
        site keeps following its best schedule. A VTN that is away or refuses is told after the next one."""
        site = self.site
        for event_id, windows in unmet.items():
            log.warning("%s: event %s cannot be fully honoured (%s): %s", site.name, event_id, why, _windows_text(windows))
        if site.config.opt.on_breach == "log" or site.registration is None:
            return
        held, told = site.store.events(site.name), site.store.unmet_opts(site.name)
        for event_id in sorted(set(told) | set(unmet)):
            known = held.get(event_id)
            try:
                if known is None or known.event.status == EventStatus.CANCELLED:
                    site.store.delete_unmet_opt(site.name, event_id)  # the event is gone: nothing left to say
                elif event_id in unmet:
                    await self._tell_unmet(known, unmet[event_id], told.get(event_id), why)
                else:
                    await self._withdraw_unmet(known, told[event_id])
            except (LinkDown, VtnProtocolError) as exc:
                log.warning("%s: VTN not told about event %s (%s); told after the next schedule", site.name, event_id, exc)

    async def _tell_unmet(
        self, known: KnownEvent, windows: tuple[Window, ...], previous: tuple[int, tuple[Window, ...]] | None, why: str
    ) -> None:
        if known.opt_type != OptType.OPT_IN:
            return  # answered optOut already
        site, event = self.site, known.event
        now = site.clock()
        # windows that span the whole event are the whole event: an opt on it, as a third-party VTN reads it best
        spans = event.duration > timedelta(0) and covers(windows, event.dtstart, event.dtstart + event.duration)
        whole = site.config.opt.on_breach == "optOut" or not windows or spans or (previous is not None and not previous[1])
        chosen: tuple[Window, ...] = () if whole else union(before(previous[1], now) if previous else (), windows)
        if previous == (event.modification_number, chosen):
            return
        # the whole event: an opt on it; some windows: an availability schedule (what 2.0b gives windows a meaning in)
        await self._send_opt(
            f"opt-unmet-{event.event_id}", OptType.OPT_OUT, "mustRun", chosen, event.market_context, event if whole else None
        )
        site.store.save_unmet_opt(site.name, event.event_id, event.modification_number, chosen)
        log.warning("%s: optOut sent for event %s (%s): %s", site.name, event.event_id, why, _windows_text(chosen))

    async def _withdraw_unmet(self, known: KnownEvent, told: tuple[int, tuple[Window, ...]]) -> None:
        site, event = self.site, known.event
        if event.dtstart <= site.clock() or before(told[1], site.clock()):
            return  # it has begun: the optOut stands for what happened
        try:
            await self.cancel_opt(f"opt-unmet-{event.event_id}")
        except VtnProtocolError as exc:
            if exc.code != ResponseCode.INVALID_ID:  # 452: the VTN holds no such opt any more, which is the aim
                raise
        site.store.delete_unmet_opt(site.name, event.event_id)
        log.info("%s: event %s is honoured now: its optOut is withdrawn", site.name, event.event_id)

    async def cancel_opt(self, opt_id: str) -> None:
        """Withdraw an opt schedule: oadrCancelOpt."""
        message = r.CancelOpt(request_id=new_request_id(), opt_id=opt_id, ven_id=self.site.ven_id)
        _accepted(await self.site.link.send("EiOpt", message), "oadrCancelOpt")

    # --- the VTN's reports ------------------------------------------------------------------------

    async def request_vtn_metadata(self, report_back: timedelta = timedelta(0), duration: timedelta = timedelta(0)) -> str:
        """Ask the VTN for its METADATA report (2.0b VTN reporting): oadrCreateReport, one-shot, or periodic every
        `report_back` over `duration` from now (0: until cancelled). The VTN answers with oadrRegisterReport at
        our polls, which are acknowledged as any. Returns the reportRequestID; refused → VtnProtocolError."""
        if self.site.registration is None:
            raise RegistrationRefused("not registered: a report request needs a venID")
        request_id = f"rr-vtn-{uuid.uuid4().hex[:12]}"
        request = r.ReportRequest(
            request_id,
            "METADATA",
            timedelta(0),
            report_back,
            (r.SpecifierPayload("0"),),  # the schema needs one; a METADATA request names no real rID
            self.site.clock().replace(microsecond=0),
            duration,
        )
        reply = await self.site.link.send("EiReport", r.CreateReport(new_request_id(), (request,), self.site.ven_id))
        _accepted(reply, "oadrCreateReport")
        log.info(
            "%s: asked the VTN for its METADATA report (%s); pending at the VTN: %s",
            self.site.name,
            request_id,
            reply.pending_reports,
        )  # type: ignore[union-attr]
        return request_id

    async def cancel_vtn_report(self, report_request_id: str, report_to_follow: bool = False) -> tuple[str, ...]:
        """Cancel a request made with `request_vtn_metadata`: oadrCancelReport. Returns the requests the VTN says
        are still pending; refused → VtnProtocolError."""
        message = r.CancelReport(new_request_id(), (report_request_id,), report_to_follow, self.site.ven_id)
        reply = await self.site.link.send("EiReport", message)
        _accepted(reply, "oadrCancelReport")
        log.info("%s: cancelled our request %s for the VTN's METADATA report", self.site.name, report_request_id)
        return reply.pending_reports  # type: ignore[union-attr]

    # --- polling --------------------------------------------------------------------------------

    async def poll_until_drained(self) -> None:
        """Poll until the VTN says nothing is pending (oadrResponse)."""
        for _ in range(MAX_MESSAGES_PER_CYCLE):
            if self.site.registration is None:
                return
            reply = await self.site.link.send("OadrPoll", m.Poll(ven_id=self.site.ven_id))
            self.site.tally.inc(metrics.POLLS, (self.site.name,))
            if reply is None:
                return  # tolerated: an empty body means nothing pending
            if isinstance(reply, m.Response):
                if reply.response.code == ResponseCode.NOT_REGISTERED_OR_AUTHORIZED:
                    self._lose_registration(reply.response.description)
                elif reply.response.code != ResponseCode.OK:
                    log.warning("%s: poll answered %s %s", self.site.name, reply.response.code, reply.response.description)
                return
            await self.handle(reply)

    async def handle(self, message: object, answer_with: Answerer | None = None) -> None:
        """Act on one VTN-initiated message and send the answer the profile requires: by POSTing it to
        the VTN (pull), or through `answer_with` (push: the answer goes in the HTTP response)."""
        site = self.site
        send: Answerer = answer_with or site.link.send
        if isinstance(message, m.DistributeEvent):
            expected = site.ven.vtn_id or (site.registration.vtn_id if site.registration else None)
            created = await self.events.distribute(message, expected, pushed=answer_with is not None)
            if created is not None:
                answer = await send("EiEvent", created)
                if isinstance(answer, m.Response) and answer.response.code == ResponseCode.OK:
                    self.events.answered(created)
        elif isinstance(message, r.CreateReport):
            await self.reports.accept(message.report_requests, message.request_id, send)
        elif isinstance(message, r.CancelReport):
            held = {q.report_request_id for q, _n, _u in site.store.report_requests(site.name)}
            follow = set(message.report_request_ids) if message.report_to_follow else set()
            pending = tuple(sorted((held - set(message.report_request_ids)) | (follow & held)))
            ack = m.Acknowledgement(
                "oadrCanceledReport", m.EiResponse(request_id=message.request_id), ven_id=site.ven_id, pending_reports=pending
            )
            await send("EiReport", ack)
            await self.reports.cancel(message)  # with reportToFollow: the last report goes out after the acknowledgement
        elif isinstance(message, r.RegisterReport):
            await send("EiReport", r.RegisteredReport(m.EiResponse(request_id=message.request_id), ven_id=site.ven_id))
        elif isinstance(message, r.UpdateReport):
            await send("EiReport", r.UpdatedReport(m.EiResponse(request_id=message.request_id), ven_id=site.ven_id))
        elif isinstance(message, m.RequestReregistration):
            await send("EiRegisterParty", m.Response(m.EiResponse(), ven_id=site.ven_id))
            await self.register()
        elif isinstance(message, m.CancelPartyRegistration):
            ours = site.registration.registration_id if site.registration else None
            if message.registration_id != ours:
                refusal = m.EiResponse(
                    ResponseCode.INVALID_ID, f"registrationID {message.registration_id!r} is not ours", message.request_id
                )
                await send("EiRegisterParty", m.CanceledPartyRegistration(refusal, message.registration_id, site.ven_id))
                return
            await send(
                "EiRegisterParty", m.CanceledPartyRegistration(m.EiResponse(request_id=message.request_id), ours, site.ven_id)
            )
            self._lose_registration("the VTN cancelled our registration")
        else:
            log.warning("%s: ignored an unexpected %s from the VTN", site.name, type(message).__name__)


def _windows_text(windows: tuple[Window, ...]) -> str:
    if not windows:
        return "the whole event"
    return ", ".join(f"{start:%H:%M}–{start + length:%H:%M} UTC" for start, length in windows)


def _accepted(reply: object, what: str) -> None:
    """Refuse anything but an acknowledgement with code 200."""
    if not isinstance(reply, m.Acknowledgement):
        raise VtnProtocolError(f"{what} was answered with {type(reply).__name__}")
    if reply.response.code != ResponseCode.OK:
        raise VtnProtocolError(f"{what} refused: {reply.response.code} {reply.response.description}", reply.response.code)


def jittered_start(max_delay: timedelta) -> float:
    """A random first delay so many site VENs do not all poll in the same instant."""
    return random.uniform(0, max_delay.total_seconds())
