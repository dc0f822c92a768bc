"""REGISTER with digest authentication to SIPp acting as a registrar:
challenged, authenticated (SIPp checks the digest), renewed when the
2-second binding runs out. A wrong password is refused and never logged."""
from __future__ import annotations

import time

import pytest

from ivr.transports.sip.register import Registration
from tests.transports.sip.harness import (
    SipServerThread,
    free_port,
    needs_sipp,
    scenario,
    sipp_report,
    start_sipp_uas,
)
from tests.transports.sip.test_dial import finish, wait_listening

pytestmark = [needs_sipp, pytest.mark.timeout(60)]


@pytest.mark.parametrize("password", ["s3cret-pw", "wrong-pw"])
def test_register_with_digest_auth_and_renewal(tmp_path, log_stream, password):
    port = free_port()
    uas = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_registrar.xml"), port, timeout=20)
    srv = SipServerThread(tmp_path)
    try:
        wait_listening(uas, port)

        async def register() -> Registration:
            reg = Registration(srv.sip, f"sip:ivr@127.0.0.1:{port}", user="ivr", password=password, expires=60)
            await reg.start(wait=5.0)
            return reg

        reg = srv.call(register())
        if password == "wrong-pw":
            proc = finish(uas, tmp_path)
            assert reg.state.startswith("refused") and "403" in reg.state
            assert proc.returncode != 0     # SIPp found the digest wrong
        else:
            deadline = time.monotonic() + 8
            while reg.registrations < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert reg.state == "registered" and reg.registrations == 2   # the renewal went through too
            proc = finish(uas, tmp_path)
            assert proc.returncode == 0, sipp_report(tmp_path, proc)
        srv.loop.call_soon_threadsafe(reg.stop)
        assert password not in log_stream.getvalue()
    finally:
        if uas.poll() is None:
            uas.kill()
        srv.stop()
