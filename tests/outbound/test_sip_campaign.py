"""Campaign calls over real SIP to SIPp as the callee: a person's short "喂"
(AMD: human, the flow runs on the keys pressed after it), a voicemail
greeting (AMD: machine, the campaign's message is left), busy (486) and no
answer (ringing until our CANCEL). Loopback only, each bounded in time."""
from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from ivr.outbound.actions import CampaignCalls
from ivr.outbound.dialer import DialRequest
from ivr.outbound.pickup import VOICEMAIL_KEY
from ivr.outbound.sip_dialer import SipCampaignDialer, outcome_of
from ivr.session import CallRecordStore
from ivr.transports.sip import SipDialer
from tests.transports.sip.harness import SipServerThread, free_port, needs_sipp, sipp_report, start_sipp_uas
from tests.transports.sip.pcap import wav_to_pcap

HERE = Path(__file__).resolve().parent
AUDIO = HERE.parents[1] / "audio_fixtures" / "audio"
HELLO = AUDIO / "zh_short_en.wav"              # 0.6 s: what a person says at pickup
GREETING = AUDIO / "zh_complaint_detail.wav"   # 3.3 s of unbroken speech: a voicemail greeting's cadence
MESSAGE = {"zh-TW": "{customer_name}您好，這裡是福爾摩沙銀行，請回電。"}


def scenario(tmp: Path, name: str, **subst: str) -> Path:
    text = (HERE / name).read_text(encoding="utf-8")
    for k, v in subst.items():
        text = text.replace(k, v)
    out = tmp / name
    out.write_text(text, encoding="utf-8")
    return out


def request(number: str = "0912345678", drop: bool = True) -> DialRequest:
    return DialRequest("c1", "R0001", number, "0227181234", "payment_reminder", 1,
                       {"customer_name": "王小明", "amount": "12345"}, voicemail_drop=drop)


def place(tmp: Path, scenario_file: Path, req: DialRequest, ring: float = 10.0):
    port = free_port()
    uas = start_sipp_uas(tmp, scenario_file, port)
    srv = SipServerThread(tmp)
    calls = CampaignCalls()
    try:
        time.sleep(0.3)  # SIPp binds its port
        dialer = SipCampaignDialer(SipDialer(srv.sip), srv.services, calls, f"sip:{{number}}@127.0.0.1:{port}",
                                   ring_seconds=ring, voicemail=MESSAGE)
        result = srv.call(asyncio.wait_for(dialer.dial(req), 60), 70)
        out, err = uas.communicate(timeout=40)
        proc = subprocess.CompletedProcess(uas.args, uas.returncode, out, err)
    finally:
        if uas.poll() is None:
            uas.kill()
        srv.stop()
    srv.records = CallRecordStore(tmp / "calls.sqlite3")  # closed with the server: read what it wrote
    return result, proc, srv, calls


@needs_sipp
@pytest.mark.timeout(150)
def test_a_person_says_hello_and_the_flow_runs(tmp_path):
    pcap = wav_to_pcap(HELLO, tmp_path / "hello.pcap")
    sf = scenario(tmp_path, "uas_pickup.xml", GREETING_PCAP=str(pcap), KEYS_PAUSE_MS="3500")
    result, proc, srv, calls = place(tmp_path, sf, request())
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert result.outcome == "answered", result
    assert "AMD human" in result.detail
    rec = srv.records.get(result.call_id)
    assert rec is not None and rec.outcome == "self_served" and rec.end_reason == "completed"
    # the "喂" was held back from the flow: its first answer is the key 1, not speech
    assert [t.get("dtmf") for t in rec.turns] == ["1", "2347"]
    said = [s.key for s in srv.services.prompts.rendered]  # type: ignore[attr-defined]
    assert said[0] == "greeting" and VOICEMAIL_KEY not in said
    assert calls.pop(result.call_id) is None  # the dialer forgot the contact's row when the call ended


