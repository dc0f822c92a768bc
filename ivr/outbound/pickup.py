"""An outbound call's first seconds: answering-machine detection at pickup,
then the campaign's flow for a person or the voicemail drop for a machine.

``PickupGate`` sits between the transport's caller audio and the session: it
feeds the detector and holds every frame back until the verdict, so the
callee's "喂？" is not taken as the answer to the flow's first question.
``PickupSession`` is the call's ``CallSession``: it waits for that verdict
before the dialog's first step; a machine gets the campaign's voicemail
message (once its greeting has gone quiet) or nothing, and the call ends with
reason ``voicemail``."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ivr.frames import AudioFrame, DtmfDigit, Say, SpeechStarted, SpeechStopped
from ivr.outbound.amd import AmdConfig, AmdResult, AnsweringMachineDetector
from ivr.session.session import CallSession

if TYPE_CHECKING:
    from ivr.audio.base import AudioSink, AudioSource
    from ivr.session.factory import CallServices
    from ivr.transports.base import CallInfo

VOICEMAIL_KEY = "campaign.voicemail"
GREETING_END_SILENCE = 1.0   # s of quiet after a machine's greeting (its beep) before the message
GREETING_WAIT_MAX = 20.0     # s: leave the message anyway after this long


class PickupGate:
    """An ``AudioSource`` that withholds the callee's audio until AMD decides."""

    def __init__(self, source: AudioSource, sample_rate: int, config: AmdConfig | None = None) -> None:
        self.source = source
        self.detector = AnsweringMachineDetector(sample_rate, config)
        self.verdict: asyncio.Future[AmdResult | None] = asyncio.get_running_loop().create_future()
        self._quiet = asyncio.Event()  # after a machine verdict: its greeting has ended
        self._last_speech: float | None = None
        self._quiet_since: float | None = None

    def __aiter__(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        try:
            async for item in self.source:
                if self.verdict.done():
                    if isinstance(item, AudioFrame) and not self._quiet.is_set():
                        self._watch_quiet(item)
                    yield item
                elif isinstance(item, AudioFrame):
                    r = self.detector.process(item)
                    if r is not None:
                        self._quiet_since = item.end
                        self.verdict.set_result(r)
                # a key pressed before the verdict is dropped with the audio: nothing has been asked yet
        finally:
            if not self.verdict.done():
                self.verdict.set_result(None)  # hung up during the greeting
            self._quiet.set()

    def _watch_quiet(self, frame: AudioFrame) -> None:
        for ev in self.detector._ep.process(frame):  # the detector's endpointer keeps following the greeting
            if isinstance(ev, SpeechStarted):
                self._quiet_since = None
            elif isinstance(ev, SpeechStopped):
                self._quiet_since = ev.timestamp
        if self._quiet_since is not None and frame.end - self._quiet_since >= GREETING_END_SILENCE:
            self._quiet.set()

    async def greeting_over(self, max_wait: float = GREETING_WAIT_MAX) -> None:
        try:
            await asyncio.wait_for(self._quiet.wait(), max_wait)
        except TimeoutError:
            pass


class PickupSession(CallSession):
    """A campaign call's session: AMD first, then the flow (a person) or the drop (a machine)."""

    gate: PickupGate
    voicemail: Say | None

    async def _drive(self) -> str:
        r = await self.gate.verdict
        if r is None:
            return "hangup"
        self._event("action", name="amd", verdict=r.verdict, decided_at=r.decided_at, why=r.why)
        if r.verdict != "machine":
            return await super()._drive()
        if self.voicemail is None:
            self._outcome = "failed"
            return "voicemail"
        await self.gate.greeting_over()
        await self.say(self.voicemail)
        self._outcome = "self_served"  # the message was left: nothing for an agent to do
        return "voicemail"


def pickup_session(services: CallServices, info: CallInfo, source: AudioSource, sink: AudioSink,
                   voicemail: Say | None, amd: AmdConfig | None = None) -> PickupSession:
    """The services' session for ``info``, gated by AMD (what ``CallServices.session`` builds)."""
    gate = PickupGate(source, sink.sample_rate, amd)
    s = services
    session = PickupSession(gate, sink, s.engines, s.dialog, s.prompts, s.handoff, s.clock, s.records,
                            call_id=info.call_id, caller=info.caller, transport=info.transport, config=s.config,
                            backends=s.backends, metrics=s.metrics, endpointer_factory=s.endpointer_factory,
                            dtmf_factory=s.dtmf_factory, after_call=s.after_call)
    session.gate, session.voicemail = gate, voicemail
    return session
