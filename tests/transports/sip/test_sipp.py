"""Calls from SIPp (Debian sip-tester), a SIP client nobody on the project
wrote, to ``ivr serve --sip``: real SIP signalling and G.711 RTP on loopback."""
from __future__ import annotations

import pytest

from ivr.audio import read_wav
from ivr.transports.sip import SipOptions
from tests.session.session_fakes import FakeHandoff
from tests.transports.sip.harness import SipServerThread, needs_sipp, run_sipp, scenario, sipp_report
from tests.transports.sip.pcap import wav_to_pcap

pytestmark = [needs_sipp, pytest.mark.timeout(120)]
ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]
SPEECH = ROOT / "audio_fixtures" / "audio" / "zh_balance_fast.wav"


@pytest.fixture
def server(tmp_path):
    srv = SipServerThread(tmp_path)
    yield srv
    srv.stop()


def test_balance_call_by_speech_and_rfc4733_digits(server, tmp_path):
    pcap = wav_to_pcap(SPEECH, tmp_path / "speech.pcap")
    samples, rate = read_wav(SPEECH)
    speech_ms = int((len(samples) / rate + 1.6) * 1000) + 1500
    sf = scenario(tmp_path, "uac_balance.xml", SPEECH_PCAP=str(pcap), SPEECH_MS=str(speech_ms))
    proc = run_sipp(tmp_path, sf, server.port, timeout=40)
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert server.wait_idle()
    (call_id,) = server.records.call_ids()
    rec = server.records.get(call_id)
    assert rec is not None and rec.transport == "sip"
    assert (rec.outcome, rec.end_reason) == ("self_served", "completed")
    turns = rec.turns
    assert turns[0]["text"] == "我要查餘額"          # the speech from the pcap ended a turn
    assert turns[1]["dtmf"] == "1234"               # four digits, none doubled by the repeated end packets
    assert [p["key"] for p in rec.prompts][-2:] == ["balance", "bye"]


def test_cancel_before_answer_gets_487_and_no_call_runs(tmp_path):
    srv = SipServerThread(tmp_path, SipOptions(ring_seconds=3.0))
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_cancel.xml"), srv.port, timeout=20)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert srv.wait_idle()
        assert srv.records.call_ids() == []   # never answered: no session ran
        assert not srv.sip.active
    finally:
        srv.stop()


@pytest.mark.parametrize("why,code", [("capacity", "486"), ("draining", "503")])
def test_options_answered_and_invite_refused(tmp_path, why, code):
    srv = SipServerThread(tmp_path, SipOptions(max_calls=0 if why == "capacity" else 10))
    try:
        if why == "draining":
            srv.loop.call_soon_threadsafe(srv.sip.close)  # what SIGTERM does: no new calls
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_refused.xml", EXPECT_CODE=code), srv.port, timeout=20)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert srv.sip.refused == {int(code): 1}
        assert srv.records.call_ids() == []
    finally:
        srv.stop()


def test_transfer_to_agent_by_refer_with_context_headers(tmp_path):
    handoff = FakeHandoff()
    srv = SipServerThread(tmp_path, SipOptions(transfer_uri="sip:{queue}@127.0.0.1:5099"), handoff=handoff)
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_transfer.xml"), srv.port, timeout=40)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert srv.wait_idle()
        (call_id,) = srv.records.call_ids()
        rec = srv.records.get(call_id)
        assert (rec.outcome, rec.end_reason) == ("handed_off", "transferred")
        assert [q for _, q, _ in handoff.enqueued] == ["T1"]
        assert handoff.cancelled == []        # the ticket stays queued: the agent opens the context with it
    finally:
        srv.stop()


def test_five_concurrent_calls(server, tmp_path):
    pcap = wav_to_pcap(SPEECH, tmp_path / "speech.pcap")
    samples, rate = read_wav(SPEECH)
    speech_ms = int((len(samples) / rate + 1.6) * 1000) + 1500
    sf = scenario(tmp_path, "uac_balance.xml", SPEECH_PCAP=str(pcap), SPEECH_MS=str(speech_ms))
    proc = run_sipp(tmp_path, sf, server.port, calls=5, limit=5, rate=20, timeout=60)
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert server.wait_idle()
    recs = [server.records.get(c) for c in server.records.call_ids()]
    assert len(recs) == 5
    assert {(r.outcome, r.end_reason) for r in recs} == {("self_served", "completed")}
    assert {r.turns[1]["dtmf"] for r in recs} == {"1234"}


def test_dtmf_by_sip_info(server, tmp_path):
    proc = run_sipp(tmp_path, scenario(tmp_path, "uac_info_dtmf.xml"), server.port, timeout=30)
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert server.wait_idle()
    (call_id,) = server.records.call_ids()
    rec = server.records.get(call_id)
    assert (rec.outcome, rec.end_reason) == ("self_served", "completed")
    assert [t["dtmf"] for t in rec.turns] == ["1", "1234"]


def test_no_media_hangs_up_and_is_recorded(tmp_path):
    srv = SipServerThread(tmp_path, SipOptions(no_media_seconds=1.0))
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_silent.xml"), srv.port, timeout=20)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert srv.wait_idle()
        (call_id,) = srv.records.call_ids()
        rec = srv.records.get(call_id)
        # the caller's media died: ended like any transport's broken stream (a hangup), our BYE sent
        assert (rec.outcome, rec.end_reason) == ("abandoned", "hangup")
        (call,) = srv.sip.finished
        assert call.stats["end"] == "no_media"
    finally:
        srv.stop()


def test_sigterm_drain_hands_the_call_off_and_says_bye(tmp_path):
    import threading
    import time

    handoff = FakeHandoff()
    srv = SipServerThread(tmp_path, SipOptions(no_media_seconds=60.0), handoff=handoff, drain=1.0)
    try:
        result = {}
        sipp = threading.Thread(target=lambda: result.update(
            proc=run_sipp(tmp_path, scenario(tmp_path, "uac_silent.xml"), srv.port, timeout=20)))
        sipp.start()
        deadline = time.monotonic() + 10
        while not srv.server.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.server.calls, "the call never started"
        srv.call(srv.server.shutdown(), 30.0)   # what SIGTERM runs: drain 1 s, queue for an agent, release
        sipp.join(30)
        proc = result["proc"]
        assert proc.returncode == 0, sipp_report(tmp_path, proc)   # SIPp got our BYE
        (call_id,) = srv.records.call_ids()
        rec = srv.records.get(call_id)
        assert (rec.outcome, rec.end_reason) == ("handed_off", "shutdown")
        assert [q for _, q, _ in handoff.enqueued] == [srv.services.config.error_queue]
    finally:
        srv.stop()


def test_hold_and_resume_by_reinvite(tmp_path):
    srv = SipServerThread(tmp_path, SipOptions(no_media_seconds=1.5))
    try:
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_hold.xml"), srv.port, timeout=25)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)   # 200s with recvonly, then sendrecv
        assert srv.wait_idle()
        (call_id,) = srv.records.call_ids()
        rec = srv.records.get(call_id)
        assert rec.duration > 2.5   # 2.5 s on hold without media: kept
        (call,) = srv.sip.finished
        assert call.stats["end"] == "no_media"   # after the resume, the silence ended it
    finally:
        srv.stop()
