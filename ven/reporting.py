"""The VEN's reports: what it registers, answering report requests at any time, sending the data
on schedule, cancellations, and a durable queue so no report is lost when the VTN is away."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from mapping.backoff import backoff_delay
from mapping.curtailment import report as curtailment
from mapping.grid import QUARTER
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.encode import encode
from mapping.oadr.report_profile import offered_reports, shaped_report
from mapping.oadr.vocabulary import power_kw
from ven import metrics
from ven.curtailment_report import curtailment_intervals
from ven.site import Site, new_request_id
from ven.transport import LinkDown, VtnProtocolError

log = logging.getLogger("cariflex.ven.reports")

USAGE, STATUS, HISTORY = "TELEMETRY_USAGE", "TELEMETRY_STATUS", "HISTORY_USAGE"
METADATA = "METADATA"
MAX_INTERVALS_PER_MESSAGE = 500
SAMPLING = r.SamplingRate(timedelta(seconds=1), timedelta(hours=1))
CURTAILMENT_SAMPLING = r.SamplingRate(QUARTER, QUARTER)


def specifier(site: Site, report_name: str) -> str:
    """The reportSpecifierID of one of the site's reports."""
    return f"{site.name}:{report_name}"


def metadata(site: Site) -> tuple[r.ReportMetadata, ...]:
    """TELEMETRY_USAGE (site and asset power, kW), TELEMETRY_STATUS, HISTORY_USAGE (site power, kW), and
    x-ACHIEVED_CURTAILMENT (baseline, measured, achieved per 15-minute interval, kW; mapping/curtailment/report.py),
    as the VEN's report profile offers them (the openleadr profile offers no TELEMETRY_STATUS)."""
    return offered_reports(_all_metadata(site), site.ven.report_profile)


def _all_metadata(site: Site) -> tuple[r.ReportMetadata, ...]:
    now, duration = site.clock(), site.ven.report_duration

    def power(r_id: str) -> r.ReportDescription:
        return r.ReportDescription(r_id=r_id, report_type="usage", reading_type="Direct Read", unit=power_kw(), sampling=SAMPLING)

    return (
        r.ReportMetadata(specifier(site, USAGE), f"METADATA_{USAGE}", now, (power("site-power"), power("asset-power")), duration),
        r.ReportMetadata(
            specifier(site, STATUS),
            f"METADATA_{STATUS}",
            now,
            (r.ReportDescription("status", "x-resourceStatus", "x-notApplicable", sampling=SAMPLING),),
            duration,
        ),
        r.ReportMetadata(specifier(site, HISTORY), f"METADATA_{HISTORY}", now, (power("site-power"),), duration),
        r.ReportMetadata(
            specifier(site, curtailment.REPORT_NAME),
            curtailment.REPORT_NAME,  # a custom report has no METADATA_ name in the schema's list
            now,
            tuple(
                r.ReportDescription(r_id, curtailment.REPORT_TYPES[r_id], reading, power_kw(), CURTAILMENT_SAMPLING)
                for r_id, reading in curtailment.READING_TYPES.items()
            ),
            duration,
        ),
    )


def _report_name(site: Site, specifier_id: str) -> str | None:
    for report_name in (USAGE, STATUS, HISTORY, curtailment.REPORT_NAME):
        if specifier(site, report_name) == specifier_id:
            return report_name
    return None


def _r_ids(site: Site, specifier_id: str) -> set[str]:
    return {d.r_id for report in metadata(site) if report.report_specifier_id == specifier_id for d in report.descriptions}


