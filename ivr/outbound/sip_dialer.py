"""The campaign ``Dialer`` on the SIP room's ``SipDialer``.

Each attempt: the contact's row registered under the call's id (the flow's
``campaign_contact`` reads it), an INVITE to the trunk, answering-machine
detection at pickup (``ivr.outbound.pickup``), the campaign's flow for a
person or its voicemail drop for a machine, and the outcome the scheduler
retries on: answered, voicemail, busy, no answer, rejected (a number that
does not exist: not retried), failed."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.errors import IvrError
from ivr.frames import Say
from ivr.log import get_logger
from ivr.outbound.actions import CampaignCalls
from ivr.outbound.amd import AmdConfig
from ivr.outbound.dialer import Dialer, DialOutcome, DialRequest, DialResult
from ivr.outbound.pickup import VOICEMAIL_KEY, PickupSession, pickup_session

if TYPE_CHECKING:
    from ivr.audio.base import AudioSink, AudioSource
    from ivr.history import CallerHistory
    from ivr.outbound.contacts import CampaignContact
    from ivr.outbound.scheduler import Attempt
    from ivr.session.factory import CallServices
    from ivr.session.records import CallRecord
    from ivr.transports.base import CallInfo
    from ivr.transports.sip.dialer import Dialer as SipDialerSeam

log = get_logger(__name__)
BUSY_CODES = (486, 600)
NO_ANSWER_CODES = (408, 480, 487)
REJECTED_CODES = (403, 404, 410, 484, 603, 604)   # no such number / declined for good: not retried


def outcome_of(answered: bool, verdict: str, sip_code: int | None, end: str) -> DialOutcome:
    """The scheduler's outcome for one SIP attempt."""
    if answered:
        return "voicemail" if verdict == "machine" else "answered"
    if end == "busy" or sip_code in BUSY_CODES:
        return "busy"
    if end == "no_answer" or sip_code in NO_ANSWER_CODES:
        return "no_answer"
    if sip_code in REJECTED_CODES:
        return "rejected"
    return "failed"


def abandoned_in(record: CallRecord, within: float) -> bool:
    """The callee asked for a person (a transfer) and no agent took the call within ``within`` seconds."""
    transfer = next((e for e in record.events if e.get("kind") == "transfer"), None)
    if transfer is None:
        return False
    taken = next((e for e in record.events if e.get("kind") == "hold" and e.get("result") == "taken"), None)
    return taken is None or float(taken.get("t", 0.0)) - float(transfer.get("t", 0.0)) > within


class SipCampaignDialer(Dialer):
    """``trunk``: the callee's URI with ``{number}`` in it, e.g. ``sip:{number}@10.0.0.1:5060``."""

    def __init__(self, sip: SipDialerSeam, services: CallServices, calls: CampaignCalls, trunk: str, *,
                 ring_seconds: float = 30.0, voicemail: dict[str, str] | None = None, language: str = "zh-TW",
                 amd: AmdConfig | None = None, abandon_seconds: float | None = None) -> None:
        if "{number}" not in trunk:
            raise IvrError(f"trunk {trunk!r} has no {{number}} in it (sip:{{number}}@HOST:PORT)", "campaign dialer")
        self.sip, self.services, self.calls, self.trunk = sip, services, calls, trunk
        self.ring_seconds, self.amd = ring_seconds, amd
        self.abandon_seconds = abandon_seconds  # progressive mode: a transfer no agent took by then is abandoned
        self.voicemail_text = dict(voicemail or {})
        self.language = language

    def _voicemail(self, request: DialRequest) -> Say | None:
        if not request.voicemail_drop:
            return None
        lang = request.variables.get("language") or self.language
        text = self.voicemail_text.get(lang) or self.voicemail_text.get(self.language)
        if not text:
            return None
        try:
            text = text.format_map(dict(request.variables))
        except (KeyError, ValueError, IndexError):
            pass  # a message naming a column the list lacks is said as written
        return Say(VOICEMAIL_KEY, lang, text, interruptible=False)

    async def dial(self, request: DialRequest) -> DialResult:
        call_id = secrets.token_hex(16)
        sessions: list[PickupSession] = []
        voicemail = self._voicemail(request)

        def factory(info: CallInfo, source: AudioSource, sink: AudioSink) -> PickupSession:
            s = pickup_session(self.services, info, source, sink, voicemail, self.amd)
            sessions.append(s)
            return s

        self.calls.add(call_id, request.campaign, request.contact_id, request.variables)
        try:
            r = await self.sip.dial(self.trunk.replace("{number}", request.number), caller=request.caller_id,
                                    answer_timeout=self.ring_seconds, call_id=call_id, factory=factory)
        finally:
            done = self.calls.pop(call_id) or {}
        verdict = ""
        if sessions and sessions[0].gate.verdict.done():
            amd = sessions[0].gate.verdict.result()
            verdict = amd.verdict if amd is not None else ""
        outcome = outcome_of(r.answered, verdict, r.sip_code, r.end)
        rec = r.record
        detail = (f"SIP {r.sip_code}" if r.sip_code else r.end) + (f"; AMD {verdict}" if verdict else "")
        abandoned = (outcome == "answered" and rec is not None and self.abandon_seconds is not None
                     and abandoned_in(rec, self.abandon_seconds))
        return DialResult(outcome, call_id=r.call_id, flow_result=done.get("result", "") if outcome == "answered"
                          else "", transferred=bool(rec is not None and rec.outcome == "handed_off"),
                          abandoned=abandoned, talk_seconds=float(rec.duration or 0.0) if rec is not None else 0.0,
                          detail=detail)


def history_recorder(history: CallerHistory, campaign: str,
                     contacts: list[CampaignContact]) -> Callable[[Attempt], None]:
    """The scheduler's ``on_attempt``: every attempt no flow finished joins the
    contact's caller history (an answered call's session already wrote its line;
    a voicemail's line is overwritten with the outcome)."""
    by_id = {c.id: c for c in contacts}

    def record(a: Attempt) -> None:
        c = by_id.get(a.contact_id)
        if c is None or a.outcome == "answered":
            return
        history.record_attempt(a.call_id or f"{campaign}-{a.contact_id}-{a.attempt}", c.number, campaign=campaign,
                               outcome=a.outcome, started=a.at, customer_id=c.variables.get("customer_id", ""))
    return record
