"""Running a campaign: who is dialled when, on the call's ``Clock``.

A contact is dialled only inside the campaign's calling windows (Asia/Taipei,
not on holidays), never when its number is on the do-not-call list at that
moment, at most ``max_attempts`` times, a retry no sooner than the spacing for
the last result (no answer, busy, voicemail, failed). Pacing caps the calls up
at once and the calls started per second. The scheduler awaits only the clock
and the dialer, so a campaign of days replays in a test on ``VirtualClock``.

Wall time is ``epoch + clock.now()``: the epoch seconds at clock zero."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.clock import Clock
from ivr.history.keys import mask_number
from ivr.log import get_logger
from ivr.outbound.calling_hours import CallingCalendar
from ivr.outbound.campaign import Campaign
from ivr.outbound.contacts import CampaignContact, DoNotCall
from ivr.outbound.dialer import Dialer, DialRequest, DialResult
from ivr.outbound.pacing import AbandonPacer

if TYPE_CHECKING:
    from ivr.outbound.state import Saved

log = get_logger(__name__)
RETRIED = ("no_answer", "busy", "failed")


@dataclass(frozen=True)
class Attempt:
    contact_id: str
    attempt: int
    at: float              # wall time the dial started
    outcome: str
    flow_result: str = ""
    transferred: bool = False
    detail: str = ""
    call_id: str = ""
    abandoned: bool = False


@dataclass
class ContactProgress:
    contact: CampaignContact
    next_at: float
    attempts: list[Attempt] = field(default_factory=list)
    final: str = ""          # "" while still to be called
    dialing: bool = False

    def row(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else None
        return {"id": self.contact.id, "number": mask_number(self.contact.number), "attempts": len(self.attempts),
                "final": self.final or "pending", "last_outcome": last.outcome if last else "",
                "flow_result": last.flow_result if last else "", "transferred": bool(last and last.transferred)}


@dataclass(frozen=True)
class CampaignReport:
    campaign: str
    contacts: list[dict[str, Any]]
    dials: int
    totals: dict[str, int]


class CampaignRun:
    def __init__(self, campaign: Campaign, contacts: list[CampaignContact], dialer: Dialer, clock: Clock, *,
                 epoch: float, dnc: DoNotCall | None = None,
                 on_attempt: Callable[[Attempt], object] | None = None,
                 on_progress: Callable[[ContactProgress], object] | None = None,
                 should_stop: Callable[[], bool] | None = None, poll_every: float | None = None) -> None:
        self.campaign, self.dialer, self.clock, self.epoch = campaign, dialer, clock, epoch
        self.spec = campaign.spec
        self.calendar = CallingCalendar(self.spec.windows, campaign.holidays)
        self.dnc = dnc if dnc is not None else DoNotCall(campaign.dnc_path)
        self.on_attempt = on_attempt
        # a contact's progress changed (persisted by ivr.outbound.state); a pause asked for (polled)
        self.on_progress, self.should_stop, self.poll_every = on_progress, should_stop, poll_every
        self.stopped = False
        start = self.wall()
        self.progress = [ContactProgress(c, start) for c in contacts]
        self._last_start: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.dials = 0
        # progressive mode: fewer calls up at once while too many answered calls find no agent
        ceiling = self.spec.progressive.abandon_ceiling if self.spec.progressive else 1.0
        self.pacer = AbandonPacer(self.spec.pacing.max_in_flight, ceiling)

    def restore(self, saved: Mapping[str, Saved]) -> int:
        """Take back what an earlier run stored (``ivr.outbound.state``); returns the contacts restored."""
        n = 0
        for p in self.progress:
            s = saved.get(p.contact.id)
            if s is not None:
                p.final, p.attempts, n = s.final, list(s.attempts), n + 1
                p.next_at = max(p.next_at, s.next_at)
        return n

    def _changed(self, p: ContactProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(p)

    def wall(self) -> float:
        return self.epoch + self.clock.now()

    def _due(self, now: float) -> ContactProgress | None:
        best = None
        for p in self.progress:
            if not p.final and not p.dialing and p.next_at <= now and (best is None or p.next_at < best.next_at):
                best = p
        return best

    def _next_due(self) -> float | None:
        times = [p.next_at for p in self.progress if not p.final and not p.dialing]
        return min(times) if times else None

    async def _wait(self, seconds: float | None) -> None:
        """Until ``seconds`` pass or a call in flight ends, whichever is first."""
        waits: set[asyncio.Future[Any]] = set(self._tasks)
        if self.poll_every is not None:
            seconds = self.poll_every if seconds is None else min(seconds, self.poll_every)
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds)) if seconds is not None else None
        if sleeper is not None:
            waits.add(sleeper)
        if not waits:
            return
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if sleeper is not None and not sleeper.done():
                sleeper.cancel()

    async def run(self, until: float | None = None) -> CampaignReport:
        """Dial until every contact is final (or wall time ``until``); returns the report."""
        pace = 1.0 / self.spec.pacing.calls_per_second
        try:
            while True:
                now = self.wall()
                if until is not None and now >= until:
                    break
                if self.should_stop is not None and self.should_stop():
                    self.stopped = True
                    break
                pending = self._next_due()
                if pending is None and not self._tasks:
                    break
                if pending is None or len(self._tasks) >= self.pacer.limit:
                    await self._wait(None if until is None else until - now)
                    continue
                if not self.calendar.is_open(now):
                    opens = self.calendar.next_open(max(now, pending))
                    if opens is None:
                        self._close_all("out_of_window")
                        continue
                    await self._wait(opens - now)
                    continue
                if pending > now:
                    await self._wait(pending - now)
                    continue
                if self._last_start is not None and now < self._last_start + pace:
                    await self._wait(self._last_start + pace - now)
                    continue
                p = self._due(now)
                assert p is not None
                if self.dnc.blocked(p.contact.number):  # at dial time: a number added a minute ago counts
                    p.final = "dnc"
                    self._changed(p)
                    continue
                self._start(p, now)
            while self._tasks:  # stopped by `until`: let the calls up finish
                await self._wait(None)
        finally:
            for t in self._tasks:
                t.cancel()
        return self.report()

    def _close_all(self, why: str) -> None:
        for p in self.progress:
            if not p.final and not p.dialing:
                p.final = why
                self._changed(p)

    def _start(self, p: ContactProgress, now: float) -> None:
        p.dialing = True
        self._last_start = now
        self.dials += 1
        req = DialRequest(campaign=self.campaign.name, contact_id=p.contact.id, number=p.contact.number,
                          caller_id=self.spec.caller_id, flow=self.spec.flow, attempt=len(p.attempts) + 1,
                          variables=dict(p.contact.variables), voicemail_drop=self.spec.on_voicemail == "drop")
        task = asyncio.ensure_future(self._dial(p, req, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dial(self, p: ContactProgress, req: DialRequest, started: float) -> None:
        try:
            result = await self.dialer.dial(req)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.error("dialer failed on contact %s: %s", req.contact_id, str(e).splitlines()[0][:200])
            result = DialResult("failed", detail=f"dialer error: {type(e).__name__}")
        self._settle(p, req, started, result)

    def _settle(self, p: ContactProgress, req: DialRequest, started: float, r: DialResult) -> None:
        a = Attempt(p.contact.id, req.attempt, started, r.outcome, r.flow_result, r.transferred, r.detail, r.call_id,
                    r.abandoned)
        p.attempts.append(a)
        p.dialing = False
        if r.outcome == "answered":
            self.pacer.answered_call(r.abandoned)
        if r.outcome == "answered":
            p.final = r.flow_result or ("transferred" if r.transferred else "reached")
        elif r.outcome == "rejected":
            p.final = "rejected"
        elif r.outcome == "voicemail" and self.spec.on_voicemail == "drop":
            p.final = "voicemail"
        elif len(p.attempts) >= self.spec.max_attempts:
            p.final = "voicemail" if r.outcome == "voicemail" else "max_attempts"
        else:
            p.next_at = self.wall() + self.campaign.retry_seconds(r.outcome)
        if self.on_attempt is not None:
            self.on_attempt(a)
        self._changed(p)

    def report(self) -> CampaignReport:
        rows = [p.row() for p in self.progress]
        totals = {
            "contacts": len(rows),
            "attempted": sum(1 for p in self.progress if p.attempts),
            "reached": sum(1 for p in self.progress if any(a.outcome == "answered" for a in p.attempts)),
            "promised_to_pay": sum(1 for p in self.progress if p.final == "promised_to_pay"),
            "transferred": sum(1 for p in self.progress if any(a.transferred for a in p.attempts)),
            "dnc": sum(1 for p in self.progress if p.final == "dnc"),
            "voicemail": sum(1 for p in self.progress if p.final == "voicemail"),
            "max_attempts": sum(1 for p in self.progress if p.final == "max_attempts"),
            "pending": sum(1 for p in self.progress if not p.final),
            "abandoned": self.pacer.abandoned,
        }
        return CampaignReport(self.campaign.name, rows, self.dials, totals)
