"""The cluster's SIPp caller (call.xml) against a scripted callee on loopback,
no Kamailio: the replies to its INVITE come in the orders UDP through a
multi-process proxy can deliver them. RFC 3261 17.1.1.2: once the 200 OK is
in, a late 180 Ringing changes nothing; the call goes on to its BYE.

(The cluster test once failed with SIPp's "Aborting call on an unexpected
BYE": Kamailio relayed the worker's 180 after its 200, and the scenario's
180 step, marked optional="global", sent the call back to waiting for a 200.)"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SIPP = shutil.which("sipp")
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"

pytestmark = [pytest.mark.skipif(SIPP is None, reason="needs SIPp (Debian package sip-tester)"),
              pytest.mark.timeout(60)]


class Callee:
    """Answers one INVITE with the given replies in the given order, then
    either sends BYE itself or answers the caller's BYE."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10.0)
        self.port = int(self.sock.getsockname()[1])
        self.seen: list[str] = []

    def recv(self) -> tuple[str, tuple[str, int]]:
        data, peer = self.sock.recvfrom(65535)
        text = data.decode()
        self.seen.append(text.split("\r\n", 1)[0])
        return text, peer

    @staticmethod
    def header(msg: str, name: str) -> str:
        found = re.search(rf"^{name}:.*$", msg, re.M | re.I)
        assert found, f"no {name} header in {msg[:200]!r}"
        return found.group(0).rstrip("\r")

    def reply(self, request: str, peer: tuple[str, int], code: int, text: str, body: str = "") -> None:
        to = self.header(request, "To") + ("" if code == 100 or ";tag=" in self.header(request, "To") else ";tag=ivr1")
        heads = [f"SIP/2.0 {code} {text}", self.header(request, "Via"), self.header(request, "From"), to,
                 self.header(request, "Call-ID"), self.header(request, "CSeq"),
                 f"Contact: <sip:ivr@127.0.0.1:{self.port}>"]
        if body:
            heads.append("Content-Type: application/sdp")
        heads.append(f"Content-Length: {len(body)}")
        self.sock.sendto(("\r\n".join(heads) + "\r\n\r\n" + body).encode(), peer)

    def bye(self, invite: str, peer: tuple[str, int]) -> None:
        caller = self.header(invite, "From").split(":", 1)[1].strip()
        me = self.header(invite, "To").split(":", 1)[1].strip() + ";tag=ivr1"
        self.sock.sendto((f"BYE sip:caller@{peer[0]}:{peer[1]} SIP/2.0\r\n"
                          f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK-ivr-bye\r\n"
                          f"From: {me}\r\nTo: {caller}\r\n{self.header(invite, 'Call-ID')}\r\nCSeq: 1 BYE\r\n"
                          "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), peer)


def _call(tmp_path: Path, replies: list[int], callee_hangs_up: bool) -> tuple[int, str, list[str]]:
    assert SIPP is not None
    callee = Callee()
    sf = tmp_path / "call.xml"
    sf.write_text((HERE / "call.xml").read_text(encoding="utf-8").replace("PAUSE_MS", "1500"), encoding="utf-8")
    err = tmp_path / "sipp.err"
    sipp = subprocess.Popen([SIPP, f"127.0.0.1:{callee.port}", "-sf", str(sf), "-m", "1", "-i", "127.0.0.1",
                             "-p", "0", "-mi", "127.0.0.1", "-nostdin", "-timeout", "20s", "-timeout_error",
                             "-trace_err", "-error_file", str(err)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        invite, peer = callee.recv()
        names = {100: "Trying", 180: "Ringing", 200: "OK"}
        for code in replies:
            callee.reply(invite, peer, code, names[code], SDP if code == 200 else "")
        ack, _ = callee.recv()
        assert ack.startswith("ACK "), ack[:80]
        if callee_hangs_up:
            callee.bye(invite, peer)
            callee.recv()  # the caller's 200 to our BYE (or nothing: then the timeout fails the test)
        else:
            bye, peer = callee.recv()
            assert bye.startswith("BYE "), bye[:80]
            callee.reply(bye, peer, 200, "OK")
        rc = sipp.wait(30)
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait(5)
        callee.sock.close()
    return rc, err.read_text() if err.exists() else "", callee.seen


@pytest.mark.parametrize("replies", [[100, 180, 200], [100, 200, 180], [200, 180], [100, 200]],
                         ids=["in-order", "late-180", "late-180-no-100", "no-180"])
@pytest.mark.parametrize("callee_hangs_up", [True, False], ids=["ivr-byes", "caller-byes"])
def test_caller_takes_any_order_of_replies_to_its_invite(tmp_path: Path, replies: list[int],
                                                         callee_hangs_up: bool) -> None:
    rc, errors, seen = _call(tmp_path, replies, callee_hangs_up)
    assert rc == 0, (errors[-600:], seen)
    assert seen[1].startswith("ACK ") and seen[-1].startswith("SIP/2.0 200 OK" if callee_hangs_up else "BYE "), seen