@needs_sipp
@pytest.mark.timeout(150)
def test_a_voicemail_greeting_gets_the_message_not_the_flow(tmp_path):
    pcap = wav_to_pcap(GREETING, tmp_path / "greeting.pcap")
    sf = scenario(tmp_path, "uas_voicemail.xml", GREETING_PCAP=str(pcap))
    result, proc, srv, _ = place(tmp_path, sf, request())
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert result.outcome == "voicemail" and "AMD machine" in result.detail, result
    said = srv.services.prompts.rendered  # type: ignore[attr-defined]
    assert [s.key for s in said] == [VOICEMAIL_KEY]
    assert said[0].text == "王小明您好，這裡是福爾摩沙銀行，請回電。"
    rec = srv.records.get(result.call_id)
    assert rec is not None and rec.end_reason == "voicemail" and rec.turns == []


@needs_sipp
@pytest.mark.timeout(150)
def test_a_voicemail_without_a_drop_is_hung_up_on_for_a_retry(tmp_path):
    pcap = wav_to_pcap(GREETING, tmp_path / "greeting.pcap")
    sf = scenario(tmp_path, "uas_voicemail.xml", GREETING_PCAP=str(pcap))
    result, proc, srv, _ = place(tmp_path, sf, request(drop=False))
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert result.outcome == "voicemail"
    assert srv.services.prompts.rendered == []  # type: ignore[attr-defined]


@needs_sipp
@pytest.mark.timeout(150)
def test_busy(tmp_path):
    sf = _copy(tmp_path, HERE.parent / "transports" / "sip" / "uas_busy.xml")
    result, proc, srv, _ = place(tmp_path, sf, request())
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert (result.outcome, result.detail) == ("busy", "SIP 486")
    assert srv.records.call_ids() == []


@needs_sipp
@pytest.mark.timeout(150)
def test_no_answer_is_cancelled_after_the_ring_time(tmp_path):
    sf = scenario(tmp_path, "uas_no_answer.xml")
    result, proc, srv, _ = place(tmp_path, sf, request(), ring=2.0)
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert result.outcome == "no_answer", result
    assert srv.records.call_ids() == []


def _copy(tmp: Path, src: Path) -> Path:
    out = tmp / src.name
    out.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return out


@pytest.mark.parametrize("answered,verdict,code,end,want", [
    (True, "human", None, "completed", "answered"), (True, "silence", None, "hangup", "answered"),
    (True, "machine", None, "completed", "voicemail"), (False, "", 486, "busy", "busy"),
    (False, "", None, "busy", "busy"), (False, "", 487, "no_answer", "no_answer"),
    (False, "", 480, "failed", "no_answer"), (False, "", 404, "failed", "rejected"),
    (False, "", 503, "failed", "failed"), (False, "", None, "failed", "failed"),
])
def test_outcome_of_a_sip_attempt(answered, verdict, code, end, want):
    assert outcome_of(answered, verdict, code, end) == want


@needs_sipp
@pytest.mark.timeout(150)
def test_ivr_campaign_run_with_the_sip_dialer(tmp_path):
    """The whole command: real flows and stores, SIPp busy for one contact, the other on the DNC list."""
    import json
    import sys

    port = free_port()
    (tmp_path / "list.csv").write_text("id,number,customer_name,amount,due_date\n"
                                       "A1,0912345678,王小明,100,2026-12-15\nA2,0922333444,陳美玲,200,2026-12-15\n",
                                       encoding="utf-8")
    (tmp_path / "dnc.txt").write_text("0922333444\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "campaign: sip_test\nflow: payment_reminder\ncaller_id: '0227181234'\nlist: list.csv\ndnc: dnc.txt\n"
        "windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: '00:00', to: '24:00'}]\n"
        f"max_attempts: 1\ntrunk: 'sip:{{number}}@127.0.0.1:{port}'\n", encoding="utf-8")
    uas = start_sipp_uas(tmp_path, _copy(tmp_path, HERE.parent / "transports" / "sip" / "uas_busy.xml"), port)
    try:
        cli = subprocess.run([sys.executable, "-m", "ivr", "campaign", "run", str(tmp_path / "c.yaml"), "--dialer",
                              "sip", "--engine", "fake", "--records", str(tmp_path / "calls.sqlite3"), "--queue",
                              "none", "--bank", str(tmp_path / "bank.sqlite3"), "--report", str(tmp_path / "r.json"),
                              "--flows", str(HERE.parents[1] / "flows")],
                             capture_output=True, text=True, timeout=100, cwd=tmp_path)
        assert cli.returncode == 0, cli.stderr[-2000:]
        out, err = uas.communicate(timeout=30)
        assert uas.returncode == 0, sipp_report(tmp_path, subprocess.CompletedProcess(uas.args, uas.returncode,
                                                                                      out, err))
    finally:
        if uas.poll() is None:
            uas.kill()
    assert "2 contacts, 1 dials" in cli.stdout and "DNC 1" in cli.stdout and "gave up 1" in cli.stdout, cli.stdout
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [(c["id"], c["final"], c["last_outcome"]) for c in doc["contacts"]] == [
        ("A1", "max_attempts", "busy"), ("A2", "dnc", "")]
    assert "0912345678" not in (tmp_path / "r.json").read_text(encoding="utf-8")
    from ivr.history import CallerHistory  # the busy attempt joined the contact's history (hashed number)

    history = CallerHistory.open(tmp_path / "history.sqlite3")
    try:
        seen = history.contacts(caller="0912345678")
    finally:
        history.close()
    assert [(c.direction, c.campaign, c.outcome, c.number_shown) for c in seen] == [
        ("outbound", "sip_test", "busy", "*******678")]


