"""A WebSocket media stream compatible with Twilio Media Streams.

Inbound JSON text messages: ``connected``, ``start`` (streamSid, callSid,
customParameters, mediaFormat), ``media`` (base64 8 kHz mu-law), ``dtmf``,
``mark`` (our marks echoed once played), ``stop``. Outbound: ``media``
(base64 mu-law, paced at 20 ms), ``mark`` after each prompt, ``clear`` on
barge-in so the far end drops what it has buffered.

Malformed messages (not JSON, nested past any sane depth, missing fields)
are counted and skipped, with rate-limited warnings per connection; only a
stream that never sends ``start`` is closed. If the reader itself fails, the
reason is logged and the call ends through the session like a hangup.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from ivr.audio.g711 import ulaw_decode, ulaw_encode
from ivr.clock import Clock
from ivr.errors import ProtocolError
from ivr.frames import AudioFrame
from ivr.log import LimitedLog, get_logger
from ivr.transports.audiosocket import DTMF_KEYS
from ivr.transports.base import CallInfo, CallTable, SessionFactory
from ivr.transports.channel import PacedSink, StreamSource

if TYPE_CHECKING:
    from ivr.session.metrics import SessionMetrics

log = get_logger(__name__)
RATE = 8000


class MarkingSink(PacedSink):
    """Sends a ``mark`` once a prompt has been sent in full."""

    def __init__(self, *a: Any, mark: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._mark = mark
        self._unmarked = False
        self.marks_sent = 0

    async def write(self, frame: AudioFrame) -> None:
        self._unmarked = True
        await super().write(frame)

    async def flush(self) -> None:
        await super().flush()
        if self._unmarked and not self.closed:
            self._unmarked = False
            self.marks_sent += 1
            await _quiet(self._mark(f"prompt-{self.marks_sent}"))


class MediaStreamServer:
    name = "websocket"

    def __init__(self, factory: SessionFactory, clock: Clock, metrics: SessionMetrics | None = None,
                 calls: CallTable | None = None, start_timeout: float = 10.0) -> None:
        self.factory = factory
        self.clock = clock
        self.metrics = metrics
        self.calls = calls if calls is not None else {}
        self.start_timeout = start_timeout
        self.server: Any = None
        self._warn: dict[str, LimitedLog] = {}  # peer -> its connection's warnings

    async def start(self, host: str, port: int) -> tuple[str, int]:
        from websockets.asyncio.server import serve

        self.server = await serve(self._handle, host, port, max_size=2**20, ping_interval=20)
        return next(iter(self.server.sockets)).getsockname()[:2]

    def close(self) -> None:
        """Stop taking streams; streams in flight run on (the server drains them)."""
        if self.server is not None:
            self.server.close(close_connections=False)

    def _bad(self, peer: str, what: str) -> None:
        if self.metrics is not None:
            self.metrics.protocol_errors.labels("websocket").inc()
        warn = self._warn.get(peer)
        if warn is None:
            log.warning("%s", ProtocolError(what, f"websocket {peer}"))
        else:
            warn.warning(what)

    def _parse(self, raw: Any, peer: str) -> dict | None:
        if not isinstance(raw, str):
            self._bad(peer, "binary message; media streams send JSON text")
            return None
        try:
            msg = json.loads(raw)
        except ValueError as e:
            self._bad(peer, f"message is not JSON ({str(e)[:80]})")
            return None
        except RecursionError:  # [[[[... a million deep: the C parser gives up; the call must not
            self._bad(peer, "message nested too deeply; dropped")
            return None
        if not isinstance(msg, dict) or not isinstance(msg.get("event"), str):
            self._bad(peer, "message has no 'event'")
            return None
        return msg

    async def _handle(self, ws: Any) -> None:
        peer = "{}:{}".format(*tuple(ws.remote_address or ("?", 0))[:2])
        self._warn[peer] = LimitedLog(log, f"websocket {peer}")
        try:
            await self._call(ws, peer)
        except Exception as e:  # one broken call must never take the server down
            if type(e).__name__.startswith("ConnectionClosed"):
                return
            log.exception("websocket %s: call handler failed: %s", peer, e)
        finally:
            self._warn.pop(peer).close()

    async def _wait_start(self, ws: Any, peer: str) -> dict | None:
        async for raw in ws:
            msg = self._parse(raw, peer)
            if msg is None or msg["event"] == "connected":
                continue
            if msg["event"] == "start" and isinstance(msg.get("start"), dict):
                return msg
            self._bad(peer, f"'{msg['event']}' before 'start'; ignored")
        return None

    async def _call(self, ws: Any, peer: str) -> None:
        try:
            start = await asyncio.wait_for(self._wait_start(ws, peer), self.start_timeout)
        except TimeoutError:
            start = None
        if start is None:
            self._bad(peer, "no 'start' message; closing")
            await ws.close(1008, "expected start")
            return
        st = start["start"]
        sid = str(start.get("streamSid") or st.get("streamSid") or "")
        params = {str(k): str(v) for k, v in (st.get("customParameters") or {}).items()} \
            if isinstance(st.get("customParameters"), dict) else {}
        call_id = str(st.get("callSid") or sid or id(ws))
        info = CallInfo(call_id, "websocket", peer, params.get("caller") or params.get("from", ""), params)
        source = StreamSource(RATE, self.clock)

        async def send(frame: AudioFrame) -> None:
            payload = base64.b64encode(ulaw_encode(frame.array())).decode("ascii")
            await ws.send(json.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}}))

        async def mark(name: str) -> None:
            await ws.send(json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": name}}))

        clearing: set[asyncio.Future[None]] = set()  # held until sent: the loop keeps only weak references

        def clear() -> None:
            fut = asyncio.ensure_future(_quiet(ws.send(json.dumps({"event": "clear", "streamSid": sid}))))
            clearing.add(fut)
            fut.add_done_callback(clearing.discard)

        sink = MarkingSink(send, RATE, self.clock, on_clear=clear, mark=mark)
        session = self.factory(info, source, sink)
        self.calls[call_id] = session
        run = asyncio.ensure_future(session.run())
        pump = asyncio.ensure_future(self._pump(ws, source, peer))
        try:
            await asyncio.wait({run, pump}, return_when=asyncio.FIRST_COMPLETED)
            if pump.done():
                if not pump.cancelled() and (exc := pump.exception()) is not None:
                    # never silent: say why the line is being released
                    log.error("websocket %s: stream reader failed (%s: %s); ending the call", peer,
                              type(exc).__name__, str(exc)[:200])
                source.hangup()
            await run
        finally:
            pump.cancel()
            sink.close()
            self.calls.pop(call_id, None)
        await _quiet(ws.close(1000, "call ended"))

    async def _pump(self, ws: Any, source: StreamSource, peer: str) -> None:
        try:
            async for raw in ws:
                msg = self._parse(raw, peer)
                if msg is None:
                    continue
                ev = msg["event"]
                if ev == "media":
                    media: Any = msg.get("media")  # untrusted JSON: checked by the decode below
                    try:
                        pcm = ulaw_decode(base64.b64decode(media["payload"], validate=True)).astype("<i2").tobytes()
                    except (TypeError, KeyError, binascii.Error, ValueError):
                        self._bad(peer, "media message without a base64 'payload'; dropped")
                        continue
                    if isinstance(media, dict) and media.get("track", "inbound") not in ("inbound", "inbound_track"):
                        continue
                    source.push_pcm(pcm)
                elif ev == "dtmf":
                    digit = (msg.get("dtmf") or {}).get("digit") if isinstance(msg.get("dtmf"), dict) else None
                    if not isinstance(digit, str) or len(digit) != 1 or digit not in DTMF_KEYS:
                        self._bad(peer, f"dtmf message with digit {digit!r}; dropped")
                        continue
                    source.push_dtmf(digit)
                elif ev == "stop":
                    return
                elif ev not in ("mark", "connected", "start"):
                    self._bad(peer, f"unknown event '{ev[:40]}'; ignored")
        except Exception as e:
            if not type(e).__name__.startswith("ConnectionClosed"):
                raise


async def _quiet(aw: Any) -> None:
    try:
        await aw
    except Exception:  # the peer is already gone; nothing to tell it
        pass
