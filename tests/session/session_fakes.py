"""Fakes for testing the session without the other rooms' real parts:
a scripted dialog, a tone renderer, an energy endpointer, a clocked source.
(The real parts are used in the end-to-end tests.)"""
from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import numpy as np

from ivr.frames import (
    ActionResult,
    AudioFrame,
    CallBackend,
    CallEnded,
    CallStarted,
    DtmfDigit,
    Hangup,
    Listen,
    NoInput,
    Say,
    SpeechStarted,
    SpeechStopped,
    Transfer,
    UserInput,
)

RATE = 8000


def tone(seconds: float, freq: float = 300.0, amp: int = 8000, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def to_frames(samples: np.ndarray, rate: int = RATE, t0: float = 0.0) -> list[AudioFrame]:
    n = rate // 50
    out = []
    for i in range(0, len(samples) - n + 1, n):
        out.append(AudioFrame.from_array(samples[i:i + n], rate, t0 + i / rate))
    return out


class ClockedSource:
    """Yields each frame once its end time has come on the clock (as a live
    line would); DtmfDigits are yielded at their timestamp. Ends (hangs up)
    after the last item, or never if ``hold_open``."""

    def __init__(self, clock: Any, items: Iterable[AudioFrame | DtmfDigit], hold_open: bool = False) -> None:
        self.clock = clock
        self.items = list(items)
        self.hold_open = hold_open

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        last = 0.0
        for it in self.items:
            due = it.end if isinstance(it, AudioFrame) else it.timestamp
            await self.clock.sleep(due - self.clock.now())
            yield it
            last = due
        if self.hold_open:
            n = 0
            while True:  # a live line keeps sending silence
                t = last + n * 0.02
                await self.clock.sleep(t + 0.02 - self.clock.now())
                yield AudioFrame(b"\0" * (RATE // 50 * 2), RATE, t)
                n += 1


class EnergyEndpointer:
    """Speech = frames louder than a threshold; starts after ``start_frames``
    loud frames (timestamp = first loud frame), stops after ``end_ms`` quiet."""

    def __init__(self, rate: int, start_frames: int = 3, end_ms: int = 400) -> None:
        self.start_frames, self.end_frames = start_frames, end_ms // 20
        self.loud = self.quiet = 0
        self.speaking = False
        self.run_start = self.last_loud_end = 0.0

    def set_end_silence(self, ms: int) -> None:
        self.end_frames = max(1, ms // 20)

    # the real Endpointer's early-end surface (ivr.audio.vad)
    @property
    def silence_ms(self) -> int:
        return self.quiet * 20 if self.speaking else 0

    @property
    def voiced_end(self) -> float:
        return self.last_loud_end

    def end_turn(self) -> SpeechStopped | None:
        if not self.speaking or not self.quiet:
            return None
        self.speaking, self.loud = False, 0
        return SpeechStopped(self.last_loud_end, self.run_start)

    def process(self, frame: AudioFrame) -> list:
        loud = float(np.abs(frame.array().astype(np.int32)).mean()) > 500
        if loud:
            if self.loud == 0 and not self.speaking:
                self.run_start = frame.timestamp
            self.loud += 1
            self.quiet = 0
            self.last_loud_end = frame.end
            if not self.speaking and self.loud >= self.start_frames:
                self.speaking = True
                return [SpeechStarted(self.run_start)]
            return []
        self.quiet += 1
        if not self.speaking:
            self.loud = 0
        if self.speaking and self.quiet >= self.end_frames:
            self.speaking, self.loud = False, 0
            return [SpeechStopped(self.last_loud_end, self.run_start)]
        return []


class NoDtmf:
    def __init__(self, rate: int) -> None:
        pass

    def process(self, frame: AudioFrame) -> list:
        return []


class ToneRenderer:
    """Renders each prompt as a tone ``seconds_per_char`` long per character
    (or ``durations[key]``), so tests know how long a prompt is."""

    def __init__(self, durations: dict[str, float] | None = None, seconds_per_char: float = 0.1) -> None:
        self.durations = durations or {}
        self.spc = seconds_per_char
        self.rendered: list[Say] = []

    def render(self, say: Say, sample_rate: int) -> np.ndarray:
        self.rendered.append(say)
        secs = self.durations.get(say.key, max(0.2, len(say.text) * self.spc))
        return tone(secs, 440.0, 3000, sample_rate)


class BalanceDialog:
    """A scripted bank flow: menu -> (balance: id by DTMF -> backend -> say
    balance -> hangup) | (agent -> transfer T1). No input twice -> transfer."""

    def __init__(self, long_greeting: bool = False) -> None:
        self.events: list[Any] = []

    def step(self, state: dict | None, event: Any) -> tuple[dict, list]:
        self.events.append(event)
        s = dict(state or {"language": "zh-TW", "slots": {}, "intent": "", "verified": False, "path": [],
                           "turns": [], "no_input": 0, "at": "start"})
        s["path"] = [*s["path"], s["at"]]
        menu = Listen("intent", "intent", ("查餘額", "轉接專人"), dtmf_max_digits=1, no_input_timeout_ms=3000)
        if isinstance(event, CallStarted):
            s["at"] = "menu"
            return s, [Say("greeting", "zh-TW", "您好歡迎致電示範銀行請說出您要辦理的業務"), menu]
        if isinstance(event, CallEnded):
            s["at"] = "ended"
            return s, []
        if isinstance(event, NoInput):
            s["no_input"] += 1
            if s["no_input"] >= 2:
                return s, [Say("to_agent", "zh-TW", "為您轉接專人"), Transfer("T1", reason="no_input")]
            return s, [Say("reprompt", "zh-TW", "請再說一次"), menu]
        if s["at"] == "menu" and isinstance(event, UserInput):
            if "餘額" in event.text or event.dtmf == "1":
                s["intent"], s["at"] = "check_balance", "ask_id"
                return s, [Say("ask_id", "zh-TW", "請輸入身分證後四碼"),
                           Listen("id_last4", "digits", (), dtmf_max_digits=4)]
            s["intent"] = "talk_to_agent"
            return s, [Say("to_agent", "zh-TW", "為您轉接專人"), Transfer("T1", reason="caller_asked")]
        if s["at"] == "ask_id" and isinstance(event, UserInput):
            s["slots"] = {**s["slots"], "id_last4": event.dtmf}
            s["at"] = "lookup"
            return s, [CallBackend("balance", {"id_last4": event.dtmf})]
        if s["at"] == "lookup" and isinstance(event, ActionResult):
            s["at"] = "done"
            if not event.ok:
                return s, [Say("backend_down", "zh-TW", "系統忙碌"), Transfer("T1", reason="backend_error")]
            s["verified"] = True
            return s, [Say("balance", "zh-TW", f"您的餘額是{event.data['balance']}元", interruptible=False),
                       Say("bye", "zh-TW", "謝謝您的來電"), Hangup()]
        raise AssertionError(f"unexpected {event} at {s['at']}")


class FakeHandoff:
    """The HandoffService surface the session uses, without threads (a
    VirtualClock test must not wait on real time). The ticket is taken after
    ``take_after`` status polls."""

    def __init__(self, take_after: int | None = None) -> None:
        self.enqueued: list[tuple[Any, str, int]] = []
        self.cancelled: list[tuple[str, str]] = []
        self.outcomes: list[tuple[str, str]] = []
        self.take_after = take_after
        self.polls = 0

    async def enqueue(self, bundle: Any, queue: str, priority: int = 0) -> Any:
        self.enqueued.append((bundle, queue, priority))
        return SimpleNamespace(id=f"t{len(self.enqueued)}", queue=queue, status="waiting")

    async def status(self, ticket: Any) -> Any:
        self.polls += 1
        taken = self.take_after is not None and self.polls > self.take_after
        return SimpleNamespace(id=ticket.id, status="connected" if taken else "waiting")

    async def wait_info(self, ticket: Any) -> Any:
        return SimpleNamespace(position=3, estimated_wait=120.0)

    async def cancel(self, ticket: Any, reason: str = "caller_hangup") -> bool:
        self.cancelled.append((ticket.id, reason))
        return True

    async def record_call_outcome(self, outcome: str, call_id: str | None = None) -> None:
        self.outcomes.append((outcome, call_id))


async def inline(fn, *args):
    return fn(*args)


def bank_backend(name: str, args: dict) -> ActionResult:
    assert name == "balance"
    return ActionResult(name, True, {"balance": 12345})
