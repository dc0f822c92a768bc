"""Garbage on the SIP socket: each message that is not SIP is dropped with
one log line naming the problem and the peer, counted in
``ivr_protocol_errors{transport="sip"}``, and the server keeps serving
(SIPp's OPTIONS and INVITE are still answered)."""
from __future__ import annotations

import socket
import time

import pytest

from ivr.transports.sip import SipOptions
from tests.transports.sip.harness import SipServerThread, needs_sipp, run_sipp, scenario, sipp_report

pytestmark = [needs_sipp, pytest.mark.timeout(90)]

GOOD_HEAD = ("INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
             "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: hostile-{n}\r\n"
             "CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:9>\r\n")
HOSTILE = [
    (b"\xff\xfe\x00garbage\r\n\r\n" * 3, "not UTF-8"),
    (b"hello there, not SIP at all\r\n\r\n", "unparsable SIP"),
    (GOOD_HEAD.format(n=1).replace("Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n", "").encode() + b"\r\n",
     "Via HF is missed"),
    ((GOOD_HEAD.format(n=2) + "X-Huge: " + "a" * 20000 + "\r\n\r\n").encode(), "exceeds"),
    (GOOD_HEAD.format(n=3).replace("CSeq: 1 INVITE", "CSeq: banana INVITE").encode() + b"\r\n", "unparsable SIP"),
    (b"INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP\r\n", "no blank line"),
]


@pytest.mark.parametrize("data,problem", HOSTILE, ids=[p for _, p in HOSTILE])
def test_garbage_is_logged_in_one_line_and_server_keeps_serving(tmp_path, log_stream, data, problem):
    srv = SipServerThread(tmp_path, SipOptions(max_calls=0))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(data, (srv.host, srv.port))
        deadline = time.monotonic() + 5
        while problem not in log_stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [ln for ln in log_stream.getvalue().splitlines() if problem in ln]
        assert len(lines) == 1, log_stream.getvalue()
        assert "127.0.0.1:" in lines[0] and "Traceback" not in log_stream.getvalue()
        assert srv.services.metrics.protocol_errors.labels("sip")._value.get() == 1
        proc = run_sipp(tmp_path, scenario(tmp_path, "uac_refused.xml", EXPECT_CODE="486"), srv.port, timeout=20)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
    finally:
        srv.stop()


def test_unknown_method_gets_405_and_a_flood_of_invites_is_bounded(tmp_path):
    srv = SipServerThread(tmp_path, SipOptions(max_calls=0))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            head = GOOD_HEAD.replace("127.0.0.1:9", f"127.0.0.1:{port}")
            s.sendto(head.format(n="m").replace("INVITE", "FROBNICATE").encode() + b"Content-Length: 0\r\n\r\n",
                     (srv.host, srv.port))
            assert s.recv(4096).startswith(b"SIP/2.0 405 ")
            for n in range(100):  # a flood, bounded: each answered 486 (or dropped), nothing kept
                s.sendto(head.format(n=f"f{n}").encode() + b"Content-Length: 0\r\n\r\n", (srv.host, srv.port))
            s.settimeout(1.0)
            answered: dict[bytes, bytes] = {}  # Call-ID -> status (final replies repeat until ACKed)
            try:
                while True:
                    reply = s.recv(4096)
                    call_id = reply.split(b"Call-ID: ", 1)[1].split(b"\r\n", 1)[0]
                    answered[call_id] = reply.split(b" ", 2)[1]
            except TimeoutError:
                pass
        assert set(answered.values()) == {b"486"} and len(answered) >= 50
        assert srv.sip.refused == {486: len(answered)} and not srv.sip.active
    finally:
        srv.stop()
