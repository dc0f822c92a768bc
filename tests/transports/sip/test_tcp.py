"""SIP over TCP (``--sip-transport tcp``): the stream framing on its own, a
whole call from SIPp in TCP mode (``-t t1``), and hostile streams -- each
closes its own connection with one log line while the server keeps serving."""
from __future__ import annotations

import socket
import time

import pytest

from ivr.transports.sip import SipOptions
from ivr.transports.sip.tcp import FramingError, StreamFramer, TcpLimits
from tests.transports.sip.harness import SipServerThread, needs_sipp, run_sipp, scenario, sipp_report

DTMF_PCAP = "/usr/share/sip-tester/dtmf_2833_1.pcap"


def options_request(port: int, n: int = 1, body: str = "") -> bytes:
    return (f"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bKo{n}\r\n"
            f"From: <sip:a@127.0.0.1>;tag={n}\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: opt-{n}\r\n"
            f"CSeq: {n} OPTIONS\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()


# -- the framing alone -------------------------------------------------------
def test_framer_cuts_messages_by_blank_line_and_content_length_across_any_chunking():
    a, b = options_request(1, 1, "v=0\r\n"), options_request(1, 2)
    stream = b"\r\n" + a + b"\r\n\r\n" + b   # a stray CRLF, then a keep-alive ping between the messages
    for size in (1, 7, 64, len(stream)):
        framer, out = StreamFramer(TcpLimits()), []
        for i in range(0, len(stream), size):
            out += framer.feed(stream[i:i + size])
        assert out == [a, b], size
        assert not framer.pending
    framer = StreamFramer(TcpLimits())
    assert framer.feed(b"\r\n\r\n") == [] and framer.pings == 1   # RFC 5626 ping: answered with CRLF


@pytest.mark.parametrize("data,problem", [
    (b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n", "no Content-Length"),
    (b"INVITE sip:x SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n", "contradictory Content-Length"),
    (b"INVITE sip:x SIP/2.0\r\nContent-Length: -4\r\n\r\n", "not a byte count"),
    (b"INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n", "body of 99999 bytes over"),
    (b"INVITE sip:x SIP/2.0\r\nX: " + b"a" * 600 + b"\r\n", "header section over 512 bytes"),
    (b"\x16\x03\x01" + bytes(range(256)) * 3, "header section over 512 bytes"),   # a TLS hello, binary
])
def test_framer_refuses_what_cannot_be_framed(data, problem):
    with pytest.raises(FramingError, match=problem):
        StreamFramer(TcpLimits(max_header=512, max_body=1000)).feed(data)


# -- a server ------------------------------------------------------------------
@pytest.fixture
def server(tmp_path):
    srv = SipServerThread(tmp_path, SipOptions(transport="tcp", tcp_limits=TcpLimits(
        max_header=4096, max_body=8192, max_connections=4, message_seconds=1.0)))
    yield srv
    srv.stop()


def read_message(s: socket.socket, timeout: float = 5.0) -> bytes:
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def closed_by_server(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        while s.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def answers_options(srv: SipServerThread, n: int = 9) -> bool:
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        s.sendall(options_request(s.getsockname()[1], n))
        return read_message(s).startswith(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP ")


@pytest.mark.timeout(60)
def test_replies_come_back_on_the_requests_connection_with_tcp_via_and_contact(server):
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        port = s.getsockname()[1]
        s.sendall(b"\r\n\r\n")                        # keep-alive ping first: a CRLF back
        assert s.recv(2) == b"\r\n"
        # the Via names a port nobody listens on: the reply must still come on this connection
        s.sendall(options_request(port + 1 if port < 65535 else port - 1, 1))
        reply = read_message(s)
    assert reply.startswith(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:")
    assert b"CSeq: 1 OPTIONS" in reply


@needs_sipp
@pytest.mark.timeout(120)
def test_sipp_call_over_tcp_keys_and_bye(server, tmp_path):
    sf = scenario(tmp_path, "uac_balance.xml", SPEECH_PCAP=DTMF_PCAP, SPEECH_MS="1500")
    proc = run_sipp(tmp_path, sf, server.port, timeout=40, extra=("-t", "t1", "-trace_msg"))
    assert proc.returncode == 0, sipp_report(tmp_path, proc)
    assert server.wait_idle()
    (call_id,) = server.records.call_ids()
    rec = server.records.get(call_id)
    assert rec is not None and (rec.outcome, rec.end_reason) == ("self_served", "completed")
    assert rec.turns[-1]["dtmf"] == "1234"
    (trace,) = tmp_path.glob("*_messages.log")
    text = trace.read_text(errors="replace")
    assert "TCP message received" in text and "UDP message" not in text
    assert ";transport=tcp>" in text                                   # our Contact
    assert "\nBYE sip:caller@" in text and "Via: SIP/2.0/TCP " in text   # the bot's BYE, over TCP too


HOSTILE = [
    (b"\x00\xffgarbage without end " * 300, "header section over 4096 bytes"),
    (b"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9\r\n\r\n", "no Content-Length"),
    (b"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nX-Huge: " + b"a" * 10000 + b"\r\n\r\n", "header section over 4096"),
    (b"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nContent-Length: 9000\r\n\r\n", "body of 9000 bytes over"),
    (b"hello, not SIP\r\nContent-Length: 0\r\n\r\n", "unparsable SIP"),            # framed, then sippy says no
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("data,problem", HOSTILE, ids=[p for _, p in HOSTILE])
def test_hostile_stream_is_one_line_and_a_closed_connection(server, log_stream, data, problem):
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(data)
        deadline = time.monotonic() + 5
        while problem not in log_stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        if problem != "unparsable SIP":                 # a framed message sippy refuses: the stream is still in step
            assert closed_by_server(s, 3.0)
    lines = [ln for ln in log_stream.getvalue().splitlines() if problem in ln]
    assert len(lines) == 1, log_stream.getvalue()
    assert "tcp:127.0.0.1:" in lines[0] and "Traceback" not in log_stream.getvalue()
    assert answers_options(server)


@pytest.mark.timeout(60)
def test_slowloris_is_cut_off_in_bounded_time_and_connections_are_capped(server, log_stream):
    slow = socket.create_connection((server.host, server.port), timeout=5)
    try:
        started = time.monotonic()
        for piece in (b"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\n", b"Via: SIP/2.0/TCP 127.0.0.1:9\r\n"):
            slow.sendall(piece)
            time.sleep(0.3)
        assert closed_by_server(slow, 5.0)
        assert time.monotonic() - started < 4.0        # message_seconds = 1
        assert "message not complete within 1 s; connection closed" in log_stream.getvalue()
    finally:
        slow.close()
    held = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(4)]
    try:
        time.sleep(0.3)
        extra = socket.create_connection((server.host, server.port), timeout=5)
        assert closed_by_server(extra, 3.0)            # the fifth: refused, one line
        extra.close()
        assert "connections open (the limit); connection refused" in log_stream.getvalue()
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert answers_options(server)                      # room again once they went


@pytest.mark.timeout(200)
def test_serve_sip_transport_tcp_as_a_process(tmp_path):
    import re
    import signal
    import subprocess
    import sys
    import threading
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    cmd = [sys.executable, "-m", "ivr", "serve", "--sip", "127.0.0.1:0", "--sip-transport", "tcp",
           "--flows", str(root / "flows"), "--engine", "fake", "--records", str(tmp_path / "calls.sqlite3"),
           "--queue", "none", "--bank", str(tmp_path / "bank.sqlite3"), "--drain", "1", "--no-prewarm"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    watchdog = threading.Timer(150, proc.kill)
    watchdog.start()
    try:
        addr = None
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.match(r"sip: tcp (.+):(\d+)$", line.strip())
            addr = (m.group(1), int(m.group(2))) if m else addr
            if line.strip() == "ready":
                break
        assert addr is not None, proc.stderr.read() if proc.stderr else ""
        with socket.create_connection(addr, timeout=5) as s:
            s.sendall(options_request(s.getsockname()[1], 3))
            assert read_message(s).startswith(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP ")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind,sent", [("tcp", 1), ("udp", 3)])   # UDP: at 0, 0.5 and 1.5 s (Timer E)
def test_our_requests_are_not_retransmitted_over_tcp(tmp_path, kind, sent):
    """RFC 3261 17.1.2.2: on a reliable transport a client does not start Timer E.
    A registrar that never answers gets one REGISTER over TCP in 2.6 s; over UDP, three."""
    import threading

    from ivr.transports.sip.register import Registration

    peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    port = peer.getsockname()[1]
    got = bytearray()

    def listen() -> None:
        end = time.monotonic() + 2.6
        if kind == "tcp":
            peer.listen(1)
            peer.settimeout(2.0)
            conn, _ = peer.accept()
        else:
            conn = peer
        with conn:
            while (left := end - time.monotonic()) > 0:
                conn.settimeout(left)
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    break
                if not data:
                    break
                got.extend(data)

    srv = SipServerThread(tmp_path, SipOptions(transport=kind))
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        async def register() -> Registration:
            reg = Registration(srv.sip, f"sip:ivr@127.0.0.1:{port}", user="ivr", password="pw", expires=60)
            await reg.start(wait=0.2)
            return reg

        reg = srv.call(register())
        listener.join(5.0)
        srv.loop.call_soon_threadsafe(reg.stop)
    finally:
        peer.close()
        srv.stop()
    assert got.count(b"REGISTER sip:") == sent, bytes(got[:400])
    assert f"Via: SIP/2.0/{kind.upper()} ".encode() in got
