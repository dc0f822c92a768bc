"""Feeding the caller's speech to the recognizer while they talk.

The audio goes to ``accept`` as it arrives, not in one piece at the end of the
turn: a streaming engine is then nearly done when the endpointer calls the
turn over, and Whisper with speculative decoding has usually decoded during
the trailing silence already. One worker per call runs the recognizer calls
in order through ``offload`` (a thread; inline on a virtual clock).
"""
from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from ivr.asr.base import Recognizer
from ivr.frames import MAX_ALTERNATIVES, Transcript

# Number steps ask the recognizer for its n-best: Whisper then decodes with a beam of
# NBEST and offers the next-best transcripts (UserInput.alternatives; the dialog reads
# them where the answer has a strong validity test, see ivr.dialog.extract).
# Measured (issue 11, bench/number_decoding.py, 64 number lines, clean / telephone /
# 10 dB): beam 4's best alone understood dev 24/20/11 and test 22/16/8 against beam 2's
# 24/20/11 and 19/14/8, with fewer wrong values (dev 15 vs 16, test 26 vs 30); beam 5
# lost test lines at 10 dB (6 vs 8). Decoder time 0.67-0.70 -> 0.79-0.82 s a turn.
NBEST_KINDS = frozenset({"digits", "taiwan_id", "date", "amount"})
NBEST = 4


def hypotheses_for(kind: str) -> int:
    """Transcripts to ask of the recognizer at a step of ``kind``."""
    return NBEST if kind in NBEST_KINDS else 1


def next_best(tr: Transcript, kind: str) -> tuple[str, ...]:
    """A number step's next-best transcripts for the dialog, best first (at a
    closed-set step the recognizer's alternatives are its expected phrases ranked
    by the audio, not transcripts: the dialog does not read those)."""
    if not tr.text.strip() or hypotheses_for(kind) == 1:
        return ()
    texts = dict.fromkeys(a.text for a in tr.alternatives if a.text.strip() and a.text != tr.text)
    return tuple(texts)[:MAX_ALTERNATIVES]


class TurnDecoder:
    def __init__(self, offload: Callable[..., Awaitable[Any]],
                 hold: Callable[[asyncio.Future[Any]], None] | None = None) -> None:
        self.offload = offload
        # a decode finishing off the loop (not through ``offload``) is reported here:
        # a virtual clock stands still until it is done (Clock.hold)
        self.hold = hold
        self._next: tuple[str, Recognizer | None] | None = None
        self._active: tuple[str, Recognizer | None] | None = None
        self._q: asyncio.Queue[tuple] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def use(self, engine: str, recognizer: Recognizer | None, kind: str = "free_text") -> None:
        """The recognizer for speech that starts from now on (the next Listen's,
        a step of ``kind``: a number step asks it for its n-best)."""
        if recognizer is not None:
            recognizer.hypotheses = hypotheses_for(kind)
        self._next = (engine, recognizer)

    def _put(self, op: tuple) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())
        self._q.put_nowait(op)

    def begin(self, pcm: bytes) -> None:
        self._active = self._next
        if self._active is not None and pcm:
            self._put(("accept", self._active[1], pcm))

    def audio(self, pcm: bytes) -> None:
        if self._active is not None:
            self._put(("accept", self._active[1], pcm))

    def drop(self) -> None:
        if self._active is not None:
            self._put(("reset", self._active[1]))
        self._active = None

    def peek(self) -> asyncio.Future[Transcript | None] | None:
        """What the turn so far says (``Recognizer.partial``), after the audio
        already given; None outside a turn."""
        if self._active is None:
            return None
        fut: asyncio.Future[Transcript | None] = asyncio.get_running_loop().create_future()
        self._put(("partial", self._active[1], fut))
        return fut

    def end(self, heard: Transcript | None = None, pending: asyncio.Future[Transcript | None] | None = None
            ) -> asyncio.Future[tuple[str, Transcript, float]] | None:
        """The turn is over: a future of (engine, Transcript, seconds the
        caller waited for it). ``heard``: the partial the turn was ended early
        on is its final (the answer the dialog found complete; no second decode).
        ``pending``: a partial of all the turn's speech (the caller said nothing
        after it) is its final once it arrives; ``finish`` only if it brings none."""
        if self._active is None:
            return None
        fut: asyncio.Future[tuple[str, Transcript, float]] = asyncio.get_running_loop().create_future()
        if heard is not None:
            fut.set_result((self._active[0], replace(heard, is_final=True), 0.0))
            self._put(("reset", self._active[1]))
            self._active = None
            return fut
        if pending is not None:  # in order: the next turn's audio waits behind it
            self._put(("settle", self._active[1], fut, self._active[0], time.perf_counter(), pending))
            self._active = None
            return fut
        self._put(("finish", self._active[1], fut, self._active[0], time.perf_counter()))
        self._active = None
        return fut

    async def _work(self) -> None:
        while True:
            op = await self._q.get()
            kind, rec = op[0], op[1]
            try:
                if kind == "accept":
                    await self.offload(rec.accept, op[2])
                elif kind == "reset":
                    await self.offload(rec.reset)
                elif kind == "partial":
                    # snapshot now, in order with the audio; the decode may finish later without
                    # holding up this call's audio (nor a thread) meanwhile
                    later = asyncio.wrap_future(await self.offload(rec.partial_later))
                    if self.hold is not None:
                        self.hold(later)
                    later.add_done_callback(functools.partial(_settle, op[2]))
                elif kind == "settle" and (heard := await _partial_of(op[5])) is not None:
                    await self.offload(rec.reset)
                    if not op[2].done():
                        op[2].set_result((op[3], replace(heard, is_final=True), time.perf_counter() - op[4]))
                else:
                    fut, engine, t_end = op[2], op[3], op[4]
                    tr = await self.offload(rec.finish)
                    if not fut.done():
                        fut.set_result((engine, tr, time.perf_counter() - t_end))
            except Exception as e:  # a recognizer failure fails that turn, not the call's audio path
                if kind in ("finish", "settle") and not op[2].done():
                    op[2].set_exception(e)
                elif kind == "partial" and not op[2].done():
                    op[2].set_result(None)  # no partial: the turn just waits for its full silence

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()


async def _partial_of(pending: asyncio.Future[Transcript | None]) -> Transcript | None:
    try:
        return await asyncio.shield(pending)
    except Exception:  # no partial after all: the turn is decoded whole
        return None


def _settle(peek: asyncio.Future[Transcript | None], decoded: asyncio.Future[Transcript | None]) -> None:
    if peek.done():
        return
    if decoded.cancelled() or decoded.exception() is not None:
        peek.set_result(None)  # no partial: the turn just waits for its full silence
    else:
        peek.set_result(decoded.result())
