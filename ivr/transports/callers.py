"""Simulated callers: the far end of an AudioSocket or media-stream call.

Used by the end-to-end tests, ``bench/calls.py`` and ``bench/soak.py``. A
caller plays a script in real time (20 ms frames) while collecting what the
bot sends back, with the arrival time of every frame, until the bot hangs up
or the script's ``until`` allows no more.

Script steps: ``("audio", int16 array)`` streamed in real time,
``("dtmf", "1234")`` sent out of band (one key per 100 ms of silence),
``("silence", seconds)``, ``("wait_reply", seconds)`` silence until the bot
has started and finished a reply (or ``seconds`` passed), ``("wait_audio",
seconds)`` until it has started one, ``("react", fn)`` where ``fn(result)``
returns the next steps, ``("hangup",)``.
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ivr.audio.g711 import ulaw_decode, ulaw_encode
from ivr.transports.audiosocket import KIND_AUDIO, KIND_DTMF, KIND_HANGUP, KIND_UUID, encode_frame, read_frame

RATE = 8000
FRAME = RATE // 50


@dataclass
class CallerResult:
    call_id: str
    received: list[tuple[float, bytes]] = field(default_factory=list)  # (seconds since start, pcm)
    marks: list[str] = field(default_factory=list)
    clears: int = 0
    hung_up_by_bot: bool = False
    speech_ends: list[float] = field(default_factory=list)  # when each audio step's last frame left
    sent_frames: int = 0
    late_frames: int = 0  # our own sends more than 20 ms late (a loaded machine, not the server)

    def audio(self) -> np.ndarray:
        return np.frombuffer(b"".join(p for _, p in self.received), dtype="<i2")

    def replies(self, gap: float = 0.2) -> list[tuple[float, float]]:
        """(start, end) of each burst of bot audio: frames closer than ``gap``."""
        out: list[list[float]] = []
        for t, pcm in self.received:
            end = t + len(pcm) / 2 / RATE
            if out and t - out[-1][1] < gap:
                out[-1][1] = end
            else:
                out.append([t, end])
        return [(a, b) for a, b in out]

    def reply_latencies(self) -> list[float]:
        """For each speech/DTMF turn: seconds from its end to the first bot audio after it."""
        lat = []
        times = [t for t, _ in self.received]
        for end in self.speech_ends:
            after = [t for t in times if t >= end]
            if after:
                lat.append(after[0] - end)
        return lat


class _Pacer:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.n = 0
        self.late = 0

    async def tick(self) -> None:
        self.n += 1
        due = self.t0 + self.n * 0.02
        delay = due - time.monotonic()
        if delay < -0.02:
            self.late += 1
        await asyncio.sleep(max(0.0, delay))

    def now(self) -> float:
        return time.monotonic() - self.t0


async def _play_script(script: Sequence[tuple], send_audio, send_dtmf, result: CallerResult, pacer: _Pacer,
                       done: asyncio.Event) -> None:
    silence = bytes(FRAME * 2)

    async def frames(samples: np.ndarray) -> None:
        data = np.asarray(samples).astype("<i2").tobytes()  # once per step: cheap enough for 64 callers
        data += bytes(-len(data) % (FRAME * 2))
        for i in range(0, len(data), FRAME * 2):
            if done.is_set():
                return
            await send_audio(data[i:i + FRAME * 2])
            result.sent_frames += 1
            await pacer.tick()

    async def silent(seconds: float) -> None:
        for _ in range(max(1, round(seconds * 50))):
            if done.is_set():
                return
            await send_audio(silence)
            result.sent_frames += 1
            await pacer.tick()

    pending = list(script)
    while pending:
        step = pending.pop(0)
        if done.is_set():
            return
        kind = step[0]
        if kind == "audio":
            await frames(np.asarray(step[1], dtype=np.int16))
            result.speech_ends.append(pacer.now())
        elif kind == "silence":
            await silent(step[1])
        elif kind == "dtmf":
            for d in step[1]:
                await send_dtmf(d)
                await silent(0.1)
            result.speech_ends.append(pacer.now())
        elif kind in ("wait_reply", "wait_audio"):
            # a reply is >= 0.3 s of audio that starts after this step began (not the tail of a
            # prompt just cut off); wait_reply also waits until the bot has been quiet for 0.5 s
            begin, limit = pacer.now(), pacer.now() + step[1]
            while pacer.now() < limit and not done.is_set():
                await silent(0.02)
                new = [(t, p) for t, p in result.received[-400:] if t >= begin + 0.06]
                heard = sum(len(p) for _, p in new) / 2 / RATE
                if heard >= 0.3 and (kind == "wait_audio" or pacer.now() - new[-1][0] > 0.5):
                    break
        elif kind == "react":
            for more in reversed(list(step[1](result))):
                pending.insert(0, more)
        elif kind == "hangup":
            return
        else:
            raise ValueError(f"unknown caller step {kind!r}")
    while not done.is_set():  # a phone line keeps sending until someone hangs up
        await silent(0.02)


async def audiosocket_call(host: str, port: int, script: Sequence[tuple], *, call_id: str | None = None,
                           max_seconds: float = 120.0) -> CallerResult:
    call_id = call_id or str(uuid.uuid4())
    reader, writer = await asyncio.open_connection(host, port)
    result = CallerResult(call_id)
    pacer = _Pacer()
    done = asyncio.Event()
    writer.write(encode_frame(KIND_UUID, uuid.UUID(call_id).bytes))

    async def send_audio(pcm: bytes) -> None:
        writer.write(encode_frame(KIND_AUDIO, pcm))
        if writer.transport.get_write_buffer_size() > 64_000:
            await writer.drain()

    async def send_dtmf(d: str) -> None:
        writer.write(encode_frame(KIND_DTMF, d.encode("ascii")))

    async def receive() -> None:
        try:
            while True:
                kind, payload = await read_frame(reader)
                if kind == KIND_AUDIO:
                    result.received.append((pacer.now(), payload))
                elif kind == KIND_HANGUP:
                    result.hung_up_by_bot = True
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            done.set()

    rx = asyncio.ensure_future(receive())
    try:
        await asyncio.wait_for(_play_script(script, send_audio, send_dtmf, result, pacer, done), max_seconds)
    except (TimeoutError, ConnectionError):
        pass
    finally:
        if not result.hung_up_by_bot and not writer.is_closing():
            try:
                writer.write(encode_frame(KIND_HANGUP))
                await writer.drain()
            except ConnectionError:
                pass
        await asyncio.wait({rx}, timeout=5.0)
        rx.cancel()
        writer.close()
    result.late_frames = pacer.late
    return result


async def websocket_call(url: str, script: Sequence[tuple], *, call_sid: str | None = None,
                         caller: str = "", max_seconds: float = 120.0) -> CallerResult:
    """A Twilio-style media stream: connected, start, media..., stop."""
    from websockets.asyncio.client import connect

    call_sid = call_sid or "CA" + uuid.uuid4().hex
    sid = "MZ" + uuid.uuid4().hex
    result = CallerResult(call_sid)
    pacer = _Pacer()
    done = asyncio.Event()
    stopped = False
    seq = 0

    async with connect(url) as ws:
        async def send(msg: dict) -> None:
            nonlocal seq
            seq += 1
            await ws.send(json.dumps({"sequenceNumber": str(seq), **msg}))

        await send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await send({"event": "start", "streamSid": sid, "start": {
            "streamSid": sid, "callSid": call_sid, "accountSid": "AC0", "tracks": ["inbound"],
            "customParameters": {"caller": caller} if caller else {},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})

        async def send_audio(pcm: bytes) -> None:
            await send({"event": "media", "streamSid": sid, "media": {
                "track": "inbound", "chunk": str(seq), "timestamp": str(int(pacer.now() * 1000)),
                "payload": base64.b64encode(ulaw_encode(np.frombuffer(pcm, "<i2"))).decode("ascii")}})

        async def send_dtmf(d: str) -> None:
            await send({"event": "dtmf", "streamSid": sid, "dtmf": {"track": "inbound_track", "digit": d}})

        async def receive() -> None:
            try:
                async for raw in ws:
                    msg = json.loads(raw)
                    ev = msg.get("event")
                    if ev == "media":
                        pcm = ulaw_decode(base64.b64decode(msg["media"]["payload"])).astype("<i2").tobytes()
                        result.received.append((pacer.now(), pcm))
                    elif ev == "mark":
                        result.marks.append(msg["mark"]["name"])
                        await send({"event": "mark", "streamSid": sid, "mark": msg["mark"]})  # "played"
                    elif ev == "clear":
                        result.clears += 1
                result.hung_up_by_bot = not stopped  # the server closed the stream
            except Exception as e:
                if not type(e).__name__.startswith("ConnectionClosed"):
                    raise
                result.hung_up_by_bot = not stopped
            finally:
                done.set()

        rx = asyncio.ensure_future(receive())
        try:
            await asyncio.wait_for(_play_script(script, send_audio, send_dtmf, result, pacer, done), max_seconds)
        except TimeoutError:
            pass
        except Exception as e:
            if not type(e).__name__.startswith("ConnectionClosed"):
                raise
        if not result.hung_up_by_bot:
            stopped = True
            try:
                await send({"event": "stop", "streamSid": sid, "stop": {"callSid": call_sid}})
            except Exception:  # already closed by the server
                pass
        await asyncio.wait({rx}, timeout=5.0)
        rx.cancel()
    result.late_frames = pacer.late
    return result
