"""The caller leaving a SIP call: a BYE mid-prompt, on hold in the agent
queue, right after accepting our REFER, and before the session was even made.
The session ends at once as every transport's hangup does (abandoned), no
handoff is queued after the caller left, and a ticket already queued leaves
the queue (``caller_hangup``), except when the caller left *for* the transfer."""
from __future__ import annotations

import asyncio

import pytest

from ivr.session import CallRecordStore
from ivr.transports.sip import SipOptions
from ivr.transports.sip.call import SipCall
from ivr.transports.sip.offload import RtpSender
from tests.session.session_fakes import FakeHandoff
from tests.transports.servers import fake_services
from tests.transports.sip.harness import SipServerThread, needs_sipp, run_sipp, scenario, sipp_report

OFFER = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


def _only_record(srv: SipServerThread):
    assert srv.wait_idle()
    (call_id,) = srv.records.call_ids()
    return srv.records.get(call_id)


@needs_sipp
@pytest.mark.timeout(60)
def test_caller_bye_mid_prompt_ends_the_call_at_once_as_abandoned(tmp_path):
    # ACK and BYE go to our Contact as SIPp reads it: a display name there broke both
    handoff = FakeHandoff(take_after=2)
    srv = SipServerThread(tmp_path, handoff=handoff)
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_bye.xml", PAUSE_MS="300"), srv.port, timeout=20)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        rec = _only_record(srv)
        assert (rec.outcome, rec.end_reason) == ("abandoned", "hangup")
        # the 0.6 s greeting was cut off by the BYE; left alone, this flow hands off at ~7 s
        (greeting,) = rec.prompts
        assert greeting["key"] == "greeting" and greeting["heard"] < 0.6, greeting
        assert rec.duration < 3.0
        assert handoff.enqueued == [] and handoff.outcomes == [("abandoned", rec.call_id)]
        (call,) = srv.sip.finished
        assert call.stats["end"] == "hangup"
    finally:
        srv.stop()


@needs_sipp
@pytest.mark.timeout(60)
def test_caller_bye_while_queued_takes_the_ticket_out_of_the_queue(tmp_path):
    handoff = FakeHandoff()  # no agent ever takes it
    srv = SipServerThread(tmp_path, handoff=handoff)
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_queued_bye.xml", PAUSE_MS="1500"), srv.port, timeout=20)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        rec = _only_record(srv)
        assert rec.end_reason == "hangup"
        assert [q for _, q, _ in handoff.enqueued] == ["T1"]
        assert handoff.cancelled == [("t1", "caller_hangup")]
    finally:
        srv.stop()


@needs_sipp
@pytest.mark.timeout(60)
def test_bye_after_the_refer_was_accepted_is_the_transfer_going_through(tmp_path):
    handoff = FakeHandoff()
    srv = SipServerThread(tmp_path, SipOptions(transfer_uri="sip:{queue}@127.0.0.1:5099", refer_wait_seconds=20.0),
                          handoff=handoff)
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_transfer_bye.xml"), srv.port, timeout=40)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        rec = _only_record(srv)
        assert (rec.outcome, rec.end_reason) == ("handed_off", "transferred")
        assert [q for _, q, _ in handoff.enqueued] == ["T1"]
        assert handoff.cancelled == []   # the agent still opens the context with the ticket
    finally:
        srv.stop()


class _Leg:
    """The sippy side, as far as this test needs it: what the call asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def ring_and_answer(self, sdp: str, ring: bool = True) -> None:
        self.asked.append("answer")

    def hangup(self) -> None:
        self.asked.append("hangup")


@pytest.mark.timeout(30)
async def test_bye_before_the_session_is_made_still_ends_it_and_records_it(tmp_path):
    # sippy reports the answer (our 200 sent) and the BYE back to back: the session,
    # not yet made when the BYE lands, must start already hung up, not run the flow
    handoff = FakeHandoff(take_after=2)
    services = fake_services(CallRecordStore(tmp_path / "calls.sqlite3"), handoff)
    over: list[SipCall] = []
    call = SipCall("race-1", "0912345678", "127.0.0.1:5060", services.for_transport(), services.clock, {},
                   SipOptions(), over.append, RtpSender(process=False))
    leg = call.leg = _Leg()  # type: ignore[assignment]
    try:
        await call._offered(OFFER)
        assert leg.asked == ["answer"]
        call.answered()
        call.ended("bye")
        await asyncio.wait_for(asyncio.gather(*call._tasks), 5.0)  # the flow alone would hand off at ~7 s
        assert over == [call]
        rec = services.records.get("race-1")
        assert rec is not None and (rec.outcome, rec.end_reason) == ("abandoned", "hangup")
        assert handoff.enqueued == []
        assert "hangup" not in leg.asked   # the caller's BYE ended the dialog: no BYE of ours
    finally:
        if call.rtp is not None:
            call.rtp.close()
        services.close()