class Reporter:
    """One site's reporting."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._flushing = asyncio.Lock()
        #: deliveries failed in a row (unreachable, an HTTP error, garbage); 0 once the VTN takes a report
        self.failures = 0
        #: the event-loop time before which the queue is not sent again (backing off); None: send at once
        self._retry_at: float | None = None

    @property
    def registered(self) -> bool:
        """The VTN has our report metadata (kept in the store: a restart does not register it again)."""
        return self.site.store.reports_registered(self.site.name)

    async def register(self) -> None:
        """Send oadrRegisterReport; accept the requests the VTN piggy-backs on its answer."""
        self.site.store.set_reports_registered(self.site.name, False)
        reply = await self.site.link.send("EiReport", r.RegisterReport(new_request_id(), metadata(self.site), self.site.ven_id))
        if isinstance(reply, r.RegisteredReport):
            self.site.store.set_reports_registered(self.site.name, True)
            if reply.response.code != ResponseCode.OK:
                log.warning(
                    "%s: the VTN refused our report registration: %s %s",
                    self.site.name,
                    reply.response.code,
                    reply.response.description,
                )
            if reply.report_requests:
                await self.accept(reply.report_requests, reply.response.request_id)

    async def accept(
        self,
        requests: tuple[r.ReportRequest, ...],
        request_id: str,
        answer_with: Callable[[str, m.Acknowledgement], Awaitable[object]] | None = None,
    ) -> None:
        """Take report requests (from oadrCreateReport or piggy-backed) and answer oadrCreatedReport
        (POSTed to the VTN, or through `answer_with` in push mode)."""
        code, description = ResponseCode.OK, "OK"
        reregister = False
        for request in requests:
            if request.report_specifier_id == METADATA:
                reregister = True
                if request.report_back > timedelta(0):  # periodic: pending, metadata re-sent each period until it ends
                    self.site.store.save_report_request(self.site.name, request, METADATA)
                    self.schedule(request)
                continue
            name = _report_name(self.site, request.report_specifier_id)
            if name is None:
                code, description = ResponseCode.INVALID_ID, f"reportSpecifierID {request.report_specifier_id} is not one of ours"
                log.warning("%s: %s", self.site.name, description)
                continue
            offered = _r_ids(self.site, request.report_specifier_id)
            unknown = [p.r_id for p in request.payloads if p.r_id not in offered]
            if unknown:
                code, description = ResponseCode.INVALID_ID, f"rID {', '.join(unknown)} is not in {request.report_specifier_id}"
                log.warning("%s: %s", self.site.name, description)
                continue
            self.site.store.save_report_request(self.site.name, request, name, self._opening(request))
            self.schedule(request)
        pending = tuple(q.report_request_id for q, _n, _u in self.site.store.report_requests(self.site.name))
        ack = m.Acknowledgement(
            "oadrCreatedReport", m.EiResponse(code, description, request_id), ven_id=self.site.ven_id, pending_reports=pending
        )
        await (answer_with or self.site.link.send)("EiReport", ack)
        if reregister:
            await self.register()

    def _opening(self, request: r.ReportRequest) -> datetime | None:
        """Where the data of a newly accepted request starts: a periodic request without a reportInterval (optional
        in 2.0b; a stock openleadr VTN never sends one) covers the time from its acceptance on — a request held
        already keeps its progress; otherwise its reportInterval says (None)."""
        held = {q.report_request_id: sent for q, _n, sent in self.site.store.report_requests(self.site.name)}
        if request.report_request_id in held:
            return held[request.report_request_id]
        if request.interval_start is None and request.report_back > timedelta(0):
            return self.site.clock().replace(microsecond=0)
        return None

    def schedule(self, request: r.ReportRequest) -> None:
        """Send now (one-shot, history) or every reportBackDuration (periodic)."""
        job_id = f"{self.site.name}:report:{request.report_request_id}"
        if request.report_back > timedelta(0):
            period = max(request.report_back, timedelta(seconds=1))
            # Aligned on the reportInterval, so each report carries whole reportBackDuration's worth of intervals.
            first = (request.interval_start or self.site.clock()) + period
            self.site.scheduler.add_job(
                self.send_due,
                "interval",
                args=[request.report_request_id],
                seconds=period.total_seconds(),
                start_date=first,
                id=job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
            )
        else:
            # once its data is complete: at the end of its reportInterval (an achieved curtailment asked for right
            # after an event that ended inside its quarter hour), else now; however late the loop gets to it —
            # apscheduler would otherwise drop a job that misfired by more than a second
            complete = request.interval_end
            when = {"run_date": complete} if complete is not None and complete > self.site.clock() else {}
            self.site.scheduler.add_job(
                self.send_due,
                "date",
                args=[request.report_request_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
                **when,
            )

    def resume(self) -> None:
        """Re-plan every stored request after a restart."""
        for request, _name, _sent in self.site.store.report_requests(self.site.name):
            self.schedule(request)

    def _intervals(self, request: r.ReportRequest, name: str, start: datetime, end: datetime) -> list[r.ReportInterval]:
        if name == curtailment.REPORT_NAME:
            # only the rIDs asked for: a VTN holding this VEN's registration from before `curtailment-planned` asks
            # for three and refuses a report carrying a fourth it does not know
            return curtailment_intervals(self.site, start, end, {p.r_id for p in request.payloads} or None)
        step = request.granularity
        times = [start]
        if step > timedelta(0):
            times = []
            cursor = start
            while cursor < end and len(times) < MAX_INTERVALS_PER_MESSAGE:
                times.append(cursor)
                cursor += step
        intervals = []
        for at in times:
            payloads = []
            for p in request.payloads:
                if name == STATUS:
                    payloads.append(r.ReportPayload(r_id=p.r_id, status=self.site.source.status(self.site.config, at)))
                    continue
                value = self.site.source.reading(self.site.config, p.r_id, at)
                if value is not None:
                    payloads.append(r.ReportPayload(r_id=p.r_id, value=value, data_quality="Quality Good - Non Specific"))
            if payloads:
                intervals.append(r.ReportInterval(payloads=tuple(payloads), dtstart=at, duration=step, uid=str(len(intervals))))
        return intervals

    async def send_due(self, report_request_id: str, final: bool = False, deliver: bool = True) -> None:
        """Queue the data due for a request since last time, then deliver the queue."""
        found = {q.report_request_id: (q, n, u) for q, n, u in self.site.store.report_requests(self.site.name)}
        if report_request_id not in found:
            return
        request, name, sent_until = found[report_request_id]
        now = self.site.clock().replace(microsecond=0)
        if name == METADATA:
            await self._metadata_due(request, now, final)
            return
        window_start = request.interval_start or now
        window_end = window_start + request.interval_duration if request.interval_duration else None
        one_shot = request.report_back == timedelta(0)
        if now < window_start and not final:
            return  # its reportInterval has not begun: nothing to say yet
        if one_shot and not final and request.interval_end is not None and now < request.interval_end:
            self.schedule(request)  # its data is not complete yet (woken early, e.g. at a restart): wait for it
            return
        start = sent_until or window_start
        end = min(now, window_end) if window_end and window_end > window_start else now
        if request.granularity > timedelta(0):
            steps = int((end - start) / request.granularity)
            end = start + steps * request.granularity
            if one_shot and end <= start and (window_end is None or window_end <= window_start):
                start, end = now, now + request.granularity  # a one-shot without a window: one interval, now
        else:
            start = end = now  # granularity 0: a snapshot at each report
        intervals = self._intervals(request, name, start, end) if end > start or request.granularity == timedelta(0) else []
        if final and not intervals:
            start, end = now, now + request.granularity
            intervals = self._intervals(request, name, start, end)  # the report to follow: what we have now
        if intervals:
            report = r.ReportData(
                report_request_id=request.report_request_id,
                report_specifier_id=request.report_specifier_id,
                report_name=name,
                created=now,
                intervals=tuple(intervals),
                dtstart=intervals[0].dtstart,
                duration=(end - start) if end > start else timedelta(0),
            )
            body = encode(
                r.UpdateReport(new_request_id(), (shaped_report(report, self.site.ven.report_profile),), self.site.ven_id)
            )
            self.site.store.queue(self.site.name, "EiReport", body)
            self.site.tally.inc(metrics.REPORTS_QUEUED, (self.site.name, name))
            sent_until = intervals[-1].dtstart + request.granularity if request.granularity > timedelta(0) else now
        finished = (
            final
            or request.report_back == timedelta(0)
            or (window_end is not None and window_end > window_start and now >= window_end)
        )
        if finished:
            self.forget(report_request_id)
        else:
            self.site.store.save_report_request(self.site.name, request, name, sent_until)
        if deliver:
            await self.flush()

    async def _metadata_due(self, request: r.ReportRequest, now: datetime, final: bool) -> None:
        """A periodic METADATA request: the metadata again, until its reportInterval is over."""
        start, length = request.interval_start, request.interval_duration
        if final or (start is not None and length and now >= start + length):
            self.forget(request.report_request_id)
            return
        await self.register()

    def forget(self, report_request_id: str) -> None:
        """Stop a request: no more data is produced for it."""
        self.site.store.delete_report_request(self.site.name, report_request_id)
        job = self.site.scheduler.get_job(f"{self.site.name}:report:{report_request_id}")
        if job is not None:
            job.remove()

    async def cancel(self, cancel: r.CancelReport, deliver: bool = True) -> tuple[str, ...]:
        """Honour oadrCancelReport (reportToFollow: one last report first); returns the requests still pending."""
        for report_request_id in cancel.report_request_ids:
            if cancel.report_to_follow:
                await self.send_due(report_request_id, final=True, deliver=deliver)
            self.forget(report_request_id)
        return tuple(q.report_request_id for q, _n, _u in self.site.store.report_requests(self.site.name))

    async def flush(self) -> None:
        """Deliver queued reports oldest first; stop at the first unreachable VTN and keep the rest.
        One flush at a time (a report still in flight is never sent a second time); a flush asked for
        while another runs waits for it, then sends what was queued meanwhile."""
        async with self._flushing:
            if self._retry_at is not None and asyncio.get_running_loop().time() < self._retry_at:
                return  # backing off after a failed delivery: the queue waits (it is kept in the store)
            while await self._flush_once():
                pass

    def _delivery_failed(self) -> float:
        """Note a failed delivery; the seconds until the queue is sent again — exponential from the poll interval,
        with jitter, capped by `max_backoff`, as for polls (a VTN answering HTTP 500 is not sent the report at
        every poll)."""
        self.failures += 1
        wait = backoff_delay(self.failures, self.site.poll_interval(), self.site.ven.max_backoff.total_seconds())
        self._retry_at = asyncio.get_running_loop().time() + wait
        return wait

    async def _flush_once(self) -> bool:
        """Send the queue as it is now; True when something new was queued meanwhile (go again)."""
        queued = self.site.store.unsent(self.site.name)
        for message_id, service, body in queued:
            try:
                reply = await self.site.link.send_raw(service, body)
            except LinkDown as exc:
                self.site.store.failed(message_id)
                self.site.tally.inc(metrics.REPORT_SENDS, (self.site.name, "failed"))
                log.warning("%s: report kept for resending in %.1f s (%s)", self.site.name, self._delivery_failed(), exc)
                return False
            except VtnProtocolError as exc:
                self.site.store.failed(message_id)
                self.site.tally.inc(metrics.REPORT_SENDS, (self.site.name, "failed"))
                wait = self._delivery_failed()
                log.error(
                    "%s: the VTN answered a report with garbage; kept for resending in %.1f s: %s", self.site.name, wait, exc
                )
                return False
            self.failures, self._retry_at = 0, None
            self.site.store.sent(message_id)
            refused = isinstance(reply, r.UpdatedReport) and reply.response.code != ResponseCode.OK
            self.site.tally.inc(metrics.REPORT_SENDS, (self.site.name, "refused" if refused else "delivered"))
            if isinstance(reply, r.UpdatedReport):
                if reply.response.code != ResponseCode.OK:
                    log.error(
                        "%s: the VTN refused a report (%s %s); not resent",
                        self.site.name,
                        reply.response.code,
                        reply.response.description,
                    )
                if reply.cancel is not None:
                    await self.cancel(reply.cancel, deliver=False)  # its report to follow goes in the next round
        sent = {message_id for message_id, _service, _body in queued}
        return any(message_id not in sent for message_id, _service, _body in self.site.store.unsent(self.site.name))
