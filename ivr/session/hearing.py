"""The caller's side of a call: source -> endpointer + DTMF detector ->
utterances and digits, in arrival order, on one queue.

Runs as its own task for the whole call so barge-in is noticed while a prompt
plays. The turn ends after the step's end-of-turn silence, or earlier, after
its short ``complete_ms`` pause, when the recognizer's partial of the turn so
far already completes the step's answer (``completes``, the dialog's check):
asked once the caller has paused ``PEEK_MS``, so the decode overlaps the rest
of the pause, and only acted on if the caller has stayed quiet since.

Speech audio is kept from a short pre-roll before the endpointer's
SpeechStarted (it fires a few frames late) until SpeechStopped. An utterance
during which a DTMF tone was heard is dropped: in-band tones also look like
speech to a VAD, and the digit already counts.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivr.audio.base import AudioSource
from ivr.frames import AudioFrame, DtmfDigit, SpeechStarted, SpeechStopped
from ivr.session.turns import BargeIn, TurnTaking

PREROLL_S = 0.3
# the partial for an early end is asked for after this much pause (or at complete_ms if shorter)
PEEK_MS = 60
# speech starting this soon after a key is the tone itself (the VAD hears tones as voice)
DTMF_GUARD_S = 0.25


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    pcm: bytes
    sample_rate: int
    during_prompt: bool = False
    # (engine, Transcript, seconds waited after the end) from the streaming decoder, if it heard this turn
    result: asyncio.Future[tuple[str, Any, float]] | None = None
    # end of the frame at which the turn was called over; "complete" when ended early (answer complete)
    stopped_at: float = 0.0
    ended_by: str = "silence"

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


@dataclass
class _Peek:
    """One partial asked for in one pause of the current turn."""

    voiced_end: float  # the turn's last voiced frame when asked: any voice after it makes this stale
    result: asyncio.Future[Any]
    complete: bool | None = None  # the dialog's verdict once the partial arrived
    heard: Any = None  # the partial Transcript: the turn's final if the turn ends on it


class HungUp:
    """Queue marker: the source ended (the caller hung up)."""


def _default_endpointer(rate: int) -> Any:
    # speech confirmed after 80 ms (the endpointer's default is 100): with the
    # turn-taker's own check a prompt then stops within 100 ms of the caller
    from ivr.audio.vad import Endpointer

    return Endpointer(rate, start_ms=80)


def _default_dtmf(rate: int) -> Any:
    from ivr.audio.dtmf import DtmfDetector

    return DtmfDetector(rate)


class CallerInput:
    """Pumps ``source`` until it ends. ``on_barge_in`` is called from the pump
    the moment the turn-taker confirms an interruption; ``on_audio`` sees
    every frame (recording)."""

    def __init__(
        self,
        source: AudioSource,
        turns: TurnTaking,
        on_barge_in: Callable[[BargeIn], None],
        endpointer_factory: Callable[[int], Any] | None = None,
        dtmf_factory: Callable[[int], Any] | None = None,
        on_audio: Callable[[AudioFrame], None] | None = None,
        decoder: Any = None,
    ) -> None:
        self.decoder = decoder
        self.source = source
        self.turns = turns
        self.on_barge_in = on_barge_in
        self.on_audio = on_audio
        self._make_vad = endpointer_factory or _default_endpointer
        self._make_dtmf = dtmf_factory or _default_dtmf
        self.queue: asyncio.Queue[Utterance | DtmfDigit | HungUp] = asyncio.Queue()
        self.vad: Any = None
        self.dtmf: Any = None
        self.sample_rate = 0
        self.frames_in = 0
        self.last_t = 0.0
        self._end_silence_ms: int | None = None
        self._preroll: deque[AudioFrame] = deque(maxlen=32)
        self._utt: list[bytes] | None = None
        self._utt_start = 0.0
        self._utt_in_prompt = False
        self._utt_dtmf = False
        self._last_digit_t = -1e9
        self._complete_ms = 0
        self._completes: Callable[[str], bool] | None = None
        self._peek: _Peek | None = None

    @property
    def speaking(self) -> bool:
        return self._utt is not None

    def set_end_silence(self, ms: int) -> None:
        self._end_silence_ms = ms
        if self.vad is not None and hasattr(self.vad, "set_end_silence"):
            self.vad.set_end_silence(ms)

    def set_end_of_turn(self, silence_ms: int, complete_ms: int = 0,
                        completes: Callable[[str], bool] | None = None) -> None:
        """The step's end of turn: after ``silence_ms`` of pause always, after
        ``complete_ms`` when ``completes(partial text)`` (0 or None: never early)."""
        self.set_end_silence(silence_ms)
        self._complete_ms = complete_ms if completes is not None and 0 < complete_ms < silence_ms else 0
        self._completes = completes

    async def run(self) -> None:
        try:
            async for item in self.source:
                if isinstance(item, DtmfDigit):
                    self._digit(item)
                else:
                    self._frame(item)
        finally:
            self.queue.put_nowait(HungUp())

    def _frame(self, frame: AudioFrame) -> None:
        if self.vad is None:
            self.sample_rate = frame.sample_rate
            self.vad = self._make_vad(frame.sample_rate)
            self.dtmf = self._make_dtmf(frame.sample_rate)
            if self._end_silence_ms is not None:
                self.set_end_silence(self._end_silence_ms)
        self.frames_in += 1
        self.last_t = frame.end
        if self.on_audio:
            self.on_audio(frame)
        self._preroll.append(frame)
        started = False
        for ev in self.vad.process(frame):
            if isinstance(ev, SpeechStarted):
                self._speech_started(ev)
                started = True
            elif isinstance(ev, SpeechStopped):
                self._speech_stopped(ev)
        if self._utt is not None and not started:
            self._utt.append(frame.pcm)
            if self.decoder is not None:
                self.decoder.audio(frame.pcm)
            if self._complete_ms:
                self._early_end()
        for d in self.dtmf.process(frame):
            self._digit(d)
        barge = None if self._utt_dtmf else self.turns.tick(frame.end)
        if barge:
            self.on_barge_in(barge)

    def _speech_started(self, ev: SpeechStarted) -> None:
        if not self.turns.speech_started(ev.timestamp):
            self._utt = None
            return
        since = ev.timestamp - PREROLL_S
        self._utt = [f.pcm for f in self._preroll if f.end > since]
        self._utt_start = ev.timestamp
        self._utt_in_prompt = self.turns.prompt_playing
        self._utt_dtmf = ev.timestamp - self._last_digit_t < DTMF_GUARD_S
        self._peek = None
        if self.decoder is not None:
            self.decoder.begin(b"".join(self._utt))

    def _early_end(self) -> None:
        """In the caller's pause: ask for a partial once, then end the turn at
        ``complete_ms`` if it completes the answer and nothing was said since."""
        silence = int(getattr(self.vad, "silence_ms", 0))
        voiced_end = getattr(self.vad, "voiced_end", None)
        if not silence or voiced_end is None or self._utt_dtmf or self.decoder is None:
            return
        peek = self._peek
        if peek is None or peek.voiced_end != voiced_end:  # none yet, or the caller spoke again since
            if silence < min(PEEK_MS, self._complete_ms):
                return
            fut = self.decoder.peek()
            if fut is None:
                return
            peek = self._peek = _Peek(voiced_end, fut)
            fut.add_done_callback(lambda f, p=peek: self._heard(p, f))
        if peek.complete and silence >= self._complete_ms:
            ev = self.vad.end_turn()
            if ev is not None:
                self._speech_stopped(ev, "complete", peek.heard)

    def _heard(self, peek: _Peek, fut: asyncio.Future[Any]) -> None:
        if peek is not self._peek or fut.cancelled() or fut.exception() is not None or self._completes is None:
            return
        tr = peek.heard = fut.result()
        peek.complete = bool(tr is not None and tr.text.strip() and self._completes(tr.text))
        if peek.complete and self._utt is not None:
            self._early_end()  # the partial came after complete_ms: end now if still quiet

    def _speech_stopped(self, ev: SpeechStopped, ended_by: str = "silence", heard: Any = None) -> None:
        kept = self.turns.speech_stopped()
        utt, self._utt = self._utt, None
        peek, self._peek = self._peek, None
        # a partial asked for after the last voiced frame heard the whole turn: it is the final
        pending = peek.result if peek is not None and heard is None and peek.voiced_end == ev.timestamp else None
        if kept and utt and not self._utt_dtmf:
            result = self.decoder.end(heard, pending) if self.decoder is not None else None
            self.queue.put_nowait(Utterance(self._utt_start, ev.timestamp, b"".join(utt), self.sample_rate,
                                            self._utt_in_prompt, result, self.last_t, ended_by))
        elif self.decoder is not None:
            self.decoder.drop()

    def _digit(self, d: DtmfDigit) -> None:
        self._last_digit_t = d.timestamp
        keep, barge = self.turns.dtmf(d.timestamp)
        if self._utt is not None:
            self._utt_dtmf = True
        if barge:
            self.on_barge_in(barge)
        if keep:
            self.queue.put_nowait(d)