def keyed_scenario(tmp: Path, pcap: Path, presses: list[tuple[int, str]]) -> Path:
    """uas_pickup.xml with its keys replaced: (pause ms before, key) each."""
    text = (HERE / "uas_pickup.xml").read_text(encoding="utf-8").replace("GREETING_PCAP", str(pcap))
    start, end = text.index('  <pause milliseconds="KEYS_PAUSE_MS"/>'), text.index('  <recv request="BYE"')
    keys = "".join(f'  <pause milliseconds="{ms}"/>\n  <nop><action><exec play_pcap_audio='
                   f'"/usr/share/sip-tester/dtmf_2833_{k}.pcap"/></action></nop>\n' for ms, k in presses)
    out = tmp / "uas_keys.xml"
    out.write_text(text[:start] + keys + text[end:], encoding="utf-8")
    return out


@needs_sipp
@pytest.mark.timeout(180)
def test_the_payment_reminder_flow_over_sip_records_a_promise(tmp_path):
    """The real flow on the answered call: right party (1), can pay (1), by keys (1), the date, confirm (1)."""
    import datetime as dt

    from ivr.asr import FakeEngine
    from ivr.backends import default_registry
    from ivr.dialog import Dialog, load_flows
    from ivr.nlu import Nlu
    from ivr.session import EngineSelector
    from ivr.session.factory import CallServices
    from tests.session.session_fakes import EnergyEndpointer, NoDtmf, ToneRenderer

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    promise = today + dt.timedelta(days=5)
    calls = CampaignCalls()
    registry = calls.register(default_registry(HERE.parents[1] / "flows", tmp_path / "bank.sqlite3"))
    port = free_port()
    pcap = wav_to_pcap(HELLO, tmp_path / "hello.pcap")
    presses = [(3000, "1"), (2500, "1"), (2500, "1"), *[(2500 if i == 0 else 300, k) for i, k in
                                                       enumerate(promise.strftime("%m%d"))], (3000, "1")]
    uas = start_sipp_uas(tmp_path, keyed_scenario(tmp_path, pcap, presses), port, timeout=90)
    srv = SipServerThread(tmp_path)
    try:
        time.sleep(0.3)
        services = CallServices(
            engines=EngineSelector.single(FakeEngine([("", 0.9)])),
            dialog=Dialog(load_flows(HERE.parents[1] / "flows", backends=registry.names()), Nlu.load(),
                          start="payment_reminder"),
            prompts=ToneRenderer(seconds_per_char=0.02), records=srv.records, backends=registry.call,
            endpointer_factory=EnergyEndpointer, dtmf_factory=NoDtmf)
        dialer = SipCampaignDialer(SipDialer(srv.sip), services, calls, f"sip:{{number}}@127.0.0.1:{port}")
        req = DialRequest("c1", "R0001", "0912345678", "0227181234", "payment_reminder", 1,
                          {"customer_name": "王小明", "amount": "12345", "customer_id": "1",
                           "due_date": (today + dt.timedelta(days=10)).isoformat()})
        result = srv.call(asyncio.wait_for(dialer.dial(req), 100), 110)
        out, err = uas.communicate(timeout=60)
        proc = subprocess.CompletedProcess(uas.args, uas.returncode, out, err)
    finally:
        if uas.poll() is None:
            uas.kill()
        srv.stop()
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert (result.outcome, result.flow_result) == ("answered", "promised_to_pay"), result
    said = [s.text for s in services.prompts.rendered]  # type: ignore[attr-defined]
    assert "請問是王小明本人嗎" in said[0] and any("一萬兩千三百四十五元" in s for s in said), said


