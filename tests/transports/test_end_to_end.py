"""Whole calls over real loopback sockets through the real rooms: Whisper,
the shipped flows, NLU, the demo bank, prompt TTS, the SQLite handoff queue.

The caller checks a balance: presses 1 for Mandarin over the greeting, says
我要查餘額 (TTS) over the menu, keys the Taiwan ID and PIN, listens to the
balance, presses 2 (nothing else) and is hung up on. AudioSocket and the
media stream run at the same time. Model load + two ~25 s calls.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from ivr.transports import audiosocket_call, websocket_call

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
RATE = 8000


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from ivr.errors import IvrError
    from ivr.session.factory import build_services
    from tests.transports.servers import ServerThread

    tmp = tmp_path_factory.mktemp("e2e")
    try:
        services = build_services(ROOT / "flows", records_path=tmp / "calls.sqlite3",
                                  handoff_url=f"sqlite:///{tmp / 'queue.sqlite3'}", bank_path=tmp / "bank.sqlite3")
        loaded = services.engines.preload()
    except (IvrError, ImportError) as e:
        pytest.skip(f"needs the real rooms and the whisper model: {e}")
    if loaded.get("whisper") != "ok":
        pytest.skip(f"whisper model not installed: {loaded.get('whisper')}")
    srv = ServerThread(services)
    yield srv
    srv.stop()
    services.close()


def caller_script(live, speech: np.ndarray, inband_pin: bool) -> list[tuple]:
    from ivr.audio import dtmf_tones
    from ivr.cli.demo import PIN, demo_id_keys

    def fall_back_to_keys(result):
        session = live.server.calls.get(result.call_id)
        intent = getattr(getattr(session, "state", None), "intent", None)
        # the words were not caught: keys, like a caller would (# = main menu if it went elsewhere)
        if intent == "check_balance":
            return []
        back = [("dtmf", "#"), ("wait_audio", 20.0)] if intent else []
        return [*back, ("dtmf", "1"), ("wait_audio", 15.0)]

    pin = [("audio", dtmf_tones(PIN, RATE))] if inband_pin else [("dtmf", PIN)]
    return [
        ("silence", 0.8), ("dtmf", "1"),             # barges in on the greeting
        ("wait_audio", 10.0), ("silence", 0.5),      # the menu starts ...
        ("audio", speech),                           # ... and the caller talks over it
        ("wait_audio", 30.0), ("react", fall_back_to_keys),
        ("dtmf", demo_id_keys()),                    # over the ID prompt
        ("wait_audio", 10.0), *pin,
        ("wait_reply", 30.0),                        # balance + "anything else?"
        ("dtmf", "2"),
    ]


def check_record(live, result):
    record = live.services.records.get(result.call_id)
    assert result.hung_up_by_bot, record.events
    assert record.outcome == "self_served", [(e["kind"], e.get("key") or e.get("text")) for e in record.events]
    prompts = {p["key"]: p for p in record.prompts}
    balance = [p for p in record.prompts if "餘額為" in (p.get("text") or "")]
    assert balance and not balance[0]["interrupted"] and balance[0]["heard"] == pytest.approx(balance[0]["duration"], abs=0.05)
    assert "五萬兩千三百四十元" in balance[0]["text"]
    assert any(p["interrupted"] for p in record.prompts), "the caller barged in at least once"
    # customer_context (history and value, caller number only) comes first; verification before the balance
    assert [a["name"] for a in record.actions if a["name"] != "customer_context"][:2] == ["verify_id_pin", "get_balance"]
    assert all(a.get("ok", True) for a in record.actions)
    assert record.turns[-1]["dtmf"] == "2"
    assert prompts  # every prompt has its heard/not-heard seconds
    return record, balance[0]


def test_balance_call_over_audiosocket_and_websocket(live):
    speech = live.services.prompts.render_text("我要查餘額", "zh-TW", RATE)
    a_host, a_port = live.listening.audiosocket
    w_host, w_port = live.listening.websocket

    async def both():
        return await asyncio.gather(
            audiosocket_call(a_host, a_port, caller_script(live, speech, inband_pin=True), max_seconds=150),
            websocket_call(f"ws://{w_host}:{w_port}/", caller_script(live, speech, inband_pin=False),
                           max_seconds=150))

    via_as, via_ws = live.call(both(), timeout=200)
    _rec_as, balance = check_record(live, via_as)
    check_record(live, via_ws)
    assert via_ws.clears >= 1 and via_ws.marks

    # what came down the AudioSocket line: the balance prompt, recognisably
    start = balance["started"]
    audio = via_as.audio()
    assert len(audio) / RATE > balance["duration"]
    bursts = via_as.replies()
    burst = min(bursts, key=lambda b: abs(b[0] - start))
    t_end = [t for t, _ in via_as.received]
    first = next(i for i, t in enumerate(t_end) if t >= burst[0])
    heard = np.frombuffer(b"".join(p for _, p in via_as.received[first:first + int(balance["duration"] * 50)]),
                          dtype="<i2")
    rec = live.services.engines.engine("whisper").recognizer(sample_rate=RATE)
    rec.set_expected(None, language="zh-TW")
    rec.accept(heard.tobytes())
    text = rec.finish().text
    # Whisper on 8 kHz TTS writes the amount its own way; the words around it are the check
    assert "您好" in text and any(w in text for w in ("帳戶", "賬戶", "帐户")), text
