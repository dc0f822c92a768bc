"""A running IvrServer on loopback with fake speech/dialog parts, in its own
event-loop thread (so synchronous fuzzers and clients can hit it)."""
from __future__ import annotations

import asyncio
import threading

from ivr.asr import FakeEngine
from ivr.session import CallRecordStore, EngineSelector
from ivr.session.factory import CallServices
from ivr.transports import IvrServer
from tests.session.session_fakes import (
    BalanceDialog,
    EnergyEndpointer,
    FakeHandoff,
    NoDtmf,
    ToneRenderer,
    bank_backend,
)

SHORT_PROMPTS = {"greeting": 0.6, "ask_id": 0.4, "balance": 0.6, "bye": 0.3, "reprompt": 0.3, "to_agent": 0.3,
                 "hold.position": 0.3}


def fake_services(records: CallRecordStore | None = None, handoff=None) -> CallServices:
    return CallServices(
        engines=EngineSelector.single(FakeEngine([("我要查餘額", 0.9)])), dialog=BalanceDialog(),
        prompts=ToneRenderer(SHORT_PROMPTS), handoff=handoff or FakeHandoff(take_after=2),
        records=records or CallRecordStore(), backends=bank_backend,
        endpointer_factory=EnergyEndpointer, dtmf_factory=NoDtmf)


class ServerThread:
    def __init__(self, services: CallServices) -> None:
        self.services = services
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(self._make())
        self.listening = self.call(self.server.start({"audiosocket": "127.0.0.1:0", "websocket": "127.0.0.1:0"},
                                                     "127.0.0.1:0"))

    async def _make(self) -> IvrServer:
        return IvrServer(self.services, drain_seconds=2.0)

    def call(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.call(self.server.shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