@pytest.mark.parametrize("events,want", [
    ([], False),                                                                              # no transfer
    ([{"kind": "transfer", "t": 10.0}, {"kind": "hold", "t": 11.5, "result": "taken"}], False),  # 1.5 s: in time
    ([{"kind": "transfer", "t": 10.0}, {"kind": "hold", "t": 13.0, "result": "taken"}], True),   # 3 s: too late
    ([{"kind": "transfer", "t": 10.0}, {"kind": "hold", "t": 40.0, "result": "caller_hung_up"}], True),
    ([{"kind": "transfer", "t": 10.0}], True),                                                # hung up on hold
])
def test_abandoned_when_no_agent_takes_the_call_in_time(events, want):
    from ivr.outbound.sip_dialer import abandoned_in
    from ivr.session.records import CallRecord

    rec = CallRecord("c", "sip", "", "zh-TW", 0.0)
    rec.events = events
    assert abandoned_in(rec, 2.0) is want


@needs_sipp
@pytest.mark.timeout(150)
def test_campaign_sip_transport_tcp_dials_the_trunk_over_tcp(tmp_path):
    """``sip_transport: tcp`` in the campaign: the INVITE and our ACK of the 486 reach SIPp in TCP mode."""
    import socket
    import sys

    port = free_port(socket.SOCK_STREAM)
    (tmp_path / "list.csv").write_text("id,number,customer_name,amount,due_date\nA1,0912345678,王小明,100,2026-12-15\n",
                                       encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "campaign: sip_tcp\nflow: payment_reminder\ncaller_id: '0227181234'\nlist: list.csv\n"
        "windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: '00:00', to: '24:00'}]\n"
        f"max_attempts: 1\ntrunk: 'sip:{{number}}@127.0.0.1:{port}'\nsip_transport: tcp\n", encoding="utf-8")
    uas = start_sipp_uas(tmp_path, _copy(tmp_path, HERE.parent / "transports" / "sip" / "uas_busy.xml"), port,
                         extra=("-t", "t1", "-trace_msg"))
    try:
        time.sleep(0.3)  # SIPp binds its port
        cli = subprocess.run([sys.executable, "-m", "ivr", "campaign", "run", str(tmp_path / "c.yaml"), "--dialer",
                              "sip", "--engine", "fake", "--records", str(tmp_path / "calls.sqlite3"), "--queue",
                              "none", "--bank", str(tmp_path / "bank.sqlite3"), "--report", str(tmp_path / "r.json"),
                              "--flows", str(HERE.parents[1] / "flows")],
                             capture_output=True, text=True, timeout=100, cwd=tmp_path)
        assert cli.returncode == 0, cli.stderr[-2000:]
        out, err = uas.communicate(timeout=30)
        assert uas.returncode == 0, sipp_report(tmp_path, subprocess.CompletedProcess(uas.args, uas.returncode,
                                                                                      out, err))
    finally:
        if uas.poll() is None:
            uas.kill()
    assert "1 contacts, 1 dials" in cli.stdout and "gave up 1" in cli.stdout, cli.stdout
    (trace,) = tmp_path.glob("*_messages.log")
    text = trace.read_text(errors="replace")
    assert "TCP message received" in text and "UDP message" not in text and "Via: SIP/2.0/TCP " in text
