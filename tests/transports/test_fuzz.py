"""Garbage on the wire never crashes the server, and a real call running at
the same time finishes normally."""
from __future__ import annotations

import json
import socket
import struct
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.session import CallRecordStore
from ivr.transports import audiosocket_call, websocket_call
from ivr.transports.audiosocket import KIND_AUDIO, KIND_DTMF, KIND_HANGUP, KIND_UUID, encode_frame
from tests.session.session_fakes import tone
from tests.transports.servers import ServerThread, fake_services

SCRIPT = [("silence", 0.9), ("audio", tone(0.6, 200, 9000)), ("wait_reply", 3.0), ("dtmf", "6789")]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def server():
    srv = ServerThread(fake_services(CallRecordStore()))
    yield srv
    srv.stop()


def frame_strategy():
    kinds = st.sampled_from([KIND_HANGUP, KIND_UUID, KIND_DTMF, KIND_AUDIO, 0xFF, 0x02, 0x11, 0x7F])
    good = st.builds(lambda k, p: encode_frame(k, p), kinds, st.binary(max_size=700))
    lying = st.builds(lambda k, n, p: struct.pack(">BH", k, n) + p, kinds, st.integers(0, 0xFFFF),
                      st.binary(max_size=64))  # a length that does not match what follows
    return st.lists(st.one_of(good, lying, st.binary(max_size=40)), max_size=12)


def send_raw(addr, data: bytes, with_uuid: bool) -> None:
    with socket.create_connection(addr, timeout=5) as s:
        if with_uuid:
            s.sendall(encode_frame(KIND_UUID, uuid.uuid4().bytes))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(5)
        try:
            while s.recv(65536):  # until the server closes its side
                pass
        except (ConnectionResetError, TimeoutError):
            pass


def test_audiosocket_garbage(server):
    addr = server.listening.audiosocket
    live = server.submit(audiosocket_call(*addr, SCRIPT))

    @FUZZ
    @given(frames=frame_strategy(), with_uuid=st.booleans())
    def fuzz(frames, with_uuid):
        send_raw(addr, b"".join(frames), with_uuid)

    fuzz()
    result = live.result(60)
    assert server.services.records.get(result.call_id).outcome == "self_served"
    # and the server still takes new calls
    again = server.call(audiosocket_call(*addr, SCRIPT))
    assert server.services.records.get(again.call_id).outcome == "self_served"
    assert server.services.metrics.registry.get_sample_value(
        "ivr_protocol_errors_total", {"transport": "audiosocket"}) > 0


def ws_message_strategy():
    events = st.sampled_from(["media", "dtmf", "mark", "stop", "start", "connected", "bogus", ""])
    junk = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.binary(max_size=20).map(lambda b: b.hex()),
                     st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
    payload = st.one_of(junk, st.binary(max_size=400).map(lambda b: __import__("base64").b64encode(b).decode()))
    obj = st.fixed_dictionaries({"event": st.one_of(events, junk)}, optional={
        "media": st.one_of(junk, st.fixed_dictionaries({"payload": payload}, optional={"track": junk})),
        "dtmf": st.one_of(junk, st.fixed_dictionaries({"digit": st.one_of(junk, st.sampled_from(list("0123#*X")))})),
        "start": st.one_of(junk, st.fixed_dictionaries({"callSid": junk, "customParameters": junk})),
        "streamSid": junk})
    return st.lists(st.one_of(obj.map(json.dumps), st.text(max_size=50), st.binary(max_size=50)), max_size=10)


def test_websocket_garbage(server):
    from websockets.sync.client import connect

    host, port = server.listening.websocket
    url = f"ws://{host}:{port}/"
    live = server.submit(websocket_call(url, SCRIPT))

    @FUZZ
    @given(msgs=ws_message_strategy(), start_first=st.booleans())
    def fuzz(msgs, start_first):
        try:
            with connect(url, open_timeout=5, close_timeout=2) as ws:
                if start_first:
                    ws.send(json.dumps({"event": "start", "start": {"callSid": "CAfuzz" + uuid.uuid4().hex}}))
                for m in msgs:
                    ws.send(m)
                ws.send(json.dumps({"event": "stop"}))
        except Exception as e:  # the server may close a stream that never started: fine
            assert type(e).__name__.startswith(("ConnectionClosed", "InvalidMessage")), e

    fuzz()
    result = live.result(60)
    assert server.services.records.get(result.call_id).outcome == "self_served"
    again = server.call(websocket_call(url, SCRIPT))
    assert server.services.records.get(again.call_id).outcome == "self_served"
