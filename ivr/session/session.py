"""One call: source -> VAD/DTMF -> recognizer -> dialog step -> prompts -> sink.

``CallSession`` owns that loop and nothing else. Interrupt rules live in
``turns``, the caller's audio path in ``hearing``, prompt playing in
``playback``, the queue and hold in ``transfer``, storage in ``records``.
Every wait uses the call's Clock, so a whole call replays on VirtualClock.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ivr.asr.base import Engine, Recognizer
from ivr.audio.base import AudioSink, AudioSource
from ivr.clock import Clock
from ivr.dialog.seams import DialogStepper
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
    Transfer,
    UserInput,
)
from ivr.handoff.call_side import CallHandoff
from ivr.prompts.renderer import SayRenderer
from ivr.session.backend_call import run_backend
from ivr.session.call_log import logging_adapter
from ivr.session.config import SessionConfig
from ivr.session.decoding import TurnDecoder, next_best
from ivr.session.digits import DigitCollector
from ivr.session.engines import CallRecognizers, EngineSelector
from ivr.session.hearing import CallerInput, HungUp, Utterance
from ivr.session.latency import TurnLatency
from ivr.session.metrics import SessionMetrics
from ivr.session.outage import FALLBACK_KEY, OutageLine, fallback_text, hold_tone, with_hold_tone
from ivr.session.playback import Playback, prompt_parts
from ivr.session.records import CallRecord, CallRecordStore, RecordStore, RecordWriter
from ivr.session.transfer import QueueLink, maybe_await
from ivr.session.turns import BargeIn, TurnTaking


def masked(text: str) -> str:
    """What is kept of a secret turn (the flow step said ``secret: true``): its length."""
    return "*" * len(text.replace(" ", "")) if text else text


def _get(state: Any, key: str, default: Any = None) -> Any:
    return state.get(key, default) if isinstance(state, Mapping) else getattr(state, key, default)


class CallSession:
    def __init__(self, source: AudioSource, sink: AudioSink, engine: Engine | EngineSelector,
                 dialog: DialogStepper[Any], prompts: SayRenderer, handoff: CallHandoff | None = None,
                 clock: Clock | None = None, records: RecordStore | None = None, *,
                 call_id: str | None = None, caller: str = "", transport: str = "",
                 config: SessionConfig | None = None, backends: Callable[..., Any] | None = None,
                 metrics: SessionMetrics | None = None, endpointer_factory: Callable[[int], Any] | None = None,
                 dtmf_factory: Callable[[int], Any] | None = None,
                 offload: Callable[..., Any] | None = None,
                 after_call: Callable[[CallRecord, Any], object] | None = None) -> None:
        from ivr.clock import RealClock

        self.sink, self.dialog, self.prompts, self.handoff = sink, dialog, prompts, handoff
        self.clock: Clock = clock or RealClock()
        self.config = config or SessionConfig()
        self.records: RecordStore = records or CallRecordStore()
        self.metrics = metrics or SessionMetrics()
        self.backends = backends
        # told (record, dialog state) once the record is finished: caller history (ivr.history)
        self.after_call = after_call
        # blocking work (TTS, decoding) runs here; tests on a VirtualClock run it inline
        self.offload = offload or _in_thread
        self.call_id = call_id or uuid.uuid4().hex
        self.caller = caller
        selector = engine if isinstance(engine, EngineSelector) else EngineSelector.single(engine)
        self.recognizers = CallRecognizers(selector, sink.sample_rate)
        self.turns = TurnTaking(self.config.barge_in)
        self._barge = asyncio.Event()
        self.decoder = TurnDecoder(self.offload, self.clock.hold)
        self.input = CallerInput(source, self.turns, self._on_barge_in, endpointer_factory, dtmf_factory,
                                 on_audio=self._record_caller_audio, decoder=self.decoder)
        self.playback = Playback(sink, self.clock, on_audio=self._record_bot_audio)
        self.record = CallRecord(self.call_id, transport, caller, self.config.language, time.time())
        self.writer: RecordWriter | None = None
        self.queue: QueueLink | None = None
        self.transcript: list[dict] = []  # for the agent: who said what, when
        self.state: Any = None  # the dialog's own state (opaque here; see DialogStepper)
        self._outcome: str | None = None
        self._skip_prompts = False
        self.latency = TurnLatency(self.clock)  # where the caller's wait for each reply goes
        self._rec: tuple[str, Recognizer | None] = ("", None)
        self._drive_task: asyncio.Future[Any] | None = None
        self._forced_end: str | None = None
        self._enqueuing: asyncio.Future[Any] | None = None  # the store making this call's handoff ticket
        self._over = False  # the record is finished: late events are dropped, late tickets withdrawn
        self._secret_input = False  # the caller is answering a secret step (from its prompt on)
        self.log = logging_adapter(self.call_id)

    # -- recording --------------------------------------------------------
    def _pen(self) -> RecordWriter:
        assert self.writer is not None, "CallSession: record written before run()"
        return self.writer

    def call_time(self, t: float | None = None) -> float:
        """Seconds since the call began (clock time ``t``, default now)."""
        return (self.clock.now() if t is None else t) - self.t0

    def _event(self, kind: str, **data: Any) -> None:
        if not self._over:  # after the record is finished (e.g. a late handoff ticket, withdrawn) events go nowhere
            self._pen().event(kind, self.call_time(), **data)

    def _record_caller_audio(self, frame: AudioFrame) -> None:
        # a secret step (PIN, code) is kept as silence: spoken digits and in-band DTMF tones would give it away
        pcm = bytes(len(frame.pcm)) if self._secret_input else frame.pcm
        self._pen().audio("caller", pcm, frame.timestamp, frame.sample_rate)

    def _record_bot_audio(self, frame: AudioFrame) -> None:
        if (timed := self.latency.finish()) is not None:  # the first frame of a reply
            self.metrics.observe_turn(*timed)
            self._event("latency", ended=timed[0], **timed[1])
        self._pen().audio("bot", frame.pcm, frame.timestamp, frame.sample_rate)

    # -- the call ---------------------------------------------------------
    async def run(self) -> CallRecord:
        self.t0 = self.clock.now()  # frames and events are on this clock; records count from here
        self.writer = RecordWriter(self.records, self.record, health=self.metrics.stores)
        if self.record.call_id != self.call_id:  # a repeated call id: this call is recorded as <id>-a2…
            self.call_id = self.record.call_id
            self.log = logging_adapter(self.call_id)
        self.queue = None if self.handoff is None else QueueLink(
            self.handoff, self.clock, self._event, call_id=self.call_id, caller=self.caller,
            started_wall=self.record.started_wall)
        self.metrics.calls_active.inc()
        self.log.info("call started", extra={"caller": self.caller, "transport": self.record.transport})
        pump = asyncio.ensure_future(self.input.run())
        drive = self._drive_task = asyncio.ensure_future(self._drive())
        timer = asyncio.ensure_future(self.clock.sleep(self.config.max_call_seconds))
        reason = "hangup"
        try:
            waiting = {drive, timer, pump}
            while not drive.done():
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if pump in done:
                    waiting.discard(pump)
                    if pump.exception() is not None:
                        self.log.warning("caller audio failed: %s", pump.exception())
                    drive.cancel()  # the caller hung up
                if timer in done:
                    waiting.discard(timer)
                    if self._outcome != "handed_off":
                        reason = "max_duration"
                        drive.cancel()
            await asyncio.gather(drive, return_exceptions=True)
            if drive.cancelled():
                reason = self._forced_end or reason
            elif (exc := drive.exception()) is not None:
                reason = "error"
                self.metrics.errors.labels(type(exc).__name__).inc()
                self.log.error("call failed: %s", exc, exc_info=exc)
                await self._fail_safe(str(exc))
            else:
                reason = drive.result()
        finally:
            self.decoder.close()
            for t in (pump, drive, timer):
                t.cancel()
            await asyncio.gather(pump, drive, timer, return_exceptions=True)
            await self._tell_handoff(reason)
            rec = self._finish(reason)
            self._over = True
            await self._after_call(rec)
        return self.record

    def _finish(self, reason: str) -> CallRecord:
        if self._outcome is None:
            self._outcome = "abandoned" if reason == "hangup" else "failed"
        if self.state is not None:
            try:
                self.dialog.step(self.state, CallEnded(self.clock.now(), reason))
            except Exception as e:  # the call is over; a dialog bug here must not lose the record
                self.log.warning("dialog rejected CallEnded: %s", e)
        language = str(_get(self.state, "language", "") or self.config.language) if self.state else self.config.language
        rec = self._pen().finish(self._outcome, reason, self.call_time(), language)
        self.metrics.calls_active.dec()
        self.metrics.calls.labels(rec.outcome).inc()
        self.log.info("call ended", extra={"outcome": rec.outcome, "reason": reason, "duration": rec.duration})
        return rec

    async def _after_call(self, rec: CallRecord) -> None:
        """Caller history is written off the event loop (a store write, or a
        hung PostgreSQL's connect timeout, must not stall every other call)."""
        if self.after_call is None:
            return
        try:
            await self.offload(self.after_call, rec, self.state)
        except Exception as e:  # a history failure must not reach the call or its record
            self.log.warning("after-call hook failed: %s", e)

    async def _tell_handoff(self, reason: str) -> None:
        """A caller who hangs up on hold leaves the queue; every call's outcome
        feeds the bot-containment figures."""
        if self.queue is None:
            return
        job, self._enqueuing = self._enqueuing, None
        if job is not None and not job.done():  # the store is still making a ticket for a call that is over
            job.add_done_callback(partial(self._withdraw_late, "caller_hangup" if reason == "hangup" else "call_ended"))
        try:
            await self.queue.finish(self._outcome or ("abandoned" if reason == "hangup" else "failed"), reason)
        except Exception as e:  # the queue being down must not lose the call record
            self.log.warning("handoff update failed: %s", e)

    def _withdraw_late(self, why: str, job: asyncio.Future[Any]) -> None:
        """A ticket that arrived after the call ended (enqueue still running when the
        caller hung up or the call was cancelled): nobody is on the line, cancel it."""
        if job.cancelled() or job.exception() is not None or self.queue is None:
            return
        self.log.info("handoff ticket made after the call ended: withdrawn (%s)", why)
        task = asyncio.ensure_future(maybe_await(self.queue.handoff.cancel(job.result(), why)))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _fail_safe(self, why: str) -> None:
        """The bot broke mid-call: hand the caller to an agent rather than drop them."""
        if self.queue is None or self._outcome == "handed_off":
            return
        try:
            ok, _ = await self._outage_line().run(
                lambda: self._enqueue(Transfer(self.config.error_queue, reason="bot_error", note=why[:200])))
            if not ok:
                await self._store_fallback()
        except Exception as e:
            self.log.error("fail-safe handoff failed too: %s", e)

    # -- store outages (ivr.session.outage) --------------------------------
    def _outage_line(self) -> OutageLine:
        c = self.config
        return OutageLine(self.metrics.stores, self.clock, self.say, self._hold_tone,
                          lambda: str(_get(self.state, "language", "") or c.language),
                          retry_for=c.store_retry_s, retry_every=c.store_retry_every_s)

    async def _hold_tone(self, seconds: float) -> None:
        await self.playback.play(hold_tone(seconds, self.sink.sample_rate), asyncio.Event(), False)

    async def _store_fallback(self) -> str:
        """The queue stayed down: tell the caller what to do instead of dropping them."""
        if self._outcome != "handed_off":
            self._outcome = "failed"
        self._event("action", name="store_outage", emergency_number=self.config.emergency_number or None)
        language = str(_get(self.state, "language", "") or self.config.language)
        await self.say(Say(FALLBACK_KEY, language, fallback_text(self.config.emergency_number), interruptible=False))
        return "store_outage"

    async def _drive(self) -> str:
        """Step the dialog until it hangs up or transfers; returns the end reason."""
        state, actions = self.dialog.step(None, CallStarted(self.call_id, self.caller, timestamp=self.clock.now(),
                                                             language=self.config.language))
        while True:
            self.state = state
            event: UserInput | NoInput | ActionResult | None = None
            listen = next((a for a in actions if isinstance(a, Listen)), None)
            if listen is not None:
                self._prepare(listen)  # before the prompts: a caller who barges in is heard by the right model
            for action in actions:
                if isinstance(action, Say):
                    await self.say(action)
                elif isinstance(action, Listen):
                    event = await self._listen(action)
                    self._secret_input = False
                elif isinstance(action, CallBackend):
                    event = await self._backend(action)
                elif isinstance(action, Transfer):
                    return await self._transfer(action)
                elif isinstance(action, Hangup):
                    self._outcome = "failed" if action.reason in ("error", "failed") else "self_served"
                    self._event("action", name="hangup", reason=action.reason)
                    return "completed"
                if event is not None:
                    break
            if event is None:
                raise RuntimeError(f"dialog step {_get(state, 'path', [])[-1:]} returned no Listen/Hangup")
            state, actions = self.dialog.step(state, event)
            if (intent := _get(state, "intent")) and intent != _get(self.state, "intent"):
                self._event("intent", intent=intent)

    # -- actions ----------------------------------------------------------
    def _on_barge_in(self, b: BargeIn) -> None:
        self._barge.set()
        self.metrics.barge_ins.labels(b.by).inc()

    async def say(self, action: Say) -> None:
        if self._skip_prompts and action.interruptible:
            self._event("prompt", key=action.key, text=action.text, duration=None, heard=0.0, skipped=True)
            return
        # a prompt still being synthesized (cold cache) plays the hold tone, not dead air
        self.latency.rendering()
        # a sentence made at call time plays from its first clause while the rest renders (session/playback.py)
        samples, more = await with_hold_tone(prompt_parts(self.prompts, action, self.sink.sample_rate, self.offload),
                                             self.clock, self._hold_tone)
        self.latency.rendered()
        self._barge.clear()
        started, played_before = self.clock.now(), self.sink.played_seconds
        duration = len(samples) / self.sink.sample_rate
        self.turns.prompt_started(action.interruptible, started)
        self.transcript.append({"at": self.call_time(started), "speaker": "bot", "text": action.text or action.key})
        info = {"key": action.key, "text": action.text, "language": action.language,
                    "started": round(self.call_time(started), 3),
                    "duration": round(duration, 3)}
        try:
            played = await self.playback.play(samples, self._barge, action.interruptible, more)
        except asyncio.CancelledError:  # hangup, shutdown or max length mid-prompt: still say what was heard
            duration = max(duration, self.playback.written)
            info["duration"] = round(duration, 3)
            heard = min(duration, self.sink.played_seconds - played_before)
            self._event("prompt", **info, heard=round(heard, 3), not_heard=round(duration - heard, 3),
                        interrupted=False, cut_off=True)
            raise
        finally:
            self.turns.prompt_ended()
        self._skip_prompts = played.interrupted
        info["duration"] = round(played.duration, 3)
        self._event("prompt", **info, heard=round(played.heard, 3), not_heard=round(played.duration - played.heard, 3),
                    interrupted=played.interrupted)

    async def _next_input(self, timeout: float) -> Utterance | DtmfDigit | HungUp | None:
        get = asyncio.ensure_future(self.input.queue.get())
        sleep = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait({get, sleep}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            if not get.done():
                get.cancel()
        return get.result() if get.done() and not get.cancelled() else None

    def _prepare(self, listen: Listen) -> None:
        self._secret_input = listen.secret
        # the dialog's own test of a complete answer ends the turn after the short pause (ivr.dialog.end_of_turn)
        check, state = getattr(self.dialog, "answer_complete", None), self.state
        self.input.set_end_of_turn(listen.end_silence_ms, listen.complete_ms if self.config.early_end_of_turn else 0,
                                   None if check is None else lambda text: bool(check(state, text)))
        self._rec = self.recognizers.for_listen(listen.language, tuple(listen.expected))
        self.decoder.use(*self._rec, kind=listen.kind)

    async def _listen(self, listen: Listen) -> UserInput | NoInput:
        self._skip_prompts = False
        keys = DigitCollector.for_listen(listen, self.config.inter_digit_timeout_s)
        while True:
            item = await self._next_input(keys.wait_s())
            if item is None:
                keyed = keys.expired(self.clock.now())
                if keyed is not None:
                    return self._user_input(listen, keyed)
                if self.input.speaking:
                    continue  # the caller is mid-sentence: the timer does not cut them off
                self.latency.drop()
                self._event("turn", slot=listen.slot, no_input=True)
                return NoInput(self.clock.now())
            if isinstance(item, HungUp):
                await asyncio.Event().wait()  # run() sees the pump end and cancels this task
                continue
            if isinstance(item, DtmfDigit):
                keyed = keys.key(item)
                if keyed is not None:
                    return self._user_input(listen, keyed)
                continue
            heard = await self._recognize(item, listen)
            if heard is None:
                continue  # the recognizer failed: this turn is lost, the caller is asked again on no-input
            text, conf, alternatives = heard
            if text.strip():
                return self._user_input(listen, UserInput(text=text, confidence=conf, timestamp=item.end,
                                                          alternatives=alternatives))
            spoken = item.end - item.start  # the words, without the endpointer's trailing wait
            if spoken >= self.config.reject_min_speech_s:
                # The caller said something the recognizer rejected (out of the
                # step's grammar, or too unsure): a no-match now, so they hear a
                # re-ask at once, not silence until the no-input timer and then
                # "沒有聽到您的聲音". Shorter bursts (clicks, a cough) are ignored.
                self._event("rejected", slot=listen.slot, duration=round(spoken, 3))
                return self._user_input(listen, UserInput(text="", confidence=0.0, timestamp=item.end))

    async def _recognize(self, utt: Utterance, listen: Listen) -> tuple[str, float, tuple[str, ...]] | None:
        """(text, confidence, next-best transcripts) of one turn; None when the
        recognizer failed. Next-best only at a number step, and never logged: the
        event says how many (at a secret step they are as secret as the text)."""
        self.latency.spoken(utt.end, utt.stopped_at or self.clock.now(), utt.ended_by)
        try:
            if utt.result is not None:
                engine, tr, waited = await utt.result
            else:  # speech that began before any Listen was prepared: decode it whole
                engine, rec = self._rec
                t0 = time.perf_counter()
                tr = await self.offload(_decode_whole, rec, utt.pcm)
                waited = time.perf_counter() - t0
        except Exception as e:  # a recognizer failure loses this turn, not the call: the caller is asked again
            self.metrics.errors.labels("recognizer").inc()
            self.latency.drop()
            self.log.error("recognizer failed: %s", e)
            self._event("recognized", slot=listen.slot, text="", error=str(e)[:200])
            return None
        self.latency.transcript(tr.decode_seconds)
        if utt.duration > 0 and tr.decode_seconds:
            self.metrics.recognizer_rtf.labels(engine).observe(tr.decode_seconds / utt.duration)
        secret = {"secret": True} if listen.secret else {}
        alternatives = next_best(tr, listen.kind)
        more = {"alternatives": len(alternatives)} if alternatives else {}
        self._event("recognized", slot=listen.slot, start=round(self.call_time(utt.start), 3),
                    end=round(self.call_time(utt.end), 3), text=masked(tr.text) if listen.secret else tr.text,
                    confidence=round(tr.confidence, 3), engine=engine, decode_s=round(waited, 3),
                    barge_in=utt.during_prompt, ended_by=utt.ended_by, **more, **secret)
        return tr.text, tr.confidence, alternatives

    def _user_input(self, listen: Listen, ui: UserInput) -> UserInput:
        if ui.dtmf and not ui.text:
            self.latency.keyed(ui.timestamp)
        # The one secrecy rule: the step's own flag (Listen.secret), never a guess from the slot name.
        text, dtmf = (masked(ui.text), masked(ui.dtmf)) if listen.secret else (ui.text, ui.dtmf)
        self._event("turn", slot=listen.slot, slot_kind=listen.kind, text=text, dtmf=dtmf,
                    confidence=round(ui.confidence, 3), **({"secret": True} if listen.secret else {}))
        if ui.text or ui.dtmf:
            self.transcript.append({"at": self.call_time(ui.timestamp), "speaker": "caller",
                                    "text": text or f"[DTMF {dtmf}]", "confidence": ui.confidence})
        return ui

    async def _backend(self, action: CallBackend) -> ActionResult:
        t0 = self.clock.now()
        result = await run_backend(self.backends, action, self.clock, self.offload, self.config.backend_timeout_s,
                                   call_id=self.record.call_id)
        self.latency.backend(self.clock.now() - t0)
        self._event("action", name=action.name, ok=result.ok, error=result.error,
                    seconds=round(self.clock.now() - t0, 3))
        return result

    async def _enqueue(self, action: Transfer) -> Any:
        assert self.queue is not None, "enqueue without a handoff queue"
        # shielded: cancelling this call mid-enqueue must not lose a ticket the store (a thread) still makes;
        # one that arrives after the call ended is withdrawn (_tell_handoff)
        job = self._enqueuing = asyncio.ensure_future(self.queue.enqueue(self.state, action, self.transcript))
        ticket = await asyncio.shield(job)
        if self._enqueuing is not job:  # the call ended meanwhile: the ticket is being withdrawn
            return ticket
        self._outcome = "handed_off"
        self.metrics.handoffs.labels(action.queue).inc()
        return ticket

    async def _transfer(self, action: Transfer) -> str:
        if self.queue is None:  # an offline run (ivr run/demo): note where the call would go, and end it
            self._outcome = "handed_off"
            self._event("transfer", queue=action.queue, reason=action.reason, ticket=None)
            return "transferred"
        line = self._outage_line()
        queue = self.queue
        async def withdraw(ticket: Any) -> None:  # queued after all, but the caller was told to call back
            self._outcome = "failed"
            await queue.handoff.cancel(ticket, "store_outage")

        ok, _ = await line.run(lambda: self._enqueue(action), late=withdraw)
        if not ok:
            return await self._store_fallback()
        c = self.config
        held = await self.queue.hold(self.say, str(_get(self.state, "language", "") or "zh-TW"),
                                     c.hold_announce_every_s, c.hold_poll_s, c.max_hold_s, outage=line)
        if held == "store_outage":
            return await self._store_fallback()
        return "transferred"

    def end(self, reason: str = "shutdown") -> None:
        """Stop the call from outside (server shutdown); ``run`` then finishes the record."""
        self._forced_end = reason
        if self._drive_task is not None:
            self._drive_task.cancel()

    async def hand_off_now(self, reason: str = "shutdown") -> None:
        """Used by a draining server: queue this call for an agent now."""
        if self.queue is not None and self._outcome is None:
            await self._enqueue(Transfer(self.config.error_queue, reason=reason))


def _decode_whole(rec: Any, pcm: bytes) -> Any:
    rec.accept(pcm)
    return rec.finish()


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
